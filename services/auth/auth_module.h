// The auth service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::auth {

// Settings of the `auth` section (see auth_module.cc for every key).
struct AuthConfig {};

// Binds the `auth` section's keys into *config and owns the section.
void BindAuthConfig(ConfigBinder* binder, AuthConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const AuthConfig& config);

}  // namespace portunus::auth
