// The token issuer's view of the identity model: "who is this?" (TokenAuthenticator) and "what
// may they do?" (TokenAuthorizer). They are narrow on purpose: the issuer needs a subject, an
// account id, a per-scope grant and a way to tell that earlier grants are stale, nothing else.
// identity_token_ports.* adapts the identity model (Authenticator, Authorizer) to them; the
// in-memory fakes in fake_token_ports.h serve the issuer's unit tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/auth/scope.h"

namespace portunus::auth {

// Credentials exactly as the client sent them. At most one form is used: authorization, then
// portus_auth, then username/secret. All empty means anonymous.
struct TokenCredentials {
  std::string authorization;  // the HTTP Authorization header value ("Basic ...", "Bearer ...")
  std::string portus_auth;    // Portus's "Portus-Auth: user:token" header value
  std::string username;       // OAuth password grant: the form's username and password
  std::string secret;
  bool empty() const {
    return authorization.empty() && portus_auth.empty() && username.empty() && secret.empty();
  }
};

// Who a token is for.
struct TokenPrincipal {
  enum class Kind { kAnonymous, kUser, kBot, kInternal };
  Kind kind = Kind::kAnonymous;
  int64_t user_id = 0;  // users and bots; 0 otherwise
  std::string name;     // the token subject; "" for anonymous
  bool admin = false;

  bool is_account() const { return kind == Kind::kUser || kind == Kind::kBot; }
  bool operator==(const TokenPrincipal& o) const {
    return kind == o.kind && user_id == o.user_id && name == o.name && admin == o.admin;
  }
};

// Thread-safe implementations.
class TokenAuthenticator {
 public:
  virtual ~TokenAuthenticator() = default;

  // The answer when it needs no I/O (anonymous, a cached success, a malformed header); nullopt
  // when Authenticate must be called on a thread that may block. Never blocks.
  virtual std::optional<absl::StatusOr<TokenPrincipal>> TryAuthenticate(
      const TokenCredentials& credentials) = 0;

  // Verifies credentials; may block (password hashing, database). kUnauthenticated for wrong,
  // disabled or locked credentials without saying which; kUnavailable when the backing store is
  // down.
  virtual absl::StatusOr<TokenPrincipal> Authenticate(const TokenCredentials& credentials) = 0;

  // The account a refresh token was issued to, as it is now. kUnauthenticated when the account
  // was deleted or disabled, or `user_id` now carries another name. May block.
  virtual absl::StatusOr<TokenPrincipal> ActiveAccount(int64_t user_id,
                                                       const std::string& name) = 0;
};

// What an authorizer decided for one requested scope.
struct ScopeGrant {
  std::vector<std::string> granted;  // the actions allowed (possibly more than asked: the
                                     // issuer limits them to the request)
  std::vector<std::pair<std::string, std::string>> denied;  // action, reason in plain words
};

class TokenAuthorizer {
 public:
  virtual ~TokenAuthorizer() = default;
  // True when Authorize may block (it reads the database): call it from a worker thread then.
  virtual bool blocking() const = 0;
  // One grant per scope, in order. kUnavailable when the facts cannot be read right now.
  virtual absl::StatusOr<std::vector<ScopeGrant>> Authorize(
      const TokenPrincipal& principal, const std::vector<ResourceScope>& scopes) = 0;
  // Changes whenever anything that can change a decision changed; earlier grants (reusable
  // tokens) are stale once it moved.
  virtual uint64_t generation() const = 0;
};

}  // namespace portunus::auth
