// portunus-auth: see auth_module.h. Everything but wiring lives in auth_lib.
#include "absl/synchronization/mutex.h"
#include "services/auth/auth_module.h"
#include "services/auth/migrations.h"
#include "services/common/service_runner.h"

int main(int argc, char** argv) {
  // Debian's Abseil checks every absl::Mutex lock for lock-order cycles (a debugging aid with a
  // global graph): about 10% of auth's CPU per Authorize decision, mostly inside gRPC's own
  // mutexes (perf, bench/auth_authorize). Lock order is a property of the code, not of the
  // traffic: the unit tests (which do not run this main) keep the detector on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
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
