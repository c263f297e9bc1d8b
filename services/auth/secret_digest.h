// Small cryptographic helpers for credentials, over OpenSSL: SHA-256 digests of application
// tokens, HMAC-SHA256 keys of the credential cache, random secrets, and constant-time
// comparison. Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace portunus::auth {

// The raw 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// The raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(absl::string_view key, absl::string_view data);

// `n` bytes from OpenSSL's CSPRNG. Aborts if the CSPRNG fails (it never should; a process
// without randomness must not mint secrets).
std::string RandomBytes(size_t n);

// Constant-time equality of two equally long byte strings (CRYPTO_memcmp); false when the
// lengths differ (the length is not secret for fixed-size digests).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// RFC 4648 §5 base64url without padding.
std::string Base64UrlEncode(absl::string_view data);

// RFC 4648 §4 base64 (standard alphabet, '=' padding optional) -> bytes; nullopt on any
// character outside the alphabet or a malformed length.
std::optional<std::string> Base64Decode(absl::string_view text);

// Lower-case hex.
std::string HexEncode(absl::string_view data);

}  // namespace portunus::auth
