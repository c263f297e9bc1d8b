// Who is asking for the cluster status, and whether they may see it. The auth service decides
// who a caller is (AccessService.Authenticate, which caches credentials); this service decides
// that only administrators and the internal principal may see the cluster (MSR: "requires
// administrator credentials").
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace portunus::health {

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
  // kUnavailable (or another code) when the auth service cannot be asked.
  virtual absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials,
                                              absl::Duration timeout,
                                              const std::string& request_id) = 0;
};

// Over AccessService.Authenticate. The auth service may start after health, stop and come back:
// this never fails for good. Each call connects first (ConnectNow: at once, not after gRPC's
// reconnect backoff), so the first request after auth appears succeeds; while auth is
// unreachable a call answers kUnavailable after at most `connect_wait` (or its timeout).
class GrpcCallerAuthenticator final : public CallerAuthenticator {
 public:
  explicit GrpcCallerAuthenticator(std::shared_ptr<grpc::Channel> auth,
                                   absl::Duration connect_wait = absl::Seconds(2))
      : auth_(std::move(auth)), connect_wait_(connect_wait) {}
  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials, absl::Duration timeout,
                                      const std::string& request_id) override;

 private:
  const std::shared_ptr<grpc::Channel> auth_;
  const absl::Duration connect_wait_;
};

// OK for admins and the internal principal. kUnauthenticated for an anonymous caller,
// kPermissionDenied for anyone else.
absl::Status RequireAdmin(const Caller& caller);

// True when `authorization` is "Basic base64(portunus:<secret>)" with exactly `internal_secret`
// (constant-time comparison). Never true for an empty secret.
bool IsInternalCredential(const std::string& authorization, const std::string& internal_secret);

}  // namespace portunus::health
