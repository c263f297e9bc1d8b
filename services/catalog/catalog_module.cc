#include "services/catalog/catalog_module.h"

#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/service_type.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "services/catalog/catalog_api.h"
#include "services/catalog/catalog_syncer.h"
#include "services/catalog/event_ingestor.h"
#include "services/catalog/event_processor.h"
#include "services/catalog/event_workers.h"
#include "services/catalog/grpc_access_client.h"
#include "services/catalog/grpc_catalog_service.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/catalog/sync_coordinator.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/common/registry_client.h"
#include "services/common/registry_token_source.h"
#include "services/common/request_context.h"

namespace portunus::catalog {
namespace {

std::string ReplicaName() {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, "/", getpid());
}

class CatalogModule final : public ServiceModule {
 public:
  CatalogModule(ServiceRuntime& rt, const CatalogConfig& config,
                std::unique_ptr<HttpRegistryClient> registry,
                std::unique_ptr<GrpcRegistryTokenSource> tokens)
      : rt_(rt),
        config_(config),
        tokens_(std::move(tokens)),
        registry_(std::move(registry)),
        access_(MakeChannel(rt.common.auth.address), rt.common.internal_secret,
                rt.common.rpc_timeout),
        store_(*rt.db),
        events_(*rt.db),
        runs_(*rt.db),
        lock_(rt.db->dsn()),
        processor_(ProcessorOptions(config), events_, *registry_, access_, rt.clock),
        workers_(WorkerOptions(config, rt), processor_, events_, rt.clock),
        listener_(rt.db->dsn(), [this] { workers_.Wake(); }),
        ingestor_(EventIngestor::Options{config.webhook_secret,
                                         static_cast<size_t>(config.ingest_batch), 2},
                  events_),
        syncer_(SyncerOptions(config), store_, *registry_, access_, rt.clock),
        sync_(CoordinatorOptions(config, rt), syncer_, runs_, lock_, store_, rt.clock),
        api_(CatalogApi::Options{config.anonymous_browsing, 3}, store_, *registry_, access_,
             rt.clock) {
    CatalogTransportDeps deps{rt, api_, ingestor_, events_, processor_, sync_, rt.clock};
    catalog_service_ = MakeCatalogGrpcService(deps);
    event_service_ = MakeEventGrpcService(deps);
    sync_service_ = MakeSyncGrpcService(deps);

    auto& gauges = prometheus::BuildGauge()
                       .Name("portunus_catalog_events")
                       .Help("Registry events in the queue by status")
                       .Register(rt.metrics.registry());
    pending_ = &gauges.Add({{"status", "pending"}});
    failed_ = &gauges.Add({{"status", "failed"}});
    rejected_ = &gauges.Add({{"status", "rejected"}});
    oldest_ = &prometheus::BuildGauge()
                   .Name("portunus_catalog_oldest_pending_event_seconds")
                   .Help("Age of the oldest pending registry event (0 when none)")
                   .Register(rt.metrics.registry())
                   .Add({});
    brake_ = &prometheus::BuildGauge()
                  .Name("portunus_catalog_sync_brake_engaged")
                  .Help("1 while the sync safety brake withholds deletions")
                  .Register(rt.metrics.registry())
                  .Add({});
    processed_ = &prometheus::BuildGauge()
                      .Name("portunus_catalog_events_processed")
                      .Help("Events processed by this replica since it started (by outcome)")
                      .Register(rt.metrics.registry())
                      .Add({{"outcome", "any"}});
  }

  std::vector<grpc::Service*> GrpcServices() override {
    return {catalog_service_.get(), event_service_.get(), sync_service_.get()};
  }

  absl::Status Start() override {
    if (config_.webhook_secret.empty()) {
      LogWarn("catalog.webhook_secret is empty: registry notifications will be refused (401)");
    }
    if (config_.event_workers > 0) {
      listener_.Start();
      workers_.Start();
    } else {
      LogWarn("catalog.events.workers is 0: this replica stores registry events but applies "
              "none; they wait for a replica with workers");
    }
    sync_.Start();
    maintenance_ = std::thread([this] { Maintain(); });
    return absl::OkStatus();
  }

  void Stop(absl::Time /*deadline*/) override {
    stop_.Notify();
    if (maintenance_.joinable()) maintenance_.join();
    sync_.Stop();
    listener_.Stop();
    workers_.Stop();
  }

