// FakeTokenSigner: a TokenSigner for tests that records claims instead of signing.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/token_signer.h"

namespace portunus::auth {

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
