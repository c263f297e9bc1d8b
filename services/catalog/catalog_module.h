// The catalog service's composition root: binds its configuration section and wires adapters ->
// domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"

namespace portunus::catalog {

// Settings of the `catalog` section (see catalog_module.cc for every key).
struct CatalogConfig {
  std::string webhook_secret;  // the registry sends "Authorization: Bearer <secret>"

  // Event processing.
  int event_workers = 4;
  absl::Duration poll_interval;
  int max_attempts = 10;
  absl::Duration retry_backoff;
  absl::Duration max_backoff;
  absl::Duration retention;         // processed events (and the manifest feed)
  absl::Duration failed_retention;  // failed and rejected events
  absl::Duration pull_interval;     // "last pulled" written at most once per interval per tag
  int ingest_batch = 1000;

  // Catalog API reconciliation.
  bool sync_enabled = true;
  std::string sync_strategy;
  absl::Duration sync_interval;
  int sync_parallelism = 8;
  int sync_page_size = 1000;
  int sync_max_delete_percent = 20;
  int sync_brake_min_deletes = 10;

  // anonymous_browsing.enabled (shared with the rest of Portunus).
  bool anonymous_browsing = true;
};

// Binds the `catalog` section's keys into *config and owns the section.
void BindCatalogConfig(ConfigBinder* binder, CatalogConfig* config);

// Builds the module. The runtime and config must outlive it. kInvalidArgument for registry
// settings that cannot work (unreadable CA file).
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const CatalogConfig& config);

}  // namespace portunus::catalog