 private:
  static EventProcessor::Options ProcessorOptions(const CatalogConfig& c) {
    EventProcessor::Options o;
    o.retry.max_attempts = c.max_attempts;
    o.retry.initial_backoff = c.retry_backoff;
    o.retry.max_backoff = c.max_backoff;
    o.pull_min_interval = c.pull_interval;
    return o;
  }
  static EventWorkers::Options WorkerOptions(const CatalogConfig& c, ServiceRuntime& rt) {
    EventWorkers::Options o;
    o.threads = c.event_workers;
    o.poll_interval = c.poll_interval;
    o.ready = [&rt] { return rt.readiness.ready(); };
    return o;
  }
  static CatalogSyncer::Options SyncerOptions(const CatalogConfig& c) {
    CatalogSyncer::Options o;
    o.page_size = c.sync_page_size;
    o.parallelism = c.sync_parallelism;
    o.max_delete_percent = c.sync_max_delete_percent;
    o.brake_min_deletes = c.sync_brake_min_deletes;
    return o;
  }
  static SyncCoordinator::Options CoordinatorOptions(const CatalogConfig& c, ServiceRuntime& rt) {
    SyncCoordinator::Options o;
    o.enabled = c.sync_enabled;
    o.strategy = c.sync_strategy;
    o.interval = c.sync_interval;
    o.replica = ReplicaName();
    o.ready = [&rt] { return rt.readiness.ready(); };
    return o;
  }

  // Retention and gauges.
  void Maintain() {
    absl::Time next_prune = absl::Now() + absl::Minutes(1);
    do {
      if (!rt_.readiness.ready()) continue;
      const absl::Time now = rt_.clock.Now();
      absl::StatusOr<EventQueueStats> st = events_.Stats(now);
      if (st.ok()) {
        pending_->Set(static_cast<double>(st->pending));
        failed_->Set(static_cast<double>(st->failed));
        rejected_->Set(static_cast<double>(st->rejected));
        oldest_->Set(st->oldest_pending_received == absl::InfinitePast()
                         ? 0
                         : absl::ToDoubleSeconds(now - st->oldest_pending_received));
      }
      processed_->Set(static_cast<double>(processor_.processed_total()));
      absl::StatusOr<SyncStatusInfo> sync = sync_.Status();
      if (sync.ok()) brake_->Set(sync->brake_engaged ? 1 : 0);
      if (absl::Now() >= next_prune) {
        next_prune = absl::Now() + absl::Minutes(10);
        absl::StatusOr<int64_t> n = events_.Prune(now - config_.retention, now - config_.failed_retention);
        absl::StatusOr<int64_t> f = store_.PruneFeed(now - config_.retention);
        if (!n.ok() || !f.ok()) {
          LogWarn("retention cleanup failed", {{"error", (!n.ok() ? n.status() : f.status())}});
        } else if (*n + *f > 0) {
          LogInfo("retention cleanup", {{"events_deleted", *n}, {"feed_entries_deleted", *f}});
        }
      }
    } while (!stop_.WaitForNotificationWithTimeout(absl::Seconds(15)));
  }

  ServiceRuntime& rt_;
  const CatalogConfig& config_;
  std::unique_ptr<GrpcRegistryTokenSource> tokens_;
  std::unique_ptr<HttpRegistryClient> registry_;
  GrpcAccessClient access_;
  PgCatalogStore store_;
  PgEventStore events_;
  PgSyncRunStore runs_;
  PgSyncLock lock_;
  EventProcessor processor_;
  EventWorkers workers_;
  PgNotificationListener listener_;
  EventIngestor ingestor_;
  CatalogSyncer syncer_;
  SyncCoordinator sync_;
  CatalogApi api_;
  std::unique_ptr<grpc::Service> catalog_service_;
  std::unique_ptr<grpc::Service> event_service_;
  std::unique_ptr<grpc::Service> sync_service_;
  absl::Notification stop_;
  std::thread maintenance_;
  prometheus::Gauge* pending_ = nullptr;
  prometheus::Gauge* failed_ = nullptr;
  prometheus::Gauge* rejected_ = nullptr;
  prometheus::Gauge* oldest_ = nullptr;
  prometheus::Gauge* brake_ = nullptr;
  prometheus::Gauge* processed_ = nullptr;
};

}  // namespace

