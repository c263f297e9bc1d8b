#include "services/health/health_module.h"

#include <curl/curl.h>

#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/auth/migrations.h"
#include "services/catalog/migrations.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/common/replica_heartbeat.h"
#include "services/common/request_context.h"
#include "services/common/caller_auth.h"
#include "services/health/curl_http_getter.h"
#include "services/health/database_check.h"
#include "services/health/grpc_health_service.h"
#include "services/health/grpc_registry_token_source.h"
#include "services/health/health_monitor.h"
#include "services/health/migrations.h"
#include "services/health/pg_replica_store.h"
#include "services/health/registry_check.h"
#include "services/health/replica_registry.h"
#include "services/health/service_check.h"
#include "services/scanner/migrations.h"

namespace portunus::health {
namespace {

// Label values of portunus_health_replicas: the known services, anything else as "other" (the
// service name comes from clients; labels must stay bounded).
const std::vector<std::string>& KnownServices() {
  static const auto* const kServices =
      new std::vector<std::string>{"auth", "catalog", "scanner", "health", "gateway"};
  return *kServices;
}

class HealthModule final : public ServiceModule {
 public:
  HealthModule(ServiceRuntime& rt, const HealthConfig& config)
      : rt_(rt),
        config_(config),
        started_(rt.clock.Now()),
        auth_channel_(MakeChannel(rt.common.auth.address)),
        catalog_channel_(MakeChannel(rt.common.catalog.address)),
        scanner_channel_(MakeChannel(rt.common.scanner.address)),
        http_(CurlHttpGetter::Options{rt.common.registry.ca_file, rt.common.registry.tls_verify}),
        tokens_(auth_channel_, rt.common.registry.service, rt.common.internal_secret),
        auth_prober_(auth_channel_),
        catalog_prober_(catalog_channel_),
        scanner_prober_(scanner_channel_),
        authenticator_(auth_channel_, GrpcCallerAuthenticator::Options{"", absl::Seconds(2)}),
        store_(*rt.db),
        registry_(ReplicaRegistry::Options{config.heartbeat_interval, config.replica_stale_after,
                                           config.replica_expire_after, 1000},
                  store_, rt.clock),
        self_(NewReplicaIdentity("health", rt.common.health.address)) {
    std::map<std::string, const std::vector<Migration>*> schemas = {
        {"auth", &auth::Migrations()},
        {"catalog", &catalog::Migrations()},
        {"health", &health::Migrations()}};
    if (config.scanner_enabled) schemas["scanner"] = &scanner::Migrations();
    inspector_ = std::make_unique<PgSchemaInspector>(*rt.db, std::move(schemas));

    const ServiceReasonLookup reason = [this](const std::string& service) {
      return registry_.NotReadyReason(service);
    };
    std::vector<std::unique_ptr<ComponentCheck>> checks;
    checks.push_back(std::make_unique<DatabaseCheck>(*inspector_));
    checks.push_back(std::make_unique<RegistryCheck>(rt.common.registry.url, http_, tokens_));
    if (config.scanner_enabled) {
      checks.push_back(std::make_unique<ServiceCheck>("scanner", scanner_prober_, reason));
    }
    checks.push_back(std::make_unique<ServiceCheck>("auth", auth_prober_, reason));
    checks.push_back(std::make_unique<ServiceCheck>("catalog", catalog_prober_, reason));
    monitor_ = std::make_unique<HealthMonitor>(
        HealthMonitor::Options{config.check_interval, config.check_timeout, &rt.metrics.registry()},
        std::move(checks), rt.clock);

    health_service_ = std::make_unique<GrpcHealthService>(GrpcHealthService::Deps{
        *monitor_, registry_, authenticator_, rt.workers, rt.clock, rt.common.rpc_timeout,
        rt.common.internal_secret, [this] { return ExpectedServices(); }});
    registry_service_ =
        std::make_unique<GrpcReplicaRegistryService>(registry_, rt.common.internal_secret);

    auto& replicas = prometheus::BuildGauge()
                         .Name("portunus_health_replicas")
                         .Help(
                             "Replicas known to the replica registry, by service and state "
                             "(ready, not_ready, stale, stopped).")
                         .Register(rt.metrics.registry());
    std::vector<std::string> services = KnownServices();
    services.push_back("other");
    for (const std::string& service : services) {
      for (const char* state : {"ready", "not_ready", "stale", "stopped"}) {
        replica_gauges_[{service, state}] = &replicas.Add({{"service", service}, {"state", state}});
      }
    }
  }

  std::vector<grpc::Service*> GrpcServices() override {
    return {health_service_.get(), registry_service_.get()};
  }

  absl::Status Start() override {
    monitor_->Start();
    replicas_thread_ = std::thread([this] { ReplicaLoop(); });
    LogInfo("health checks started", {{"interval", config_.check_interval},
                                      {"timeout", config_.check_timeout},
                                      {"replica_id", self_.id}});
    return absl::OkStatus();
  }

  void Stop(absl::Time /*deadline*/) override {
    stop_.Notify();
    if (replicas_thread_.joinable()) replicas_thread_.join();
    registry_.Deregister(self_.id).IgnoreError();  // unknown only if we never heartbeated
    if (absl::Status s = registry_.Sync(); !s.ok()) {
      LogWarn("cannot record this replica's shutdown", {{"error", s.message()}});
    }
    monitor_->Stop();
  }

