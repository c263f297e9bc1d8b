// TokenSigner turns token claims into a signed compact JWS. It is an interface so TokenIssuer can
// be tested without keys (FakeTokenSigner below); the real one is JwtSigner (jwt_signer.h).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/token_claims.h"

namespace portunus::auth {

// Implementations are thread-safe.
class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  // "<header>.<payload>.<signature>", base64url segments. kUnavailable when no signing key is
  // loaded (the message says how to create one); kInternal when the crypto library fails.
  virtual absl::StatusOr<std::string> Sign(const TokenClaims& claims) = 0;
};

// Records the claims it is asked to sign and returns "fake-token-<n>". Thread-safe.
class FakeTokenSigner final : public TokenSigner {
 public:
  absl::StatusOr<std::string> Sign(const TokenClaims& claims) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) {
      absl::Status s = fail_next_;
      fail_next_ = absl::OkStatus();
      return s;
    }
    signed_.push_back(claims);
    return absl::StrCat("fake-token-", signed_.size());
  }
  void FailNextCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  size_t sign_count() const {
    absl::MutexLock lock(&mu_);
    return signed_.size();
  }
  TokenClaims last_claims() const {
    absl::MutexLock lock(&mu_);
    return signed_.empty() ? TokenClaims{} : signed_.back();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<TokenClaims> signed_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
