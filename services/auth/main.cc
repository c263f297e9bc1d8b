// portunus-auth: see auth_module.h. Everything but wiring lives in auth_lib.
#include "services/auth/auth_module.h"
#include "services/auth/migrations.h"
#include "services/common/service_runner.h"

int main(int argc, char** argv) {
  portunus::auth::AuthConfig config;
  portunus::ServiceSpec spec;
  spec.name = "auth";
  spec.migrations = &portunus::auth::Migrations();
  spec.endpoint = &portunus::CommonConfig::auth;
  spec.bind = [&config](portunus::ConfigBinder* b) { portunus::auth::BindAuthConfig(b, &config); };
  spec.create = [&config](portunus::ServiceRuntime& rt) {
    return portunus::auth::CreateModule(rt, config);
  };
  return portunus::RunService(spec, argc, argv);
}
