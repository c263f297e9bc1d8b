// Authenticator: credentials -> Principal. Accepts what Docker clients, Portus clients and
// portunusctl send:
//   - HTTP Basic "user:secret" where secret is the password or an application token;
//   - "Bearer <application token>";
//   - Portus's "Portus-Auth: user:token" header (application tokens only);
//   - a username and secret given separately;
//   - user `portunus` with the internal secret (internal.secret): the internal principal,
//     compared in constant time, never a database account.
// No credentials at all is the anonymous principal. Every failure (unknown user, wrong secret,
// disabled or locked account, bot with a password) is the same kUnauthenticated "invalid
// credentials", taking about as long, so nothing tells which part was wrong. Bots log in only
// with application tokens.
//
// Successes are cached (credential_cache.h); a cached success costs one HMAC and no database
// access. A failed password or token for an existing account counts toward lockout: after
// `max_failed_attempts` failures the account is locked for `lockout` (a locked account is
// refused even with the right secret, and its cached credentials are dropped on every replica).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/auth/credential_cache.h"
#include "services/auth/identity_store.h"
#include "services/auth/password_hasher.h"
#include "services/auth/principal.h"
#include "services/common/clock.h"

namespace portunus::auth {

// Credentials as received. At most one form is used: authorization, then portus_auth, then
// username/secret.
struct Credentials {
  std::string authorization;  // the Authorization header value ("Basic ...", "Bearer ...")
  std::string portus_auth;    // the Portus-Auth header value ("user:token")
  std::string username;       // with `secret`, credentials given as fields
  std::string secret;
  bool empty() const {
    return authorization.empty() && portus_auth.empty() && username.empty() && secret.empty();
  }
};

// The prefix of every application token Portunus mints ("pnt_" + 43 base64url characters).
inline constexpr char kApplicationTokenPrefix[] = "pnt_";

// Thread-safe. Everything passed in must outlive the authenticator.
class Authenticator {
 public:
  struct Options {
    std::string internal_secret;  // "" disables the internal principal
    int max_failed_attempts = 10;
    absl::Duration lockout = absl::Minutes(10);
  };
  Authenticator(Options options, CredentialStore& store, PasswordHasher& hasher,
                CredentialCache& cache, Clock& clock);

  // Verifies `credentials`. May block (database, bcrypt): call it on a worker thread.
  // kUnauthenticated "invalid credentials" on any failure (kUnauthenticated "malformed
  // authorization header" when the header cannot be parsed); kUnavailable when the database is
  // unreachable.
  absl::StatusOr<Principal> Authenticate(const Credentials& credentials);

  // The answer when it needs no I/O: anonymous, the internal principal, a malformed header, or
  // a cached success. nullopt when Authenticate must do the slow path. Never blocks, so it may
  // run on event threads.
  std::optional<absl::StatusOr<Principal>> TryAuthenticateCached(const Credentials& credentials);

  // Cache invalidation, called by the change feed on every replica.
  void ForgetUser(int64_t user_id) { cache_.ForgetUser(user_id); }
  void ForgetAll() { cache_.ForgetAll(); }

 private:
  // Credentials after parsing.
  struct Parsed {
    enum class Form { kAnonymous, kPasswordOrToken, kTokenOnly, kBearer } form;
    std::string user;
    std::string secret;
  };
  absl::StatusOr<Parsed> Parse(const Credentials& credentials) const;
  // The answer without I/O (see TryAuthenticateCached), given parsed credentials and the cache key.
  std::optional<absl::StatusOr<Principal>> FastPath(const Parsed& p, const std::string& key);
  std::string CacheKey(const Parsed& p) const;
  absl::StatusOr<Principal> SlowPath(const Parsed& p);
  absl::StatusOr<Principal> Fail(const LoginRecord& record);
  static Principal PrincipalOf(const LoginRecord& record);

  const Options options_;
  CredentialStore& store_;
  PasswordHasher& hasher_;
  CredentialCache& cache_;
  Clock& clock_;
  const std::string compare_key_;       // random, for comparing the internal secret
  const std::string internal_digest_;   // HMAC(compare_key_, internal secret)
};

}  // namespace portunus::auth
