// Credential helpers the token side's token_crypto.h does not have: HMAC-SHA256 (credential
// cache keys), raw random bytes, and base64 decoding (HTTP Basic). Over OpenSSL; stateless and
// thread-safe. SHA-256, base64url, hex and constant-time comparison are in token_crypto.h.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "services/auth/token_crypto.h"

namespace portunus::auth {

// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// `n` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails (it never should; a process
// without randomness must not mint secrets).
std::string RandomBytes(size_t n);

// RFC 4648 §4 base64 (standard alphabet, '=' padding optional) -> bytes; nullopt on any
// character outside the alphabet or a malformed length.
std::optional<std::string> Base64Decode(absl::string_view text);

}  // namespace portunus::auth
