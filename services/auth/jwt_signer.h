// JwtSigner: the real TokenSigner. Signs claims with the KeyRing's active key as a compact JWS
// whose header carries the key's alg, kid and x5c (signing_key.h). Also decodes and verifies
// tokens against a key set, for tests and `portunusctl` diagnostics.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/auth/key_ring.h"
#include "services/auth/token_signer.h"

namespace portunus::auth {

// Thread-safe; the ring must outlive the signer.
class JwtSigner final : public TokenSigner {
 public:
  explicit JwtSigner(const KeyRing& ring) : ring_(ring) {}
  // kUnavailable naming the ring's problem when no key is loaded.
  absl::StatusOr<std::string> Sign(const TokenClaims& claims) override;

 private:
  const KeyRing& ring_;
};

// Signs `claims` with `key` (no key ring involved).
absl::StatusOr<std::string> SignJwt(const SigningKey& key, const TokenClaims& claims);

struct DecodedJwt {
  nlohmann::json header;
  nlohmann::json claims;
};

// Splits and decodes a compact JWS and checks its signature with the key of `keys` named by its
// kid. Does not check times, issuer or audience. kInvalidArgument for a malformed token,
// kUnauthenticated for an unknown kid or a bad signature.
absl::StatusOr<DecodedJwt> DecodeAndVerifyJwt(absl::string_view token, const KeySet& keys);

}  // namespace portunus::auth
