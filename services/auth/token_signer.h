// TokenSigner turns token claims into a signed compact JWS. It is an interface so TokenIssuer can
// be tested without keys (FakeTokenSigner, fake_token_signer.h); the real one is JwtSigner (jwt_signer.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/auth/token_claims.h"

namespace portunus::auth {

// Implementations are thread-safe.
class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  // "<header>.<payload>.<signature>", base64url segments. kUnavailable when no signing key is
  // loaded (the message says how to create one); kInternal when the crypto library fails.
  virtual absl::StatusOr<std::string> Sign(const TokenClaims& claims) = 0;
};

}  // namespace portunus::auth
