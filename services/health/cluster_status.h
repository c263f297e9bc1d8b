// The cluster as MSR's /api/v0/meta/cluster_status shows it: every replica with its health, plus
// the current issues an operator should act on, derived from the component checks and the
// replica registry.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/health/component_check.h"
#include "services/health/replica_registry.h"

namespace portunus::health {

struct ClusterIssue {
  // True when a whole component or service is down; false for one replica out of several, for
  // a warning, or for a degraded replica registry.
  bool critical = false;
  std::string description;
};

struct ClusterStatus {
  std::vector<ReplicaView> replicas;
  std::vector<ClusterIssue> issues;
  HealthReport report;
  absl::Time generated_at;
};

// Issues, in this order: failing components (critical), warnings (not critical), a replica
// registry that cannot reach its store (not critical: the local view still works), every
// replica that is stale or not ready (critical when its service has no ready replica left),
// and every service of `expected_services` that has no replica at all (critical).
ClusterStatus BuildClusterStatus(HealthReport report, std::vector<ReplicaView> replicas,
                                 const absl::Status& registry_sync,
                                 const std::vector<std::string>& expected_services, absl::Time now);

}  // namespace portunus::health
