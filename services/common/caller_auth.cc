#include "services/common/caller_auth.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "services/common/channel_connect.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus {
namespace {

Caller FromProto(const auth::v1::Principal& p) {
  Caller c;
  switch (p.kind()) {
    case auth::v1::Principal::USER:
      c.kind = Caller::Kind::kUser;
      break;
    case auth::v1::Principal::BOT:
      c.kind = Caller::Kind::kBot;
      break;
    case auth::v1::Principal::INTERNAL:
      c.kind = Caller::Kind::kInternal;
      break;
    default:
      c.kind = Caller::Kind::kAnonymous;
  }
  c.user_id = p.user_id();
  c.name = p.name();
  c.admin = p.admin();
  return c;
}

absl::Status AuthUnavailable(absl::string_view why) {
  return absl::UnavailableError(absl::StrCat("cannot check credentials: auth service: ", why));
}

}  // namespace

absl::StatusOr<Caller> GrpcCallerAuthenticator::Authenticate(const CallerCredentials& credentials,
                                                             absl::Duration timeout,
                                                             const std::string& request_id) {
  if (credentials.authorization.empty() && credentials.portus_auth.empty()) return Caller{};
  if (IsInternalCredential(credentials.authorization, options_.internal_secret)) {
    return Caller::Internal();
  }
  if (options_.connect_wait > absl::ZeroDuration()) {
    const absl::Time started = absl::Now();
    if (absl::Status connected = ConnectNow(*auth_, std::min(timeout, options_.connect_wait));
        !connected.ok()) {
      return AuthUnavailable(connected.message());
    }
    timeout = std::max(absl::Milliseconds(1), timeout - (absl::Now() - started));
  }
  auto stub = auth::v1::AccessService::NewStub(auth_);
  auth::v1::AuthenticateRequest req;
  if (!credentials.authorization.empty()) {
    req.mutable_credentials()->set_authorization(credentials.authorization);
  } else {
    req.mutable_credentials()->set_portus_auth(credentials.portus_auth);
  }
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, timeout, request_id);
  auth::v1::AuthenticateResponse resp;
  const grpc::Status s = stub->Authenticate(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    if (status.code() == absl::StatusCode::kUnauthenticated ||
        status.code() == absl::StatusCode::kInvalidArgument) {
      return status;
    }
    return AuthUnavailable(status.message().empty() ? absl::StatusCodeToString(status.code())
                                                    : std::string(status.message()));
  }
  return FromProto(resp.principal());
}

absl::Status RequireAdmin(const Caller& caller, absl::string_view what) {
  if (caller.anonymous()) {
    return absl::UnauthenticatedError(absl::StrCat(what, " requires administrator credentials"));
  }
  if (!caller.privileged()) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " is only for administrators and ", caller.name, " is not one"));
  }
  return absl::OkStatus();
}

bool IsInternalCredential(const std::string& authorization, const std::string& internal_secret) {
  if (internal_secret.empty() || authorization.size() < 6 ||
      !absl::EqualsIgnoreCase(absl::string_view(authorization).substr(0, 6), "basic ")) {
    return false;
  }
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(absl::string_view(authorization).substr(6)),
                            &decoded)) {
    return false;
  }
  const std::string expected = absl::StrCat("portunus:", internal_secret);
  return decoded.size() == expected.size() &&
         CRYPTO_memcmp(decoded.data(), expected.data(), expected.size()) == 0;
}

}  // namespace portunus
