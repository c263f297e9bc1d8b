// An in-memory ReplicaStore for tests, with a FailNextCall knob (leveldb's SpecialEnv style) and
// a switch that fails every call (a database outage).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/health/replica_store.h"

namespace portunus::health {

class FakeReplicaStore final : public ReplicaStore {
 public:
  absl::Status Save(const std::vector<ReplicaRecord>& records) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Fail(); !s.ok()) return s;
    for (const ReplicaRecord& r : records) {
      auto it = records_.find(r.id);
      if (it == records_.end() || it->second.last_heartbeat <= r.last_heartbeat) records_[r.id] = r;
    }
    ++saves_;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ReplicaRecord>> List() override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Fail(); !s.ok()) return s;
    std::vector<ReplicaRecord> out;
    for (const auto& [id, r] : records_) out.push_back(r);
    return out;
  }
  absl::StatusOr<int64_t> DeleteBefore(absl::Time cutoff) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Fail(); !s.ok()) return s;
    int64_t n = 0;
    for (auto it = records_.begin(); it != records_.end();) {
      if (it->second.last_heartbeat < cutoff) {
        it = records_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

  // The next call fails with `status`.
  void FailNextCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  // Every call fails with `status` until it is OK again.
  void FailAll(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_all_ = std::move(status);
  }
  // Writes a record directly, as another health replica would.
  void PutForTest(const ReplicaRecord& r) {
    absl::MutexLock lock(&mu_);
    records_[r.id] = r;
  }
  std::optional<ReplicaRecord> Get(const std::string& id) {
    absl::MutexLock lock(&mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  int saves() {
    absl::MutexLock lock(&mu_);
    return saves_;
  }

 private:
  absl::Status Fail() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!fail_all_.ok()) return fail_all_;
    if (fail_next_) {
      absl::Status s = *fail_next_;
      fail_next_.reset();
      return s;
    }
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  std::map<std::string, ReplicaRecord> records_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_next_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_all_ ABSL_GUARDED_BY(mu_);
  int saves_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::health
