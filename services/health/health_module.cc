#include "services/health/health_module.h"

namespace portunus::health {
namespace {

class HealthModule final : public ServiceModule {};

}  // namespace

void BindHealthConfig(ConfigBinder* binder, HealthConfig* /*config*/) { binder->OwnSection("health"); }

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& /*runtime*/,
                                                            const HealthConfig& /*config*/) {
  return std::make_unique<HealthModule>();
}

}  // namespace portunus::health
