#include "services/auth/bcrypt_password_hasher.h"

#include <crypt.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/secret_digest.h"

namespace portunus::auth {
namespace {

constexpr size_t kBcryptMaxInput = 72;

// What bcrypt is fed for `password` (see the header).
std::string BcryptInput(absl::string_view password) {
  if (password.size() <= kBcryptMaxInput) return std::string(password);
  return absl::StrCat("$sha256$", Base64UrlEncode(Sha256(password)));
}

// crypt_rn over `setting` (a salt spec or a full hash); "" on failure.
std::string Crypt(const std::string& input, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(input.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  std::string result = out != nullptr && out[0] != '*' ? std::string(out) : std::string();
  std::memset(data.get(), 0, sizeof(crypt_data));  // the input was a password
  return result;
}

bool IsBcryptHash(absl::string_view hash) {
  return hash.size() == 60 && (absl::StartsWith(hash, "$2b$") || absl::StartsWith(hash, "$2a$") ||
                               absl::StartsWith(hash, "$2y$"));
}

}  // namespace

BcryptPasswordHasher::BcryptPasswordHasher(int cost) : cost_(cost) {
  absl::StatusOr<std::string> h = Hash(HexEncode(RandomBytes(16)));
  if (h.ok()) dummy_hash_ = *h;
}

absl::StatusOr<std::string> BcryptPasswordHasher::Hash(absl::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost_), nullptr, 0, setting,
                       sizeof(setting)) == nullptr) {
    return absl::InternalError(absl::StrCat("crypt_gensalt_rn failed: ", std::strerror(errno)));
  }
  std::string hash = Crypt(BcryptInput(password), setting);
  if (hash.empty()) return absl::InternalError("crypt_rn failed");
  return hash;
}

bool BcryptPasswordHasher::Verify(absl::string_view password, absl::string_view hash) {
  if (!IsBcryptHash(hash)) return false;
  const std::string stored(hash);
  const std::string computed = Crypt(BcryptInput(password), stored);
  return !computed.empty() && ConstantTimeEquals(computed, stored);
}

void BcryptPasswordHasher::VerifyDummy(absl::string_view password) {
  if (!dummy_hash_.empty()) Verify(password, dummy_hash_);
}

}  // namespace portunus::auth
