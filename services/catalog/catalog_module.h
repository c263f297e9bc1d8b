// The catalog service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::catalog {

// Settings of the `catalog` section (see catalog_module.cc for every key).
struct CatalogConfig {};

// Binds the `catalog` section's keys into *config and owns the section.
void BindCatalogConfig(ConfigBinder* binder, CatalogConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const CatalogConfig& config);

}  // namespace portunus::catalog
