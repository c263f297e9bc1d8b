// Who is calling the scanner's gRPC API, and whether they may change what it does. The auth
// service decides who a caller is (AccessService.Authenticate, which caches credentials); the
// scanner decides that only administrators and the internal principal (the catalog, the
// gateway acting for an admin, portunusctl with the internal secret) may queue scans, rescan
// everything or import vulnerability data, as Portus allowed only admins to trigger rescans.
// Reading results is left to the callers, which filter by pull permission before asking
// (scanner.proto).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace portunus::scanner {

struct Caller {
  bool anonymous = true;
  bool admin = false;
  bool internal = false;  // a Portunus service acting as `portunus`
  std::string name;
};

// The caller's credentials as they arrived (gRPC metadata forwarded by the gateway).
struct CallerCredentials {
  std::string authorization;  // "Basic ..." / "Bearer ..."
  std::string portus_auth;    // "user:token"
};

// Thread-safe.
class CallerAuthenticator {
 public:
  virtual ~CallerAuthenticator() = default;
  // kUnauthenticated for wrong credentials (no credentials at all: an anonymous Caller);
  // kUnavailable when the auth service cannot be asked.
  virtual absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials, absl::Duration timeout,
                                              const std::string& request_id) = 0;
};

// Over AccessService.Authenticate. Credentials that are exactly the internal secret
// (Basic portunus:<internal.secret>) are recognised without asking.
class GrpcCallerAuthenticator final : public CallerAuthenticator {
 public:
  GrpcCallerAuthenticator(std::shared_ptr<grpc::Channel> auth, std::string internal_secret)
      : auth_(std::move(auth)), internal_secret_(std::move(internal_secret)) {}
  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials, absl::Duration timeout,
                                      const std::string& request_id) override;

 private:
  const std::shared_ptr<grpc::Channel> auth_;
  const std::string internal_secret_;
};

// OK for admins and the internal principal. kUnauthenticated for an anonymous caller,
// kPermissionDenied (naming `what`) for anyone else.
absl::Status RequireAdmin(const Caller& caller, absl::string_view what);

// True when `authorization` is "Basic base64(portunus:<secret>)" with exactly `internal_secret`
// (constant-time comparison). Never true for an empty secret.
bool IsInternalCredential(const std::string& authorization, const std::string& internal_secret);

}  // namespace portunus::scanner
