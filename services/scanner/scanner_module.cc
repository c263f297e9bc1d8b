#include "services/scanner/scanner_module.h"

#include <curl/curl.h>
#include <unistd.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/common/request_context.h"
#include "services/common/registry_client.h"
#include "services/common/registry_token_source.h"
#include "services/scanner/catalog_feed.h"
#include "services/scanner/feed_scheduler.h"
#include "services/scanner/grpc_catalog_feed.h"
#include "services/scanner/pg_feed_cursor_store.h"
#include "services/scanner/registry_image_source.h"
#include "services/scanner/grpc_scanner_service.h"
#include "services/scanner/harbor_registry_runner.h"
#include "services/scanner/image_scanner.h"
#include "services/scanner/oci_layout_source.h"
#include "services/scanner/pg_advisory_store.h"
#include "services/scanner/pg_scan_store.h"
#include "services/scanner/rpm_database.h"
#include "services/scanner/scan_worker.h"
#include "services/scanner/scanner_api.h"
#include "services/scanner/vulndb_importer.h"

#ifndef PORTUNUS_VERSION
#define PORTUNUS_VERSION "0.1.0"
#endif

namespace portunus::scanner {
namespace {

class ScannerModule final : public ServiceModule {
 public:
  ScannerModule(ServiceRuntime& rt, const ScannerConfig& config, std::unique_ptr<RpmDatabaseReader> rpm,
                std::unique_ptr<GrpcRegistryTokenSource> tokens, std::unique_ptr<HttpRegistryClient> registry)
      : config_(config),
        clock_(rt.clock),
        rpm_(std::move(rpm)),
        scans_(*rt.db),
        advisories_(*rt.db),
        cursors_(*rt.db),
        cache_(advisories_),
        tokens_(std::move(tokens)),
        registry_(std::move(registry)) {
    if (!config.oci_layout.empty()) {
      layout_ = std::make_unique<OciLayoutSource>(config.oci_layout);
      blobs_ = layout_.get();
      manifests_ = layout_.get();
    } else {
      registry_source_ = std::make_unique<RegistryImageSource>(*registry_);
      blobs_ = registry_source_.get();
      manifests_ = registry_source_.get();
    }
    ImageScanner::Options so;
    so.limits = config.limits;
    so.scanner_version = ScannerVersion();
    scan_options_ = so;
    scanner_ = std::make_unique<ImageScanner>(so, *manifests_, *blobs_, scans_, cache_, rpm_.get(), rt.clock);
    ScanWorker::Options wo;
    wo.threads = config.workers;
    wo.poll_interval = config.poll_interval;
    wo.lease = config.lease;
    wo.max_attempts = config.max_attempts;
    wo.retry_backoff = config.retry_backoff;
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    wo.worker_id = absl::StrCat(host, ":", getpid());
    worker_ = std::make_unique<ScanWorker>(wo, scans_, *scanner_, rt.clock);
    CurlFeedFetcher::Options fo;
    fo.max_size = config.max_download_size;
    fo.timeout = config.download_timeout;
    fetcher_ = std::make_unique<CurlFeedFetcher>(fo);
    VulnDbImporter::Options io;
    io.temp_dir = config.temp_dir + "/feeds";
    importer_ = std::make_unique<VulnDbImporter>(io, advisories_, fetcher_.get(), rt.clock);
    api_ = std::make_unique<ScannerApi>(ScannerApi::Options{ScannerVersion()}, scans_, advisories_,
                                        importer_.get());
    scheduler_ = std::make_unique<FeedScheduler>(FeedScheduler::Options{config.feeds, config.feed_interval}, *api_);
    authenticator_ = std::make_unique<GrpcCallerAuthenticator>(
        MakeChannel(rt.common.auth.address), GrpcCallerAuthenticator::Options{rt.common.internal_secret});
    if (config.catalog_poll_interval > absl::ZeroDuration()) {
      catalog_feed_ = std::make_unique<GrpcCatalogManifestFeed>(MakeChannel(rt.common.catalog.address),
                                                                rt.common.internal_secret, rt.common.rpc_timeout);
      CatalogFeedFollower::Options fo;
      fo.poll_interval = config.catalog_poll_interval;
      follower_ = std::make_unique<CatalogFeedFollower>(fo, *catalog_feed_, cursors_, *api_);
    }
    scanner_service_ = std::make_unique<GrpcScannerService>(rt, *api_, *authenticator_);
    vulndb_service_ = std::make_unique<GrpcVulnDbService>(rt, *api_, *authenticator_);
  }

