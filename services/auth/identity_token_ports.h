// The identity model seen through the token issuer's ports (token_ports.h): IdentityTokenPorts
// adapts the Authenticator (credentials -> Principal), the Authorizer (Portus's access matrix)
// and the identity store (the account behind a refresh token) to TokenAuthenticator and
// TokenAuthorizer, so the issuer stays independent of the identity model's types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/auth/authenticator.h"
#include "services/auth/authorizer.h"
#include "services/auth/identity_store.h"
#include "services/auth/token_ports.h"

namespace portunus::auth {

// Conversions between the identity model and the token ports (exposed for tests).
Credentials ToIdentityCredentials(const TokenCredentials& credentials);
TokenPrincipal ToTokenPrincipal(const Principal& principal);
Principal ToIdentityPrincipal(const TokenPrincipal& principal);

// Thread-safe. Everything passed in must outlive it.
class IdentityTokenPorts final : public TokenAuthenticator, public TokenAuthorizer {
 public:
  IdentityTokenPorts(Authenticator& authenticator, Authorizer& authorizer, IdentityStore& store,
                     const Clock& clock);

  // TokenAuthenticator
  std::optional<absl::StatusOr<TokenPrincipal>> TryAuthenticate(
      const TokenCredentials& credentials) override;
  absl::StatusOr<TokenPrincipal> Authenticate(const TokenCredentials& credentials) override;
  // kUnauthenticated "invalid refresh token" when the account is gone, disabled, locked or
  // renamed; kUnavailable when the store is down.
  absl::StatusOr<TokenPrincipal> ActiveAccount(int64_t user_id, const std::string& name) override;

  // TokenAuthorizer
  bool blocking() const override { return authorizer_.blocking(); }
  absl::StatusOr<std::vector<ScopeGrant>> Authorize(
      const TokenPrincipal& principal, const std::vector<ResourceScope>& scopes) override;
  uint64_t generation() const override { return authorizer_.generation(); }

 private:
  Authenticator& authenticator_;
  Authorizer& authorizer_;
  IdentityStore& store_;
  const Clock& clock_;
};

}  // namespace portunus::auth
