// ReplicaRegistry: which replicas of which services are running, from their heartbeats
// (proto/portunus/health/v1/replicas.proto). A heartbeat only touches memory, so it is cheap
// and works while PostgreSQL is down; Sync(), called every heartbeat interval by the module,
// writes what this health replica heard to the shared store, reads what the other health
// replicas heard, and forgets replicas that expired. Views merge both, newest heartbeat first.
//
// A replica is READY or NOT_READY while it heartbeats, STALE once it has been silent for longer
// than stale_after (it crashed, hangs, or lost the network), STOPPED after a clean shutdown, and
// is forgotten expire_after after its last heartbeat.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/health/replica_store.h"

namespace portunus::health {

enum class ReplicaState { kReady, kNotReady, kStale, kStopped };

// One replica as cluster_status shows it.
struct ReplicaView {
  ReplicaRecord record;
  ReplicaState state = ReplicaState::kReady;
  // "OK", "not ready: <reason>", "no heartbeat for 42s", "stopped" (MSR's replica_health).
  std::string health;
};

// Thread-safe. The store and clock must outlive it.
class ReplicaRegistry {
 public:
  struct Options {
    absl::Duration heartbeat_interval = absl::Seconds(5);  // asked of every replica
    absl::Duration stale_after = absl::Seconds(15);
    absl::Duration expire_after = absl::Minutes(10);
    size_t max_replicas = 1000;  // guards memory against a client inventing ids
  };

  ReplicaRegistry(Options options, ReplicaStore& store, const Clock& clock);

  // Records a heartbeat; `record.last_heartbeat` is set to now (health's clock, so replicas'
  // clock skew does not matter). kInvalidArgument (InvalidFieldError naming replica_id, service,
  // hostname, address, version or not_ready_reason) for a malformed record; kResourceExhausted
  // when max_replicas are already known and this is a new one.
  absl::Status Heartbeat(ReplicaRecord record);

  // Marks a replica as cleanly stopped. kNotFound when the id is unknown.
  absl::Status Deregister(const std::string& id);

  // Writes the heartbeats heard since the last Sync to the store, deletes expired replicas and
  // reads every health replica's view. On a store error the heartbeats stay queued for the next
  // Sync, the local view keeps working, and the error is returned (and kept: last_sync()).
  absl::Status Sync();

  // Every replica not yet expired, ordered by service, then id.
  std::vector<ReplicaView> Snapshot() const;

  // The not-ready reason of the first heartbeating, not-ready replica of `service` ("" if none).
  std::string NotReadyReason(const std::string& service) const;

  // The outcome of the last Sync (OK before the first).
  absl::Status last_sync() const;

  const Options& options() const { return options_; }

 private:
  std::map<std::string, ReplicaRecord> MergedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  ReplicaStore& store_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, ReplicaRecord> local_ ABSL_GUARDED_BY(mu_);   // heard by this replica
  std::map<std::string, ReplicaRecord> stored_ ABSL_GUARDED_BY(mu_);  // last read of the store
  std::set<std::string> pending_ ABSL_GUARDED_BY(mu_);                // ids to write
  absl::Status last_sync_ ABSL_GUARDED_BY(mu_);
};

// Checks a heartbeat's fields (the rules in replicas.proto); InvalidFieldError on the first bad
// one.
absl::Status ValidateReplicaRecord(const ReplicaRecord& record);

}  // namespace portunus::health
