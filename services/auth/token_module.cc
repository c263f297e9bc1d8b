#include "services/auth/token_module.h"

#include <utility>

#include "services/auth/grpc_token_service.h"
#include "services/auth/jwt_signer.h"
#include "services/auth/pg_refresh_token_store.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

constexpr absl::Duration kExpiredRefreshTokenSweep = absl::Hours(1);

}  // namespace

absl::StatusOr<std::unique_ptr<TokenModule>> TokenModule::Create(ServiceRuntime& runtime,
                                                                 const TokenConfig& config,
                                                                 TokenAuthenticator& authenticator,
                                                                 TokenAuthorizer& authorizer) {
  if (runtime.db == nullptr) return absl::InvalidArgumentError("the token server needs a database");
  SigningKeyOptions key_options;
  if (config.algorithm != "auto") {
    absl::StatusOr<JwtAlgorithm> alg = ParseJwtAlgorithm(config.algorithm);
    if (!alg.ok()) return alg.status();
    key_options.algorithm = *alg;
  }
  absl::StatusOr<KidFormat> kid = ParseKidFormat(config.kid_format);
  if (!kid.ok()) return kid.status();
  key_options.kid_format = *kid;
  key_options.include_x5c = config.x5c;

  auto m = std::unique_ptr<TokenModule>(new TokenModule());
  m->runtime_ = &runtime;
  m->reload_interval_ = config.keys_reload_interval;
  m->ring_ = std::make_unique<KeyRing>(config.keys_dir, key_options, runtime.clock);
  m->refresh_tokens_ = std::make_unique<PgRefreshTokenStore>(*runtime.db);
  m->signer_ = std::make_unique<JwtSigner>(*m->ring_);
  m->random_ = std::make_unique<SecureRandom>();
  TokenIssuer::Options options;
  options.issuer = config.issuer;
  options.service = runtime.common.registry.service;
  options.lifetime = config.lifetime;
  options.reuse = config.reuse;
  options.reuse_capacity = static_cast<size_t>(config.reuse_cache_size);
  options.refresh_token_lifetime = config.refresh_token_lifetime;
  m->issuer_ = std::make_unique<TokenIssuer>(options, authenticator, authorizer, *m->refresh_tokens_,
                                             *m->signer_, *m->random_, runtime.clock);
  m->service_ = std::make_unique<GrpcTokenService>(*m->issuer_, authenticator, runtime);
  return m;
}

TokenModule::~TokenModule() { Stop(); }

grpc::Service* TokenModule::service() { return service_.get(); }

absl::Status TokenModule::Start() {
  absl::Status loaded = ring_->Reload();
  if (!loaded.ok()) {
    LogError("token signing keys not loaded: registry tokens cannot be issued until they are",
             {{"dir", ring_->dir()}, {"error", loaded}});
  }
  watcher_ = std::thread([this] { WatchLoop(); });
  return absl::OkStatus();
}

void TokenModule::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watcher_.joinable()) watcher_.join();
}

std::string TokenModule::NotReadyReason() const { return ring_->NotReadyReason(); }

void TokenModule::WatchLoop() {
  const absl::Duration tick =
      reload_interval_ > absl::ZeroDuration() ? reload_interval_ : kExpiredRefreshTokenSweep;
  absl::Time next_sweep = absl::Now();
  absl::Status last = absl::OkStatus();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      const auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), tick)) return;
    }
    if (reload_interval_ > absl::ZeroDuration()) {
      const std::shared_ptr<const KeySet> before = ring_->Current();
      absl::Status s = ring_->ReloadIfChanged();
      const std::shared_ptr<const KeySet> after = ring_->Current();
      if (after != nullptr && before != nullptr && before->active->kid() != after->active->kid()) {
        // Tokens of the reuse cache carry the previous key: from now on hand out new ones.
        issuer_->ForgetAll();
        LogInfo("token signing key rotated",
                {{"dir", ring_->dir()}, {"key", after->active->name()}, {"kid", after->active->kid()}});
      }
      if (!s.ok() && s.ToString() != last.ToString()) {
        LogError("re-reading the token signing keys failed; still signing with the last good "
                 "keys (if any)",
                 {{"dir", ring_->dir()}, {"error", s}});
      }
      last = s;
    }
    if (absl::Now() >= next_sweep) {
      next_sweep = absl::Now() + kExpiredRefreshTokenSweep;
      absl::StatusOr<int> n = refresh_tokens_->DeleteExpired(runtime_->clock.Now());
      if (n.ok() && *n > 0) LogInfo("expired refresh tokens deleted", {{"count", *n}});
    }
  }
}

}  // namespace portunus::auth
