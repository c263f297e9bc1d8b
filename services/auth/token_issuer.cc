#include "services/auth/token_issuer.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

constexpr size_t kRefreshTokenBytes = 32;
constexpr size_t kMaxRefreshTokenLength = 128;

absl::Status InvalidRefreshToken() { return absl::UnauthenticatedError("invalid refresh token"); }

// Length-prefixed fields: no separator a client could smuggle into `service` can make two
// different requests share a key.
std::string ReuseKey(const TokenPrincipal& p, const std::string& service,
                     const std::vector<ResourceScope>& granted) {
  const std::string access = FormatScopes(granted);
  return absl::StrCat(static_cast<int>(p.kind), ":", p.user_id, ":", p.name.size(), ":", p.name,
                      service.size(), ":", service, access.size(), ":", access);
}

absl::string_view KindName(TokenPrincipal::Kind kind) {
  switch (kind) {
    case TokenPrincipal::Kind::kAnonymous:
      return "anonymous";
    case TokenPrincipal::Kind::kUser:
      return "user";
    case TokenPrincipal::Kind::kBot:
      return "bot";
    case TokenPrincipal::Kind::kInternal:
      return "internal";
  }
  return "anonymous";
}

}  // namespace

TokenIssuer::TokenIssuer(Options options, TokenAuthenticator& authenticator,
                         TokenAuthorizer& authorizer, RefreshTokenStore& refresh_tokens,
                         TokenSigner& signer, RandomSource& random, const Clock& clock)
    : options_([&options] {
        options.lifetime = std::max(options.lifetime, kMinLifetime);
        return std::move(options);
      }()),
      authenticator_(authenticator),
      authorizer_(authorizer),
      refresh_tokens_(refresh_tokens),
      signer_(signer),
      random_(random),
      clock_(clock),
      reuse_(options_.reuse ? options_.reuse_capacity : 0) {}

absl::StatusOr<IssuedToken> TokenIssuer::Issue(const TokenRequest& request) {
  std::optional<absl::StatusOr<IssuedToken>> result = Run(request, /*may_block=*/true);
  assert(result.has_value());
  return *std::move(result);
}

std::optional<absl::StatusOr<IssuedToken>> TokenIssuer::TryIssueWithoutBlocking(
    const TokenRequest& request) {
  return Run(request, /*may_block=*/false);
}

std::optional<absl::StatusOr<TokenPrincipal>> TokenIssuer::Principal(const TokenRequest& request,
                                                                    bool may_block) {
  if (request.grant != GrantType::kRefreshToken) {
    std::optional<absl::StatusOr<TokenPrincipal>> fast =
        authenticator_.TryAuthenticate(request.credentials);
    if (fast.has_value()) return fast;
    if (!may_block) return std::nullopt;
    return authenticator_.Authenticate(request.credentials);
  }
  if (!may_block) return std::nullopt;
  const std::string& token = request.refresh_token;
  if (!absl::StartsWith(token, kRefreshTokenPrefix) || token.size() > kMaxRefreshTokenLength) {
    return absl::StatusOr<TokenPrincipal>(InvalidRefreshToken());
  }
  absl::StatusOr<RefreshTokenRecord> record = refresh_tokens_.Find(Sha256(token));
  if (absl::IsNotFound(record.status())) return absl::StatusOr<TokenPrincipal>(InvalidRefreshToken());
  if (!record.ok()) return absl::StatusOr<TokenPrincipal>(record.status());
  const std::string service = request.service.empty() ? options_.service : request.service;
  if (record->expires_at <= clock_.Now() || record->service != service) {
    return absl::StatusOr<TokenPrincipal>(InvalidRefreshToken());
  }
  absl::StatusOr<TokenPrincipal> account =
      authenticator_.ActiveAccount(record->user_id, record->username);
  if (absl::IsUnauthenticated(account.status()) || absl::IsNotFound(account.status())) {
    return absl::StatusOr<TokenPrincipal>(InvalidRefreshToken());
  }
  return account;
}

