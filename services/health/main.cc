// portunus-health: see health_module.h. Everything but wiring lives in health_lib.
#include "services/common/service_runner.h"
#include "services/health/health_module.h"
#include "services/health/migrations.h"

int main(int argc, char** argv) {
  portunus::health::HealthConfig config;
  portunus::ServiceSpec spec;
  spec.name = "health";
  spec.migrations = &portunus::health::Migrations();
  spec.endpoint = &portunus::CommonConfig::health;
  spec.send_heartbeats = false;  // the health service registers itself in-process
  spec.bind = [&config](portunus::ConfigBinder* b) {
    portunus::health::BindHealthConfig(b, &config);
  };
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::health::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
