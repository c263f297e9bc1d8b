#include "services/auth/token_crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace portunus::auth {

std::string Sha256(absl::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Base64UrlEncode(absl::string_view data) {
  return absl::WebSafeBase64Escape(data);  // unpadded
}

std::string Base64Encode(absl::string_view data) { return absl::Base64Escape(data); }

std::string HexEncode(absl::string_view data) { return absl::BytesToHexString(data); }

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SecureRandom::Bytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: the system random number generator failed\n");
    std::abort();
  }
  return out;
}

}  // namespace portunus::auth
