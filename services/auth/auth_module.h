// The auth service's composition root: binds its configuration (the `auth` section plus
// Portus's top-level `user_permission`, `delete` and `anonymous_browsing` keys) and wires
// adapters -> domain -> gRPC transport for RunService (services/common/service_runner.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config.h"
#include "services/common/service_runner.h"
#include "services/auth/token_config.h"

namespace portunus::auth {

// Settings of the auth service (see BindAuthConfig in auth_module.cc for every key).
struct AuthConfig {
  // auth.*
  int bcrypt_cost = 10;
  int lockout_max_attempts = 10;
  absl::Duration lockout_duration = absl::Minutes(10);
  int max_application_tokens = 5;
  absl::Duration credential_cache_ttl = absl::Seconds(60);
  int64_t credential_cache_max_entries = 100000;
  bool authorization_cache = true;
  // Portus's user_permission.*, delete.* and anonymous_browsing.*
  bool change_visibility = true;
  bool create_team = true;
  bool manage_team = true;
  bool create_namespace = true;
  bool manage_namespace = true;
  std::string push_policy = "allow-teams";
  bool delete_enabled = false;
  bool delete_contributors = false;
  bool anonymous_browsing = true;
  TokenConfig token;  // auth.token.*
};

// Binds the keys into *config; owns the sections `auth` and `user_permission`.
void BindAuthConfig(ConfigBinder* binder, AuthConfig* config);

// Builds the module. The runtime and config must outlive it.
absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const AuthConfig& config);

}  // namespace portunus::auth
