// In-memory CallerAuthenticator for tests: the `authorization` value maps to a Caller; no
// credentials give the anonymous Caller, unknown credentials kUnauthenticated.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "services/common/caller_auth.h"

namespace portunus::testing {

class FakeCallerAuthenticator final : public CallerAuthenticator {
 public:
  void Add(const std::string& authorization, Caller caller) {
    std::lock_guard<std::mutex> lock(mu_);
    callers_[authorization] = std::move(caller);
  }
  // Every call fails with `status` until FailAll(absl::OkStatus()).
  void FailAll(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = std::move(status);
  }
  // Only the next call fails with `status`.
  void FailNextCall(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = std::move(status);
  }

  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials, absl::Duration,
                                      const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fail_all_.ok()) return fail_all_;
    if (!fail_next_.ok()) {
      absl::Status s = fail_next_;
      fail_next_ = absl::OkStatus();
      return s;
    }
    if (credentials.authorization.empty() && credentials.portus_auth.empty()) return Caller{};
    auto it = callers_.find(credentials.authorization);
    if (it == callers_.end()) return absl::UnauthenticatedError("invalid credentials");
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Caller> callers_;
  absl::Status fail_all_;
  absl::Status fail_next_;
};

}  // namespace portunus::testing