void BindCatalogConfig(ConfigBinder* b, CatalogConfig* c) {
  b->OwnSection("catalog");
  b->String("catalog.webhook_secret", &c->webhook_secret, "",
            "Secret the registry sends as `Authorization: Bearer <secret>` with notifications "
            "(its notifications.endpoints[].headers); empty refuses every notification.")
      .Secret();
  b->Int("catalog.events.workers", &c->event_workers, 4,
         "Threads applying registry events in this replica; 0: it applies none (it still "
         "stores notifications, serves the API and syncs), replicas with workers apply them.")
      .Range(0, 64);
  b->Duration("catalog.events.poll_interval", &c->poll_interval, absl::Seconds(5),
              "Fallback poll of the event queue when no NOTIFY arrives.")
      .Range(100, 3600000);
  b->Int("catalog.events.max_attempts", &c->max_attempts, 10,
         "Processing attempts before an event is marked failed.")
      .Range(1, 1000);
  b->Duration("catalog.events.retry_backoff", &c->retry_backoff, absl::Seconds(1),
              "Wait before the first retry; doubles with each attempt.")
      .Range(10, 3600000);
  b->Duration("catalog.events.max_backoff", &c->max_backoff, absl::Minutes(5),
              "Longest wait between retries.")
      .Range(10, 86400000);
  b->Duration("catalog.events.retention", &c->retention, absl::Hours(24 * 7),
              "Processed events (and new-manifest feed entries) are deleted after this.")
      .Range(60000, 365LL * 86400000);
  b->Duration("catalog.events.failed_retention", &c->failed_retention, absl::Hours(24 * 30),
              "Failed and rejected events are deleted after this.")
      .Range(60000, 365LL * 86400000);
  b->Duration("catalog.events.pull_interval", &c->pull_interval, absl::Minutes(1),
              "A tag's \"last pulled\" time is written at most once per interval.")
      .Range(0, 86400000);
  b->Int("catalog.events.ingest_batch", &c->ingest_batch, 1000,
         "Most events of concurrent calls gathered into one transaction (group commit); the events "
         "of one call (a notification, or the gateway's batch of them) always share one.")
      .Range(1, 5000);
  b->Bool("catalog.sync.enabled", &c->sync_enabled, true,
          "Reconcile with the registry's Catalog API in the background.");
  b->Enum("catalog.sync.strategy", &c->sync_strategy, "initial",
          {"update-delete", "update", "on-start", "initial"},
          "update-delete: add, update and delete every interval; update: never delete; "
          "on-start: one update-delete pass at startup; initial: one pass at startup while the "
          "catalog is empty (Portus's strategies).");
  b->Duration("catalog.sync.interval", &c->sync_interval, absl::Minutes(15),
              "Time between passes for update-delete and update.")
      .Range(1000, 7 * 86400000LL);
  b->Int("catalog.sync.parallelism", &c->sync_parallelism, 8,
         "Repositories crawled at once during a pass.")
      .Range(1, 64);
  b->Int("catalog.sync.page_size", &c->sync_page_size, 1000,
         "Page size of /v2/_catalog (at most the registry's catalog.maxentries).")
      .Range(1, 10000);
  b->Int("catalog.sync.brake_min_deletes", &c->sync_brake_min_deletes, 10,
         "The safety brake never engages for fewer deletions than this.")
      .Range(0, 1000000);
  b->Bool("anonymous_browsing.enabled", &c->anonymous_browsing, true,
          "Anonymous clients may list public namespaces (they may always pull from them).");
  b->Int("catalog.sync.max_delete_percent", &c->sync_max_delete_percent, 20,
         "Safety brake: a pass that would delete more than this percentage of the known tags "
         "deletes nothing until `portunusctl sync --force`.")
      .Range(0, 100);
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const CatalogConfig& config) {
  if (runtime.db == nullptr) return absl::FailedPreconditionError("the catalog needs a database");
  auto tokens = std::make_unique<GrpcRegistryTokenSource>(
      MakeChannel(runtime.common.auth.address), runtime.common.internal_secret,
      runtime.common.rpc_timeout, runtime.clock);
  HttpRegistryClient::Options o;
  o.url = runtime.common.registry.url;
  o.service = runtime.common.registry.service;
  o.ca_file = runtime.common.registry.ca_file;
  o.tls_verify = runtime.common.registry.tls_verify;
  o.timeout = runtime.common.registry.timeout;
  o.user_agent = "portunus-catalog";
  absl::StatusOr<std::unique_ptr<HttpRegistryClient>> registry =
      HttpRegistryClient::Create(o, tokens.get(), runtime.clock);
  if (!registry.ok()) return registry.status();
  return std::make_unique<CatalogModule>(runtime, config, std::move(*registry), std::move(tokens));
}

}  // namespace portunus::catalog
