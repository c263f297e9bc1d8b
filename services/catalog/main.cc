// portunus-catalog: see catalog_module.h. Everything but wiring lives in catalog_lib.
#include "services/common/service_runner.h"
#include "services/catalog/catalog_module.h"
#include "services/catalog/migrations.h"

int main(int argc, char** argv) {
  portunus::catalog::CatalogConfig config;
  portunus::ServiceSpec spec;
  spec.name = "catalog";
  spec.migrations = &portunus::catalog::Migrations();
  spec.endpoint = &portunus::CommonConfig::catalog;
  spec.bind = [&config](portunus::ConfigBinder* b) { portunus::catalog::BindCatalogConfig(b, &config); };
  // Webhook deliveries wait on the group commit in a worker thread: enough threads for many
  // concurrent notifications to share one transaction.
  spec.workers = 32;
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::catalog::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
