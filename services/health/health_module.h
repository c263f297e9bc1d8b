// The health service's composition root: binds the `health` configuration section and wires
// the component checks (database, registry, scanner, auth, catalog), the replica registry and
// the gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::health {

// Settings of the `health` section (see health_module.cc for every key).
struct HealthConfig {
  absl::Duration check_interval;        // between two runs of each check
  absl::Duration check_timeout;         // one check's time limit
  absl::Duration heartbeat_interval;    // asked of every replica
  absl::Duration replica_stale_after;   // silent this long: reported
  absl::Duration replica_expire_after;  // silent this long: forgotten
  bool scanner_enabled = false;         // check (and expect) the scanner service
};

// Binds the `health` section's keys into *config and owns the section.
void BindHealthConfig(ConfigBinder* binder, HealthConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const HealthConfig& config);

}  // namespace portunus::health
