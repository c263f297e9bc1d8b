// The claims of a Docker registry bearer token (distribution docs/spec/auth/jwt.md) and their
// JSON encoding. Pure and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/auth/scope.h"

namespace portunus::auth {

struct TokenClaims {
  std::string issuer;    // iss: must equal the registry's auth.token.issuer
  std::string subject;   // sub: the authenticated principal; "" (anonymous) omits the claim
  std::string audience;  // aud: the registry's service; a JSON string, never an array
  absl::Time issued_at;    // iat
  absl::Time not_before;   // nbf
  absl::Time expires_at;   // exp
  std::string jwt_id;      // jti
  std::vector<ResourceScope> access;  // [{"type","name","actions"}], possibly empty
};

// The claims as compact JSON: {"iss":..,"sub":..,"aud":..,"exp":..,"nbf":..,"iat":..,"jti":..,
// "access":[...]}. Times are whole Unix seconds (rounded down). Strings are escaped so that any
// bytes give valid JSON.
std::string EncodeClaimsJson(const TokenClaims& claims);

}  // namespace portunus::auth
