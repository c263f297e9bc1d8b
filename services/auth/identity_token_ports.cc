#include "services/auth/identity_token_ports.h"

#include <utility>

namespace portunus::auth {

Credentials ToIdentityCredentials(const TokenCredentials& c) {
  Credentials out;
  out.authorization = c.authorization;
  out.portus_auth = c.portus_auth;
  out.username = c.username;
  out.secret = c.secret;
  return out;
}

TokenPrincipal ToTokenPrincipal(const Principal& p) {
  TokenPrincipal out;
  switch (p.kind) {
    case Principal::Kind::kAnonymous: out.kind = TokenPrincipal::Kind::kAnonymous; break;
    case Principal::Kind::kUser: out.kind = TokenPrincipal::Kind::kUser; break;
    case Principal::Kind::kBot: out.kind = TokenPrincipal::Kind::kBot; break;
    case Principal::Kind::kInternal: out.kind = TokenPrincipal::Kind::kInternal; break;
  }
  out.user_id = p.user_id;
  out.name = p.name;
  out.admin = p.admin;
  return out;
}

Principal ToIdentityPrincipal(const TokenPrincipal& p) {
  Principal out;
  switch (p.kind) {
    case TokenPrincipal::Kind::kAnonymous: out.kind = Principal::Kind::kAnonymous; break;
    case TokenPrincipal::Kind::kUser: out.kind = Principal::Kind::kUser; break;
    case TokenPrincipal::Kind::kBot: out.kind = Principal::Kind::kBot; break;
    case TokenPrincipal::Kind::kInternal: out.kind = Principal::Kind::kInternal; break;
  }
  out.user_id = p.user_id;
  out.name = p.name;
  out.admin = p.admin;
  return out;
}

namespace {

absl::StatusOr<TokenPrincipal> Convert(const absl::StatusOr<Principal>& p) {
  if (!p.ok()) return p.status();
  return ToTokenPrincipal(*p);
}

}  // namespace

IdentityTokenPorts::IdentityTokenPorts(Authenticator& authenticator, Authorizer& authorizer,
                                       IdentityStore& store, const Clock& clock)
    : authenticator_(authenticator), authorizer_(authorizer), store_(store), clock_(clock) {}

std::optional<absl::StatusOr<TokenPrincipal>> IdentityTokenPorts::TryAuthenticate(
    const TokenCredentials& credentials) {
  std::optional<absl::StatusOr<Principal>> p =
      authenticator_.TryAuthenticateCached(ToIdentityCredentials(credentials));
  if (!p.has_value()) return std::nullopt;
  return Convert(*p);
}

absl::StatusOr<TokenPrincipal> IdentityTokenPorts::Authenticate(
    const TokenCredentials& credentials) {
  return Convert(authenticator_.Authenticate(ToIdentityCredentials(credentials)));
}

absl::StatusOr<TokenPrincipal> IdentityTokenPorts::ActiveAccount(int64_t user_id,
                                                                 const std::string& name) {
  absl::StatusOr<User> user = store_.GetUser(user_id);
  if (absl::IsNotFound(user.status())) return absl::UnauthenticatedError("invalid refresh token");
  if (!user.ok()) return user.status();
  // A refresh token stands for a login: whatever would refuse the login refuses it too.
  if (!user->enabled || user->username != name ||
      (user->locked_until.has_value() && *user->locked_until > clock_.Now())) {
    return absl::UnauthenticatedError("invalid refresh token");
  }
  return ToTokenPrincipal(user->bot ? Principal::Bot(user->id, user->username)
                                    : Principal::User(user->id, user->username, user->admin));
}

absl::StatusOr<std::vector<ScopeGrant>> IdentityTokenPorts::Authorize(
    const TokenPrincipal& principal, const std::vector<ResourceScope>& scopes) {
  absl::StatusOr<std::vector<ScopeDecision>> decisions =
      authorizer_.Authorize(ToIdentityPrincipal(principal), scopes);
  if (!decisions.ok()) return decisions.status();
  std::vector<ScopeGrant> out;
  out.reserve(decisions->size());
  for (ScopeDecision& d : *decisions) {
    ScopeGrant g;
    g.granted = std::move(d.granted);
    for (Denial& denial : d.denied) g.denied.emplace_back(std::move(denial.action), std::move(denial.reason));
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace portunus::auth
