// TokenIssuer: the Docker registry token server's logic (distribution docs/spec/auth/token.md and
// oauth.md), independent of HTTP, gRPC and storage.
//
// A request names a service (the registry), scopes and credentials; the answer is a signed JWT
// whose `access` holds, per requested scope, only the actions the identity model allows. A
// denied or partly denied scope is not an error (the spec: the registry then answers 401/403
// itself), an unknown service yields a token with no access and a loud log line, and bad
// credentials fail without saying which part was wrong. The subject is always the authenticated
// principal, never the client's `account`.
//
// It also runs the OAuth2 flow: the password grant, and refresh tokens bound to one account and
// one service, stored hashed, refused once the account is deleted or disabled.
//
// Speed: identical requests within most of a token's lifetime get the same token back (token
// reuse, see token_reuse_cache.h), and TryIssueWithoutBlocking answers everything that needs no
// I/O on the caller's thread (cached credentials, in-memory authorization, signing).
//
// Thread-safe. Every dependency is borrowed and must outlive the issuer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/auth/refresh_token_store.h"
#include "services/auth/scope.h"
#include "services/auth/token_crypto.h"
#include "services/auth/token_ports.h"
#include "services/auth/token_reuse_cache.h"
#include "services/auth/token_signer.h"
#include "services/common/clock.h"

namespace portunus::auth {

// The prefix of every refresh token ("prt_" + 43 base64url characters), so leaked ones are easy
// to recognise.
inline constexpr char kRefreshTokenPrefix[] = "prt_";

enum class GrantType {
  kNone,          // GET /v2/token: credentials from the Authorization header, or anonymous
  kPassword,      // OAuth2 POST grant_type=password: username and password in the form
  kRefreshToken,  // OAuth2 POST grant_type=refresh_token
};

struct TokenRequest {
  TokenCredentials credentials;
  std::string service;              // the audience; "" means the configured service
  std::vector<std::string> scopes;  // raw `scope` values, each possibly space-separated
  std::string account;              // client-supplied; only logged, never the subject
  std::string client_id;            // required by the OAuth2 POST
  bool offline_token = false;       // GET offline_token=true / POST access_type=offline
  GrantType grant = GrantType::kNone;
  std::string refresh_token;        // grant kRefreshToken
};

struct IssuedToken {
  std::string token;
  std::string subject;                 // "" for anonymous
  absl::Time issued_at;
  absl::Time expires_at;
  int64_t expires_in = 0;              // seconds left at the time of the answer
  std::vector<ResourceScope> granted;  // the token's access claim
  std::string refresh_token;           // when asked for (offline) and allowed
  bool reused = false;                 // handed out again from the reuse cache
};

class TokenIssuer {
 public:
  struct Options {
    std::string issuer = "portunus";           // iss; the registry's auth.token.issuer
    std::string service;                       // the registry's auth.token.service
    absl::Duration lifetime = absl::Minutes(15);
    bool reuse = true;                         // hand identical requests the same token
    size_t reuse_capacity = 10000;
    // Refresh tokens expire this long after they are issued; zero: never.
    absl::Duration refresh_token_lifetime = absl::Hours(24 * 90);
  };

  // Smallest lifetime a token may have (the spec's default and minimum expires_in).
  static constexpr absl::Duration kMinLifetime = absl::Seconds(60);
  // nbf is backdated by this much against clock skew between Portunus and the registry.
  static constexpr absl::Duration kClockSkew = absl::Seconds(10);

  TokenIssuer(Options options, TokenAuthenticator& authenticator, TokenAuthorizer& authorizer,
              RefreshTokenStore& refresh_tokens, TokenSigner& signer, RandomSource& random,
              const Clock& clock);

  // Issues a token. May block (password hashing, database): call it on a worker thread.
  //   kInvalidArgument: a malformed scope (named), a missing OAuth2 field, an unsupported grant;
  //   kUnauthenticated: wrong/disabled/locked credentials, or a bad, expired or revoked refresh
  //     token, or one for another service ("invalid credentials" / "invalid refresh token");
  //   kUnavailable: the identity store or the signing keys are not available right now.
  absl::StatusOr<IssuedToken> Issue(const TokenRequest& request);

  // The same answer when it needs no blocking work, else nullopt (then call Issue on a worker).
  std::optional<absl::StatusOr<IssuedToken>> TryIssueWithoutBlocking(const TokenRequest& request);

  // Refresh tokens of an account, newest first.
  absl::StatusOr<std::vector<RefreshTokenRecord>> ListRefreshTokens(int64_t user_id);
  // Revokes one refresh token (user_id 0: of any account). kNotFound.
  absl::Status RevokeRefreshToken(int64_t id, int64_t user_id);
  // Revokes every refresh token of an account; returns how many.
  absl::StatusOr<int> RevokeRefreshTokens(int64_t user_id);

  // Forgets reusable tokens of one account, or all (credentials or permissions changed).
  void ForgetUser(int64_t user_id) { reuse_.ForgetUser(user_id); }
  void ForgetAll() { reuse_.Clear(); }

  const Options& options() const { return options_; }

 private:
  // Issues, or returns nullopt at the first step that would block when !may_block.
  std::optional<absl::StatusOr<IssuedToken>> Run(const TokenRequest& request, bool may_block);
  std::optional<absl::StatusOr<TokenPrincipal>> Principal(const TokenRequest& request,
                                                          bool may_block);
  absl::StatusOr<std::string> NewRefreshToken(const TokenPrincipal& principal,
                                              const std::string& service,
                                              const std::string& client_id, absl::Time now);

  const Options options_;
  TokenAuthenticator& authenticator_;
  TokenAuthorizer& authorizer_;
  RefreshTokenStore& refresh_tokens_;
  TokenSigner& signer_;
  RandomSource& random_;
  const Clock& clock_;
  TokenReuseCache reuse_;
};

}  // namespace portunus::auth
