// ReplicaHeartbeat: announces this process to the health service's replica registry
// (proto/portunus/health/v1/replicas.proto), so `cluster_status` lists every running replica of
// every service and notices the ones that died. The service runner starts one per process; a
// service never deals with it.
//
// Heartbeats are sent as the internal principal (Basic portunus:<internal.secret>) to
// common.health.address: one at start, then one every interval the health service asks for
// (HeartbeatResponse.next_heartbeat_ms). A clean shutdown deregisters the replica. When the
// health service cannot be reached, the heartbeat is retried after 250 ms, doubling up to the
// default interval, and the failure is logged once per outage, never fatal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace prometheus {
class Registry;
class Counter;
}  // namespace prometheus

namespace portunus {

// Who this process is, as the replica registry shows it.
struct ReplicaIdentity {
  std::string id;        // "<service>-<12 hex digits>", unique per process start
  std::string service;   // "auth"
  std::string hostname;  // the pod or machine name
  int64_t pid = 0;
  std::string address;  // gRPC listen address, "" when none (gateway)
  std::string version;  // this build's version
  absl::Time started_at;
};

// A new identity for this process: a random id, this host's name and pid, this build's version,
// started now.
ReplicaIdentity NewReplicaIdentity(const std::string& service, const std::string& address);

// This build's version ("0.1.0").
const char* PortunusVersion();

// Whether the process is ready, and why not (the runner's Readiness).
struct ReplicaReadiness {
  bool ready = false;
  std::string reason;
};

// Sends the heartbeats of one process on a background thread. Thread-safe. Construct, Start(),
// and Stop() before destruction (the destructor stops without deregistering).
class ReplicaHeartbeat {
 public:
  struct Options {
    std::string health_address;   // common.health.address
    std::string internal_secret;  // internal.secret
    absl::Duration rpc_timeout = absl::Seconds(5);
    // Interval until the health service names one (and while it cannot be reached).
    absl::Duration default_interval = absl::Seconds(5);
    prometheus::Registry* metrics = nullptr;  // optional: portunus_replica_heartbeats_total
  };

  ReplicaHeartbeat(Options options, ReplicaIdentity identity,
                   std::function<ReplicaReadiness()> readiness);
  ~ReplicaHeartbeat();
  ReplicaHeartbeat(const ReplicaHeartbeat&) = delete;
  ReplicaHeartbeat& operator=(const ReplicaHeartbeat&) = delete;

  // Sends the first heartbeat at once (on the background thread), then keeps going.
  void Start();

  // Stops heartbeating and deregisters the replica, waiting for the registry until `deadline`
  // at most. Returns the Deregister outcome (kUnavailable when health cannot be reached).
  absl::Status Stop(absl::Time deadline);

  const ReplicaIdentity& identity() const { return identity_; }

  // Sends one heartbeat now on the caller's thread and returns its outcome; used by the loop.
  absl::Status SendOnce();

 private:
  struct Rpc;
  void Loop();

  const Options options_;
  const ReplicaIdentity identity_;
  const std::function<ReplicaReadiness()> readiness_;
  std::unique_ptr<Rpc> rpc_;
  prometheus::Counter* ok_ = nullptr;
  prometheus::Counter* failed_ = nullptr;

  absl::Mutex mu_;
  absl::Duration interval_ ABSL_GUARDED_BY(mu_);
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration retry_ ABSL_GUARDED_BY(mu_);  // current retry delay after failures
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace portunus