 private:
  // The health service registers itself in-process, then persists and reads the registry.
  void ReplicaLoop() {
    do {
      ReplicaRecord me;
      me.id = self_.id;
      me.service = self_.service;
      me.hostname = self_.hostname;
      me.pid = self_.pid;
      me.address = self_.address;
      me.version = self_.version;
      me.started_at = self_.started_at;
      me.ready = rt_.readiness.ready();
      if (!me.ready) me.reason = rt_.readiness.reason();
      if (absl::Status s = registry_.Heartbeat(me); !s.ok()) {
        LogWarn("cannot register this replica", {{"error", s.message()}});
      }
      const bool was_ok = last_sync_ok_;
      absl::Status s = registry_.Sync();
      last_sync_ok_ = s.ok();
      if (!s.ok() && was_ok) {
        LogWarn("replica registry cannot reach PostgreSQL; serving this replica's view",
                {{"error", s.message()}});
      } else if (s.ok() && !was_ok) {
        LogInfo("replica registry synchronised again");
      }
      UpdateReplicaGauges();
    } while (!stop_.WaitForNotificationWithTimeout(config_.heartbeat_interval));
  }

  void UpdateReplicaGauges() {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const ReplicaView& v : registry_.Snapshot()) {
      std::string service = "other";
      for (const std::string& s : KnownServices()) {
        if (s == v.record.service) service = s;
      }
      const char* state = v.state == ReplicaState::kReady      ? "ready"
                          : v.state == ReplicaState::kNotReady ? "not_ready"
                          : v.state == ReplicaState::kStale    ? "stale"
                                                               : "stopped";
      ++counts[{service, state}];
    }
    for (auto& [key, gauge] : replica_gauges_) {
      auto it = counts.find(key);
      gauge->Set(it == counts.end() ? 0 : it->second);
    }
  }

  // Until replicas had time to announce themselves, a missing one is not an issue.
  std::vector<std::string> ExpectedServices() const {
    if (rt_.clock.Now() - started_ < config_.replica_stale_after) return {};
    std::vector<std::string> out = {"auth", "catalog", "gateway", "health"};
    if (config_.scanner_enabled) out.push_back("scanner");
    return out;
  }

  ServiceRuntime& rt_;
  const HealthConfig& config_;
  const absl::Time started_;
  std::shared_ptr<grpc::Channel> auth_channel_;
  std::shared_ptr<grpc::Channel> catalog_channel_;
  std::shared_ptr<grpc::Channel> scanner_channel_;
  CurlHttpGetter http_;
  GrpcRegistryTokenSource tokens_;
  GrpcServingProber auth_prober_;
  GrpcServingProber catalog_prober_;
  GrpcServingProber scanner_prober_;
  GrpcCallerAuthenticator authenticator_;
  PgReplicaStore store_;
  ReplicaRegistry registry_;
  const ReplicaIdentity self_;
  std::unique_ptr<PgSchemaInspector> inspector_;
  std::unique_ptr<HealthMonitor> monitor_;
  std::unique_ptr<GrpcHealthService> health_service_;
  std::unique_ptr<GrpcReplicaRegistryService> registry_service_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> replica_gauges_;
  absl::Notification stop_;
  std::thread replicas_thread_;
  bool last_sync_ok_ = true;  // replicas thread only
};

}  // namespace

void BindHealthConfig(ConfigBinder* b, HealthConfig* c) {
  b->OwnSection("health");
  b->Duration("health.check_interval", &c->check_interval, absl::Seconds(5),
              "How often each health check runs (database, registry, services); requests are "
              "answered from the last results.")
      .Range(100, 3600000);
  b->Duration("health.check_timeout", &c->check_timeout, absl::Seconds(3),
              "Time limit of one health check; a check running longer is reported as failing.")
      .Range(100, 600000);
  b->Duration("health.heartbeat_interval", &c->heartbeat_interval, absl::Seconds(5),
              "How often every replica of every service sends a heartbeat to the replica "
              "registry.")
      .Range(100, 300000);
  b->Duration("health.replica_stale_after", &c->replica_stale_after, absl::Seconds(15),
              "A replica silent for this long is reported in cluster_status (at least twice "
              "the heartbeat interval).")
      .Range(200, 3600000)
      .Check([c] {
        return c->replica_stale_after < 2 * c->heartbeat_interval
                   ? "must be at least twice health.heartbeat_interval"
                   : "";
      });
  b->Duration("health.replica_expire_after", &c->replica_expire_after, absl::Minutes(10),
              "A replica silent (or stopped) for this long is forgotten.")
      .Range(1000, 30LL * 24 * 3600 * 1000)
      .Check([c] {
        return c->replica_expire_after <= c->replica_stale_after
                   ? "must be longer than health.replica_stale_after"
                   : "";
      });
  b->Bool("health.scanner_enabled", &c->scanner_enabled, false,
          "Check the scanner service and report it as the `scanner` component (enable when the "
          "scanner is deployed).");
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const HealthConfig& config) {
  if (runtime.db == nullptr) return absl::FailedPreconditionError("health needs a database");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return std::make_unique<HealthModule>(runtime, config);
}

}  // namespace portunus::health
