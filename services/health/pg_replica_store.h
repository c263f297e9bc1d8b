// ReplicaStore in PostgreSQL (table health.replicas, migrations/0001_replicas.sql).
#pragma once

#include "services/health/replica_store.h"

namespace portunus {
class PgPool;
}

namespace portunus::health {

// Thread-safe. The pool must outlive it.
class PgReplicaStore final : public ReplicaStore {
 public:
  explicit PgReplicaStore(PgPool& pool) : pool_(pool) {}
  absl::Status Save(const std::vector<ReplicaRecord>& records) override;
  absl::StatusOr<std::vector<ReplicaRecord>> List() override;
  absl::StatusOr<int64_t> DeleteBefore(absl::Time cutoff) override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::health
