// In-memory fakes of the small interfaces the health checks and the transport use: registry
// tokens, serving probes, schema states, callers and the catalog's sync brake. Each answers
// what the test set and records how it was called.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/health/database_check.h"
#include "services/health/registry_check.h"
#include "services/health/service_check.h"
#include "services/health/sync_brake_check.h"

namespace portunus::health {

class FakeRegistryTokenSource final : public RegistryTokenSource {
 public:
  void Set(absl::StatusOr<std::string> token) {
    absl::MutexLock lock(&mu_);
    token_ = std::move(token);
  }
  std::vector<std::string> last_scopes() {
    absl::MutexLock lock(&mu_);
    return scopes_;
  }
  absl::StatusOr<std::string> Token(const std::vector<std::string>& scopes,
                                    absl::Duration /*timeout*/) override {
    absl::MutexLock lock(&mu_);
    scopes_ = scopes;
    return token_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<std::string> token_ ABSL_GUARDED_BY(mu_) = std::string("token");
  std::vector<std::string> scopes_ ABSL_GUARDED_BY(mu_);
};

class FakeServingProber final : public ServingProber {
 public:
  void Set(absl::StatusOr<bool> serving) {
    absl::MutexLock lock(&mu_);
    serving_ = std::move(serving);
  }
  absl::StatusOr<bool> Serving(absl::Duration /*timeout*/) override {
    absl::MutexLock lock(&mu_);
    return serving_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<bool> serving_ ABSL_GUARDED_BY(mu_) = true;
};

class FakeSchemaInspector final : public SchemaInspector {
 public:
  void Set(const std::string& schema, absl::StatusOr<MigrationState> state) {
    states_.erase(schema);
    states_.emplace(schema, std::move(state));
  }
  std::vector<std::string> schemas() const override {
    std::vector<std::string> out;
    for (const auto& [name, state] : states_) out.push_back(name);
    return out;
  }
  absl::StatusOr<MigrationState> Inspect(const std::string& schema) override {
    inspected_.push_back(schema);
    return states_.at(schema);
  }
  const std::vector<std::string>& inspected() const { return inspected_; }

 private:
  std::map<std::string, absl::StatusOr<MigrationState>> states_;
  std::vector<std::string> inspected_;
};

class FakeSyncBrakeSource final : public SyncBrakeSource {
 public:
  void Set(absl::StatusOr<SyncBrakeState> state) {
    absl::MutexLock lock(&mu_);
    state_ = std::move(state);
  }
  absl::StatusOr<SyncBrakeState> Get(absl::Duration /*timeout*/) override {
    absl::MutexLock lock(&mu_);
    return state_;
  }

 private:
  absl::Mutex mu_;
  absl::StatusOr<SyncBrakeState> state_ ABSL_GUARDED_BY(mu_) = SyncBrakeState{};
};

}  // namespace portunus::health
