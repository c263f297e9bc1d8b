// FakeRefreshTokenStore: an in-memory RefreshTokenStore for tests, with a FailNextCall knob.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/auth/refresh_token_store.h"

namespace portunus::auth {

// Thread-safe.
class FakeRefreshTokenStore final : public RefreshTokenStore {
 public:
  void FailNextCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return by_digest_.size();
  }
  // The digests stored (to check that plain tokens are never kept).
  std::vector<std::string> digests() const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const auto& [d, r] : by_digest_) out.push_back(d);
    return out;
  }

  absl::StatusOr<RefreshTokenRecord> Create(const std::string& digest,
                                            const RefreshTokenRecord& record) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    if (by_digest_.count(digest)) return absl::AlreadyExistsError("refresh token exists");
    RefreshTokenRecord r = record;
    r.id = ++next_id_;
    by_digest_[digest] = r;
    return r;
  }
  absl::StatusOr<RefreshTokenRecord> Find(const std::string& digest) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    auto it = by_digest_.find(digest);
    if (it == by_digest_.end()) return absl::NotFoundError("refresh token not found");
    return it->second;
  }
  absl::StatusOr<std::vector<RefreshTokenRecord>> ListForUser(int64_t user_id) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    std::vector<RefreshTokenRecord> out;
    for (const auto& [d, r] : by_digest_) {
      if (r.user_id == user_id) out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
    return out;
  }
  absl::Status Revoke(int64_t id, int64_t user_id) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    for (auto it = by_digest_.begin(); it != by_digest_.end(); ++it) {
      if (it->second.id == id && (user_id == 0 || it->second.user_id == user_id)) {
        by_digest_.erase(it);
        return absl::OkStatus();
      }
    }
    return absl::NotFoundError("refresh token not found");
  }
  absl::StatusOr<int> RevokeAllForUser(int64_t user_id) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    int n = 0;
    for (auto it = by_digest_.begin(); it != by_digest_.end();) {
      if (it->second.user_id == user_id) {
        it = by_digest_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  absl::StatusOr<int> DeleteExpired(absl::Time now) override {
    absl::MutexLock lock(&mu_);
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    int n = 0;
    for (auto it = by_digest_.begin(); it != by_digest_.end();) {
      if (it->second.expires_at < now) {
        it = by_digest_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, RefreshTokenRecord> by_digest_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