  std::vector<grpc::Service*> GrpcServices() override { return {scanner_service_.get(), vulndb_service_.get()}; }

  absl::Status Start() override {
    if (!config_.harbor.listen.empty()) {
      absl::StatusOr<std::unique_ptr<HarborAdapterService>> h =
          HarborAdapterService::Start(config_.harbor, scan_options_, *api_, scans_, cache_, rpm_.get(), clock_);
      if (!h.ok()) return h.status();
      harbor_ = *std::move(h);
    }
    worker_->Start();
    scheduler_->Start();
    if (follower_) follower_->Start();
    LogInfo("scanner started", {{"workers", config_.workers},
                                {"source", config_.oci_layout.empty() ? std::string("registry") : config_.oci_layout},
                                {"catalog_feed", follower_ != nullptr},
                                {"feeds", static_cast<int>(config_.feeds.size())},
                                {"version", ScannerVersion()}});
    return absl::OkStatus();
  }

  void Stop(absl::Time deadline) override {
    if (follower_) follower_->Stop();
    if (harbor_ != nullptr) harbor_->Stop(deadline);
    scheduler_->Stop();
    worker_->Stop(deadline);
  }

 private:
  const ScannerConfig& config_;
  Clock& clock_;
  std::unique_ptr<RpmDatabaseReader> rpm_;
  PgScanStore scans_;
  PgAdvisoryStore advisories_;
  PgFeedCursorStore cursors_;
  AdvisoryCache cache_;
  std::unique_ptr<GrpcRegistryTokenSource> tokens_;
  std::unique_ptr<HttpRegistryClient> registry_;
  std::unique_ptr<RegistryImageSource> registry_source_;
  std::unique_ptr<OciLayoutSource> layout_;
  BlobSource* blobs_ = nullptr;
  ManifestSource* manifests_ = nullptr;
  std::unique_ptr<ImageScanner> scanner_;
  std::unique_ptr<ScanWorker> worker_;
  std::unique_ptr<CurlFeedFetcher> fetcher_;
  std::unique_ptr<VulnDbImporter> importer_;
  std::unique_ptr<ScannerApi> api_;
  std::unique_ptr<FeedScheduler> scheduler_;
  std::unique_ptr<GrpcCallerAuthenticator> authenticator_;
  std::unique_ptr<GrpcCatalogManifestFeed> catalog_feed_;
  std::unique_ptr<CatalogFeedFollower> follower_;
  std::unique_ptr<GrpcScannerService> scanner_service_;
  std::unique_ptr<GrpcVulnDbService> vulndb_service_;
  ImageScanner::Options scan_options_;
  std::unique_ptr<HarborAdapterService> harbor_;  // scanner.harbor_adapter.listen set
};

}  // namespace

const std::string& ScannerVersion() {
  static const std::string* v = new std::string(absl::StrCat("portunus-scanner/", PORTUNUS_VERSION));
  return *v;
}

void BindScannerConfig(ConfigBinder* b, ScannerConfig* c) {
  b->OwnSection("scanner");
  b->Int("scanner.workers", &c->workers, 2, "scans run at once by this replica").Range(1, 64);
  b->String("scanner.temp_dir", &c->temp_dir, "/tmp/portunus-scanner",
            "private temporary space (rpm database copies, feed downloads); layers are never written")
      .Check([c] { return !c->temp_dir.empty() && c->temp_dir[0] == '/' ? "" : "must be an absolute path"; });
  b->String("scanner.oci_layout", &c->oci_layout, "",
            "scan images from this OCI image layout directory instead of the registry");
  b->Duration("scanner.catalog_feed.poll_interval", &c->catalog_poll_interval, absl::Seconds(2),
              "how often the catalog's new-manifest feed is read to queue scans of new images (0 = never)")
      .Range(0, 3600000);
  b->Duration("scanner.queue.poll_interval", &c->poll_interval, absl::Seconds(1),
              "how often idle workers look for queued scans")
      .Range(10, 600000);
  b->Duration("scanner.queue.lease", &c->lease, absl::Minutes(15),
              "how long a claimed scan is reserved before another replica may take it over")
      .Range(1000, 86400000);
  b->Int("scanner.queue.max_attempts", &c->max_attempts, 5,
         "tries of a scan failing for transient reasons (registry down) before it is marked failed")
      .Range(1, 100);
  b->Duration("scanner.queue.retry_backoff", &c->retry_backoff, absl::Seconds(30),
              "first retry delay of a transiently failed scan (doubled per attempt, at most 1h)")
      .Range(100, 3600000);
  LayerLimits d;
  b->Bytes("scanner.limits.max_layer_size", &c->limits.max_layer_size, d.max_layer_size,
           "largest compressed layer read");
  b->Bytes("scanner.limits.max_uncompressed_size", &c->limits.max_uncompressed_size, d.max_uncompressed_size,
           "largest layer after decompression");
  b->Bytes("scanner.limits.max_entry_size", &c->limits.max_entry_size, d.max_entry_size,
           "largest single file in a layer (larger fails the scan)");
  b->Bytes("scanner.limits.max_file_size", &c->limits.max_file_size, d.max_file_size,
           "largest package database or os-release kept in memory");
  b->Bytes("scanner.limits.max_kept_size", &c->limits.max_kept_size, d.max_kept_size,
           "all package databases of one layer together");
  b->Int64("scanner.limits.max_entries", &c->limits.max_entries, d.max_entries, "entries of one layer")
      .Range(1, int64_t{1} << 40);
  b->Int64("scanner.limits.max_path_length", &c->limits.max_path_length, d.max_path_length,
           "bytes of one entry name")
      .Range(1, 1 << 20);
  b->Int64("scanner.limits.max_path_depth", &c->limits.max_path_depth, d.max_path_depth,
           "components of one entry name")
      .Range(1, 1 << 16);
  b->Int64("scanner.limits.max_compression_ratio", &c->limits.max_compression_ratio, d.max_compression_ratio,
           "decompression bomb guard: uncompressed bytes per compressed byte")
      .Range(2, 1 << 20);
  b->Bytes("scanner.limits.bomb_check_after", &c->limits.bomb_check_after, d.bomb_check_after,
           "uncompressed bytes after which the compression ratio is enforced");
  b->StringList("scanner.vulndb.feeds", &c->feeds, {},
                "vulnerability feed URLs imported on a schedule (OSV JSON/zip, Debian tracker JSON, "
                "Alpine secdb JSON; the format is detected)");
  b->Duration("scanner.vulndb.update_interval", &c->feed_interval, absl::Hours(6),
              "how often the feeds are checked (0 = only on demand)");
  b->Bytes("scanner.vulndb.max_download_size", &c->max_download_size, int64_t{2} << 30,
           "largest feed download");
  b->Duration("scanner.vulndb.download_timeout", &c->download_timeout, absl::Minutes(10),
              "time allowed for one feed download")
      .Range(1000, 86400000);
  BindHarborAdapterConfig(b, &c->harbor);
}

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& runtime,
                                                            const ScannerConfig& config) {
  if (runtime.db == nullptr) return absl::FailedPreconditionError("the scanner needs its database");
  static std::once_flag curl_once;
  std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  absl::StatusOr<std::unique_ptr<RpmDatabaseReader>> rpm =
      RpmDatabaseReader::Create({config.temp_dir + "/rpm"});
  if (!rpm.ok()) return rpm.status();
  auto tokens = std::make_unique<GrpcRegistryTokenSource>(MakeChannel(runtime.common.auth.address),
                                                         runtime.common.internal_secret,
                                                         runtime.common.rpc_timeout, runtime.clock);
  HttpRegistryClient::Options o;
  o.url = runtime.common.registry.url;
  o.service = runtime.common.registry.service;
  o.ca_file = runtime.common.registry.ca_file;
  o.tls_verify = runtime.common.registry.tls_verify;
  o.timeout = runtime.common.registry.timeout;
  o.user_agent = ScannerVersion();
  absl::StatusOr<std::unique_ptr<HttpRegistryClient>> registry =
      HttpRegistryClient::Create(o, tokens.get(), runtime.clock);
  if (!registry.ok()) return registry.status();
  return std::unique_ptr<ServiceModule>(
      new ScannerModule(runtime, config, *std::move(rpm), std::move(tokens), *std::move(registry)));
}

}  // namespace portunus::scanner
