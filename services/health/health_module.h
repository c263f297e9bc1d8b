// The health service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::health {

// Settings of the `health` section (see health_module.cc for every key).
struct HealthConfig {};

// Binds the `health` section's keys into *config and owns the section.
void BindHealthConfig(ConfigBinder* binder, HealthConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const HealthConfig& config);

}  // namespace portunus::health
