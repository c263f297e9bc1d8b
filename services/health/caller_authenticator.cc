#include "services/health/caller_authenticator.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"
#include "services/health/channel_connect.h"

namespace portunus::health {

absl::StatusOr<Caller> GrpcCallerAuthenticator::Authenticate(const CallerCredentials& credentials,
                                                             absl::Duration timeout,
                                                             const std::string& request_id) {
  Caller caller;
  if (credentials.authorization.empty() && credentials.portus_auth.empty()) return caller;
  const absl::Time started = absl::Now();
  if (absl::Status connected = ConnectNow(*auth_, std::min(timeout, connect_wait_));
      !connected.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot check credentials: auth service: ", connected.message()));
  }
  timeout = std::max(absl::Milliseconds(1), timeout - (absl::Now() - started));
  auto stub = auth::v1::AccessService::NewStub(auth_);
  auth::v1::AuthenticateRequest req;
  if (!credentials.portus_auth.empty()) {
    req.mutable_credentials()->set_portus_auth(credentials.portus_auth);
  } else {
    req.mutable_credentials()->set_authorization(credentials.authorization);
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
    // Whatever else went wrong is the auth service's problem, not the caller's: retry later.
    return absl::UnavailableError(absl::StrCat("cannot check credentials: auth service: ",
                                               status.message().empty()
                                                   ? absl::StatusCodeToString(status.code())
                                                   : std::string(status.message())));
  }
  const auth::v1::Principal& p = resp.principal();
  caller.anonymous = p.kind() == auth::v1::Principal::ANONYMOUS ||
                     p.kind() == auth::v1::Principal::KIND_UNSPECIFIED;
  caller.internal = p.kind() == auth::v1::Principal::INTERNAL;
  caller.admin = p.admin();
  caller.name = p.name();
  return caller;
}

absl::Status RequireAdmin(const Caller& caller) {
  if (caller.anonymous) {
    return absl::UnauthenticatedError("the cluster status requires administrator credentials");
  }
  if (!caller.admin && !caller.internal) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the cluster status is only for administrators and ", caller.name, " is not one"));
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

}  // namespace portunus::health
