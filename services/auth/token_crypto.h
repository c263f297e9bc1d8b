// Small cryptographic helpers of the token service: SHA-256, Base64 variants, and a source of
// secure random bytes behind an interface so tests can make token ids and refresh tokens
// predictable. The OpenSSL-backed implementations live in token_crypto.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace portunus::auth {

// The 32-byte SHA-256 digest of `data`.
std::string Sha256(absl::string_view data);

// RFC 4648 §5 base64url without padding (JWS segments, JWK members).
std::string Base64UrlEncode(absl::string_view data);
// Standard base64 with padding (x5c certificates).
std::string Base64Encode(absl::string_view data);
// Lowercase hex.
std::string HexEncode(absl::string_view data);

// Constant-time equality for secrets of equal length; false when the lengths differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Where token ids and refresh tokens come from. Implementations are thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // `n` random bytes.
  virtual std::string Bytes(size_t n) = 0;
};

// The operating system's CSPRNG through OpenSSL's RAND_bytes. Aborts if the CSPRNG fails
// (nothing sensible can be issued without randomness).
class SecureRandom final : public RandomSource {
 public:
  std::string Bytes(size_t n) override;
};

// A deterministic RandomSource for tests: bytes from a counter, so every call differs.
class FakeRandom final : public RandomSource {
 public:
  std::string Bytes(size_t n) override {
    absl::MutexLock lock(&mu_);
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(next_++ * 37 + 11);
    return out;
  }

 private:
  absl::Mutex mu_;
  uint32_t next_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::auth
