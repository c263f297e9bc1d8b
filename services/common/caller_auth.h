// Who is calling a service's gRPC API. The gateway forwards the HTTP caller's credentials as gRPC
// metadata (request_context.h); the auth service decides who they belong to
// (AccessService.Authenticate, which caches credentials), and each service decides what its
// callers may do. One shape for every service that asks (catalog, scanner, health).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace portunus {

struct Caller {
  enum class Kind { kAnonymous, kUser, kBot, kInternal };
  Kind kind = Kind::kAnonymous;
  int64_t user_id = 0;
  std::string name;
  bool admin = false;

  bool anonymous() const { return kind == Kind::kAnonymous; }
  bool internal() const { return kind == Kind::kInternal; }  // a Portunus service as `portunus`
  // Administrators and the internal principal.
  bool privileged() const { return admin || internal(); }

  static Caller User(std::string name, bool admin = false, int64_t user_id = 0) {
    return Caller{Kind::kUser, user_id, std::move(name), admin};
  }
  static Caller Internal() { return Caller{Kind::kInternal, 0, "portunus", false}; }
};

// The caller's credentials as they arrived (gRPC metadata forwarded by the gateway).
struct CallerCredentials {
  std::string authorization;  // "Basic ..." / "Bearer ..."
  std::string portus_auth;    // Portus-Auth "user:token"
};

// Thread-safe.
class CallerAuthenticator {
 public:
  virtual ~CallerAuthenticator() = default;
  // No credentials at all: the anonymous Caller. kUnauthenticated (or kInvalidArgument for
  // malformed ones) for wrong credentials; kUnavailable when the auth service cannot be asked.
  virtual absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials,
                                              absl::Duration timeout,
                                              const std::string& request_id) = 0;
};

// Over AccessService.Authenticate. Any failure other than the caller's wrong or malformed
// credentials is the auth service's problem, not the caller's: kUnavailable ("cannot check
// credentials: auth service: ..."), so the caller may retry.
class GrpcCallerAuthenticator final : public CallerAuthenticator {
 public:
  struct Options {
    // Credentials that are exactly Basic portunus:<internal_secret> are the internal principal,
    // recognised without asking (empty: always ask).
    std::string internal_secret;
    // Above zero: connect first (ConnectNow, channel_connect.h), waiting at most this long, so
    // the first call after the auth service (re)appears works although gRPC's channel is in its
    // reconnect backoff. For callers that must not wait minutes after an auth outage (health).
    absl::Duration connect_wait = absl::ZeroDuration();
  };
  GrpcCallerAuthenticator(std::shared_ptr<grpc::Channel> auth, Options options)
      : auth_(std::move(auth)), options_(std::move(options)) {}
  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials, absl::Duration timeout,
                                      const std::string& request_id) override;

 private:
  const std::shared_ptr<grpc::Channel> auth_;
  const Options options_;
};

// OK for administrators and the internal principal. kUnauthenticated for an anonymous caller
// ("<what> requires administrator credentials"), kPermissionDenied for anyone else ("<what> is
// only for administrators and <name> is not one").
absl::Status RequireAdmin(const Caller& caller, absl::string_view what);

// True when `authorization` is "Basic base64(portunus:<secret>)" with exactly `internal_secret`
// (constant-time comparison). Never true for an empty secret.
bool IsInternalCredential(const std::string& authorization, const std::string& internal_secret);

}  // namespace portunus
