// portunus-gateway: see gateway_module.h. Everything but wiring lives in gateway_lib.
#include "services/common/service_runner.h"
#include "services/gateway/gateway_module.h"

int main(int argc, char** argv) {
  portunus::gateway::GatewayConfig config;
  portunus::ServiceSpec spec;
  spec.name = "gateway";
  spec.metrics_listen = [](const portunus::CommonConfig& c) { return c.gateway_metrics_listen; };
  spec.bind = [&config](portunus::ConfigBinder* b) {
    portunus::gateway::BindGatewayConfig(b, &config);
  };
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::gateway::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
