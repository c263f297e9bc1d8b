// Where the replica registry keeps what every replica last announced, shared by all health
// replicas (PgReplicaStore: table health.replicas). FakeReplicaStore (fake_replica_store.h) is
// the in-memory one for tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::health {

// What a replica last announced, and when a health replica heard it.
struct ReplicaRecord {
  std::string id;       // "auth-f2277ad178f7"
  std::string service;  // "auth"
  std::string hostname;
  int64_t pid = 0;
  std::string address;  // gRPC listen address, "" when none
  std::string version;
  absl::Time started_at = absl::UnixEpoch();
  absl::Time last_heartbeat = absl::UnixEpoch();  // health's clock, not the replica's
  bool ready = false;
  std::string reason;    // why not ready
  bool stopped = false;  // deregistered after a clean shutdown

  bool operator==(const ReplicaRecord& o) const {
    return id == o.id && service == o.service && hostname == o.hostname && pid == o.pid &&
           address == o.address && version == o.version && started_at == o.started_at &&
           last_heartbeat == o.last_heartbeat && ready == o.ready && reason == o.reason &&
           stopped == o.stopped;
  }
};

// Thread-safe.
class ReplicaStore {
 public:
  virtual ~ReplicaStore() = default;
  // Inserts or updates each record by id; a stored record with a newer last_heartbeat wins (two
  // health replicas may hear the same replica). kUnavailable when the store cannot be reached.
  virtual absl::Status Save(const std::vector<ReplicaRecord>& records) = 0;
  // Every stored record. kUnavailable when the store cannot be reached.
  virtual absl::StatusOr<std::vector<ReplicaRecord>> List() = 0;
  // Deletes the records last heard before `cutoff`; returns how many went.
  virtual absl::StatusOr<int64_t> DeleteBefore(absl::Time cutoff) = 0;
};

}  // namespace portunus::health
