// The scanner service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::scanner {

// Settings of the `scanner` section (see scanner_module.cc for every key).
struct ScannerConfig {};

// Binds the `scanner` section's keys into *config and owns the section.
void BindScannerConfig(ConfigBinder* binder, ScannerConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const ScannerConfig& config);

}  // namespace portunus::scanner
