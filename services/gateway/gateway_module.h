// The gateway's composition root: binds the `gateway` configuration section and builds the HTTP
// front door (REST, token endpoint, webhooks) for RunService.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::gateway {

struct GatewayConfig {};

// Binds the `gateway` section's keys into *config and owns the section.
void BindGatewayConfig(ConfigBinder* binder, GatewayConfig* config);

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const GatewayConfig& config);

}  // namespace portunus::gateway
