#include "services/auth/jwt_signer.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/auth/token_crypto.h"

namespace portunus::auth {

absl::StatusOr<std::string> SignJwt(const SigningKey& key, const TokenClaims& claims) {
  std::string token = absl::StrCat(key.encoded_header(), ".", Base64UrlEncode(EncodeClaimsJson(claims)));
  absl::StatusOr<std::string> signature = key.Sign(token);
  if (!signature.ok()) return signature.status();
  absl::StrAppend(&token, ".", Base64UrlEncode(*signature));
  return token;
}

absl::StatusOr<std::string> JwtSigner::Sign(const TokenClaims& claims) {
  std::shared_ptr<const KeySet> keys = ring_.Current();
  if (keys == nullptr) {
    return absl::UnavailableError(absl::StrCat("no token signing key: ", ring_.NotReadyReason()));
  }
  return SignJwt(*keys->active, claims);
}

absl::StatusOr<DecodedJwt> DecodeAndVerifyJwt(absl::string_view token, const KeySet& keys) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string header, payload, signature;
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[0], &header) ||
      !absl::WebSafeBase64Unescape(parts[1], &payload) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return absl::InvalidArgumentError("not a compact JWS");
  }
  DecodedJwt out;
  out.header = nlohmann::json::parse(header, nullptr, false);
  out.claims = nlohmann::json::parse(payload, nullptr, false);
  if (!out.header.is_object() || !out.claims.is_object()) {
    return absl::InvalidArgumentError("the JWS header or payload is not a JSON object");
  }
  const std::string kid = out.header.value("kid", "");
  const SigningKey* key = keys.FindByKid(kid);
  if (key == nullptr) return absl::UnauthenticatedError(absl::StrCat("unknown kid \"", kid, "\""));
  if (out.header.value("alg", "") != JwtAlgorithmName(key->algorithm())) {
    return absl::UnauthenticatedError("the alg does not match the key");
  }
  const absl::string_view signing_input =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  absl::Status verified = key->Verify(signing_input, signature);
  if (!verified.ok()) return verified;
  return out;
}

}  // namespace portunus::auth
