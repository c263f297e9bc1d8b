// The scanner service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"
#include "services/scanner/harbor_adapter.h"
#include "services/scanner/layer_reader.h"

namespace portunus::scanner {

// Settings of the `scanner` section (see BindScannerConfig for every key).
struct ScannerConfig {
  int workers = 2;
  std::string temp_dir;
  // Where images come from: "" = the registry (registry.* settings); a directory = an OCI image
  // layout on this host (local scans, tests).
  std::string oci_layout;
  absl::Duration poll_interval;
  absl::Duration lease;
  int max_attempts = 5;
  absl::Duration retry_backoff;
  LayerLimits limits;
  std::vector<std::string> feeds;
  absl::Duration feed_interval;
  int64_t max_download_size = 0;
  absl::Duration download_timeout;
  // The catalog's new-manifest feed: polled this often (0 = not followed).
  absl::Duration catalog_poll_interval;
  HarborAdapterConfig harbor;  // scanner.harbor_adapter.*
};

// Binds the `scanner` section's keys into *config and owns the section.
void BindScannerConfig(ConfigBinder* binder, ScannerConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const ScannerConfig& config);

// The scanner's version as recorded in results ("portunus-scanner/<version>").
const std::string& ScannerVersion();

}  // namespace portunus::scanner
