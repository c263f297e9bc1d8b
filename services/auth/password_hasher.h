// PasswordHasher: one-way password storage. An interface so domain tests can count calls;
// the product uses BcryptPasswordHasher (bcrypt_password_hasher.h). Verifying costs tens of
// milliseconds by design: never call it on an event thread.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace portunus::auth {

// Implementations are thread-safe.
class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  // A new hash of `password` with a fresh salt. kInternal if the library fails.
  virtual absl::StatusOr<std::string> Hash(absl::string_view password) = 0;
  // Whether `password` matches `hash`. A malformed hash never matches.
  virtual bool Verify(absl::string_view password, absl::string_view hash) = 0;
  // Spends as long as a Verify against a real hash, and returns nothing: used when the account
  // does not exist, so response times do not tell whether a username exists.
  virtual void VerifyDummy(absl::string_view password) = 0;
};

}  // namespace portunus::auth
