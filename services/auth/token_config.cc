#include "services/auth/token_config.h"

namespace portunus::auth {

void BindTokenConfig(ConfigBinder* b, TokenConfig* c) {
  b->String("auth.token.issuer", &c->issuer, "portunus",
            "The `iss` of registry tokens; must equal the registry's auth.token.issuer.")
      .Required();
  b->String("auth.token.keys_dir", &c->keys_dir, "/etc/portunus/token-keys",
            "Directory of token signing keys (<name>.key + <name>.crt, and `active`), managed "
            "with `portunusctl keys`; re-read when it changes.")
      .Required();
  b->Enum("auth.token.algorithm", &c->algorithm, "auto",
          {"auto", "RS256", "RS384", "RS512", "ES256"},
          "JWS algorithm; auto: RS256 for RSA keys, ES256 for P-256 keys. An explicit algorithm "
          "must fit the active key.");
  b->Enum("auth.token.kid_format", &c->kid_format, "libtrust", {"libtrust", "jwk-thumbprint"},
          "Format of the JWT `kid`: libtrust (Distribution 2.x) or RFC 7638 jwk-thumbprint "
          "(Distribution 3).");
  b->Bool("auth.token.x5c", &c->x5c, true,
          "Put the signing certificate in the JWT header (x5c), so registries can verify tokens "
          "against their rootcertbundle whatever kid format they expect.");
  b->Duration("auth.token.lifetime", &c->lifetime, absl::Minutes(15),
              "Lifetime of registry tokens (expires_in).")
      .Range(60 * 1000, 24 * 3600 * 1000);
  b->Bool("auth.token.reuse", &c->reuse, true,
          "Answer identical token requests (same principal, service and granted access) with "
          "the same token while at least half of its lifetime remains; dropped whenever "
          "permissions change.");
  b->Int("auth.token.reuse_cache_size", &c->reuse_cache_size, 10000,
         "Most tokens remembered for reuse.")
      .Range(0, 10000000);
  b->Duration("auth.token.keys_reload_interval", &c->keys_reload_interval, absl::Seconds(10),
              "How often the key directory is checked for changes (key rotation needs no "
              "restart); 0 disables the check.")
      .Range(0, 24 * 3600 * 1000);
  b->Duration("auth.token.refresh_token_lifetime", &c->refresh_token_lifetime,
              absl::Hours(24 * 90), "Lifetime of OAuth2 refresh tokens; 0: they never expire.");
}

}  // namespace portunus::auth
