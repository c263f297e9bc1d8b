// Settings of the token server, the `auth.token` part of the auth section (bound by
// BindAuthConfig; also read by `portunusctl keys` to find the key directory).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "services/common/config.h"

namespace portunus::auth {

struct TokenConfig {
  std::string issuer;           // auth.token.issuer: the JWT `iss` (registry auth.token.issuer)
  std::string keys_dir;         // auth.token.keys_dir
  std::string algorithm;        // auth.token.algorithm: auto, RS256, RS384, RS512, ES256
  std::string kid_format;       // auth.token.kid_format: libtrust or jwk-thumbprint
  bool x5c = true;              // auth.token.x5c
  absl::Duration lifetime;      // auth.token.lifetime
  bool reuse = true;            // auth.token.reuse
  int reuse_cache_size = 0;     // auth.token.reuse_cache_size
  absl::Duration keys_reload_interval;    // auth.token.keys_reload_interval
  absl::Duration refresh_token_lifetime;  // auth.token.refresh_token_lifetime
};

// Binds the auth.token.* keys (does not own the `auth` section: BindAuthConfig does).
void BindTokenConfig(ConfigBinder* binder, TokenConfig* config);

}  // namespace portunus::auth