std::optional<absl::StatusOr<IssuedToken>> TokenIssuer::Run(const TokenRequest& request,
                                                             bool may_block) {
  using Result = absl::StatusOr<IssuedToken>;
  if (request.grant != GrantType::kNone && request.client_id.empty()) {
    return Result(absl::InvalidArgumentError("client_id is required"));
  }
  if (request.grant == GrantType::kPassword && request.credentials.username.empty()) {
    return Result(absl::InvalidArgumentError("username is required for grant_type=password"));
  }
  if (request.grant == GrantType::kRefreshToken && request.refresh_token.empty()) {
    return Result(absl::InvalidArgumentError("refresh_token is required for grant_type=refresh_token"));
  }
  absl::StatusOr<std::vector<ResourceScope>> scopes = ParseScopeList(request.scopes);
  if (!scopes.ok()) return Result(scopes.status());

  std::optional<absl::StatusOr<TokenPrincipal>> principal_or = Principal(request, may_block);
  if (!principal_or.has_value()) return std::nullopt;
  if (!principal_or->ok()) return Result(principal_or->status());
  const TokenPrincipal principal = **principal_or;

  const std::string service = request.service.empty() ? options_.service : request.service;
  const bool new_refresh_token = request.offline_token && principal.is_account() &&
                                 request.grant != GrantType::kRefreshToken;
  if (new_refresh_token && !may_block) return std::nullopt;

  // Read before deciding: if it moves while we decide, the cached entry is already stale.
  const uint64_t generation = authorizer_.generation();
  std::vector<ResourceScope> granted;
  if (service != options_.service) {
    LogWarn(absl::StrCat("token requested for unknown service \"", service,
                         "\": this Portunus issues tokens for service \"", options_.service,
                         "\" (registry.service); the token grants nothing. Make the registry's "
                         "auth.token.service and Portunus's registry.service the same"),
            {{"requested_service", service}, {"configured_service", options_.service},
             {"subject", principal.name}});
  } else if (!scopes->empty()) {
    if (authorizer_.blocking() && !may_block) return std::nullopt;
    absl::StatusOr<std::vector<ScopeGrant>> grants = authorizer_.Authorize(principal, *scopes);
    if (!grants.ok()) return Result(grants.status());
    if (grants->size() != scopes->size()) {
      return Result(absl::InternalError("authorizer answered for a different number of scopes"));
    }
    for (size_t i = 0; i < scopes->size(); ++i) {
      const ResourceScope& asked = (*scopes)[i];
      std::vector<std::string> actions = LimitToRequested(asked.actions, (*grants)[i].granted);
      if (LogEnabled(LogLevel::kDebug)) {
        for (const auto& [action, reason] : (*grants)[i].denied) {
          LogDebug("token scope action denied", {{"subject", principal.name},
                                                 {"scope", FormatScope(asked)},
                                                 {"action", action},
                                                 {"reason", reason}});
        }
      }
      if (!actions.empty()) granted.push_back(ResourceScope{asked.type, asked.name, std::move(actions)});
    }
  }

  const absl::Time now = clock_.Now();
  IssuedToken out;
  out.subject = principal.kind == TokenPrincipal::Kind::kAnonymous ? "" : principal.name;
  out.granted = granted;
  std::string key;
  std::optional<TokenReuseCache::Entry> reused;
  if (options_.reuse) {
    key = ReuseKey(principal, service, granted);
    reused = reuse_.Find(key, now, generation);
  }
  if (reused.has_value()) {
    out.token = std::move(reused->token);
    out.issued_at = reused->issued_at;
    out.expires_at = reused->expires_at;
    out.reused = true;
  } else {
    TokenClaims claims;
    claims.issuer = options_.issuer;
    claims.subject = out.subject;
    claims.audience = service;
    claims.issued_at = now;
    claims.not_before = now - kClockSkew;
    claims.expires_at = now + options_.lifetime;
    claims.jwt_id = HexEncode(random_.Bytes(16));
    claims.access = std::move(granted);
    absl::StatusOr<std::string> jwt = signer_.Sign(claims);
    if (!jwt.ok()) return Result(jwt.status());
    out.token = *std::move(jwt);
    out.issued_at = now;
    out.expires_at = claims.expires_at;
    if (options_.reuse) {
      const absl::Duration keep_left = std::max(options_.lifetime / 2, kMinLifetime);
      reuse_.Put(std::move(key),
                 TokenReuseCache::Entry{out.token, now, out.expires_at, out.expires_at - keep_left,
                                        generation, principal.is_account() ? principal.user_id : 0},
                 now);
    }
  }
  out.expires_in = absl::ToInt64Seconds(out.expires_at - now);

  if (request.offline_token && principal.is_account()) {
    if (request.grant == GrantType::kRefreshToken) {
      out.refresh_token = request.refresh_token;  // still valid: hand the same one back
    } else {
      absl::StatusOr<std::string> refresh =
          NewRefreshToken(principal, service, request.client_id, now);
      if (!refresh.ok()) return Result(refresh.status());
      out.refresh_token = *std::move(refresh);
    }
  }
  if (LogEnabled(LogLevel::kDebug)) {
    LogDebug("token issued", {{"subject", out.subject},
                              {"kind", KindName(principal.kind)},
                              {"account", request.account},
                              {"service", service},
                              {"access", FormatScopes(out.granted)},
                              {"reused", out.reused}});
  }
  return Result(std::move(out));
}

absl::StatusOr<std::string> TokenIssuer::NewRefreshToken(const TokenPrincipal& principal,
                                                         const std::string& service,
                                                         const std::string& client_id,
                                                         absl::Time now) {
  const std::string token =
      absl::StrCat(kRefreshTokenPrefix, Base64UrlEncode(random_.Bytes(kRefreshTokenBytes)));
  RefreshTokenRecord record;
  record.user_id = principal.user_id;
  record.username = principal.name;
  record.service = service;
  record.client_id = client_id.substr(0, 255);
  record.created_at = now;
  record.expires_at = options_.refresh_token_lifetime > absl::ZeroDuration()
                          ? now + options_.refresh_token_lifetime
                          : absl::InfiniteFuture();
  absl::StatusOr<RefreshTokenRecord> created = refresh_tokens_.Create(Sha256(token), record);
  if (!created.ok()) return created.status();
  LogInfo("refresh token issued", {{"subject", principal.name},
                                   {"service", service},
                                   {"client_id", record.client_id},
                                   {"refresh_token_id", created->id}});
  return token;
}

absl::StatusOr<std::vector<RefreshTokenRecord>> TokenIssuer::ListRefreshTokens(int64_t user_id) {
  return refresh_tokens_.ListForUser(user_id);
}

absl::Status TokenIssuer::RevokeRefreshToken(int64_t id, int64_t user_id) {
  return refresh_tokens_.Revoke(id, user_id);
}

absl::StatusOr<int> TokenIssuer::RevokeRefreshTokens(int64_t user_id) {
  return refresh_tokens_.RevokeAllForUser(user_id);
}

}  // namespace portunus::auth
