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
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::catalog::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
