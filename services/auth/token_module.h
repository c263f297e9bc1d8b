// TokenModule: the token server inside the auth service. It owns the key ring (and the thread
// that re-reads the key directory, so `portunusctl keys rotate` needs no restart), the refresh
// token store, the TokenIssuer and the TokenService gRPC transport. The auth module builds it
// with the identity model's ports (token_ports.h) and forwards its life cycle calls.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/key_ring.h"
#include "services/auth/refresh_token_store.h"
#include "services/auth/token_config.h"
#include "services/auth/token_issuer.h"
#include "services/auth/token_ports.h"
#include "services/common/service_runner.h"

namespace grpc {
class Service;
}

namespace portunus::auth {

class GrpcTokenService;
class JwtSigner;

// Thread-safe. The runtime and ports must outlive the module.
class TokenModule {
 public:
  // kInvalidArgument for settings that cannot work (unknown algorithm or kid format). Missing
  // keys are not an error here: the service reports not ready until they appear.
  static absl::StatusOr<std::unique_ptr<TokenModule>> Create(ServiceRuntime& runtime,
                                                             const TokenConfig& config,
                                                             TokenAuthenticator& authenticator,
                                                             TokenAuthorizer& authorizer);
  ~TokenModule();

  grpc::Service* service();
  TokenIssuer& issuer() { return *issuer_; }
  KeyRing& key_ring() { return *ring_; }

  // Loads the keys (a failure is logged and reported by NotReadyReason) and starts watching the
  // key directory.
  absl::Status Start();
  // Stops the watcher. Idempotent.
  void Stop();
  // "" when tokens can be signed; otherwise why not and how to fix it.
  std::string NotReadyReason() const;

 private:
  TokenModule() = default;
  void WatchLoop();

  ServiceRuntime* runtime_ = nullptr;
  absl::Duration reload_interval_;
  std::unique_ptr<KeyRing> ring_;
  std::unique_ptr<RefreshTokenStore> refresh_tokens_;
  std::unique_ptr<JwtSigner> signer_;
  std::unique_ptr<RandomSource> random_;
  std::unique_ptr<TokenIssuer> issuer_;
  std::unique_ptr<GrpcTokenService> service_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace portunus::auth
