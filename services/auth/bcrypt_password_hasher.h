// BcryptPasswordHasher: bcrypt ($2b$) through libxcrypt's crypt_gensalt_rn/crypt_rn, verified
// facts in ../shared/RPM-AND-BCRYPT.md §8. Hashes made by Portus (devise, $2a$) and by PHP or
// htpasswd ($2y$) verify too.
//
// bcrypt only reads the first 72 bytes of its input. So that two long passwords differing after
// byte 72 are not interchangeable, a password longer than 72 bytes is first reduced to
// "$sha256$" + base64url(SHA-256(password)) (51 bytes) and that is hashed. Passwords of up to 72
// bytes, the usual case, are hashed as they are and stay compatible with other bcrypt tools.
#pragma once

#include <string>

#include "services/auth/password_hasher.h"

namespace portunus::auth {

// Thread-safe (each call uses its own crypt_data).
class BcryptPasswordHasher final : public PasswordHasher {
 public:
  // `cost` 4-31 (each step doubles the time; 10 is ~57 ms here).
  explicit BcryptPasswordHasher(int cost);

  absl::StatusOr<std::string> Hash(absl::string_view password) override;
  bool Verify(absl::string_view password, absl::string_view hash) override;
  void VerifyDummy(absl::string_view password) override;

 private:
  const int cost_;
  std::string dummy_hash_;  // a hash of a random password at `cost_`
};

}  // namespace portunus::auth
