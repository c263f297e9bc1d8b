#include "services/gateway/gateway_module.h"

namespace portunus::gateway {
namespace {

class GatewayModule final : public ServiceModule {};

}  // namespace

void BindGatewayConfig(ConfigBinder* binder, GatewayConfig* /*config*/) {
  binder->OwnSection("gateway");
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& /*runtime*/,
                                                            const GatewayConfig& /*config*/) {
  return std::make_unique<GatewayModule>();
}

}  // namespace portunus::gateway
