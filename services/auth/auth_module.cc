#include "services/auth/auth_module.h"

namespace portunus::auth {
namespace {

class AuthModule final : public ServiceModule {};

}  // namespace

void BindAuthConfig(ConfigBinder* binder, AuthConfig* /*config*/) { binder->OwnSection("auth"); }

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& /*runtime*/,
                                                            const AuthConfig& /*config*/) {
  return std::make_unique<AuthModule>();
}

}  // namespace portunus::auth
