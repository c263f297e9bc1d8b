// The production HarborScanRunner: fetches the artifact from the registry Harbor names, with the
// Authorization Harbor gives, through HttpRegistryClient, and scans it with ImageScanner (results
// stored by digest like every scan; layers already read are not fetched again).
//
// Harbor's `registry.authorization` is used the way Harbor's own adapters use it:
//   "Bearer <token>"   sent as is whenever the registry challenges (Harbor 1.x gave a pull token);
//   "Basic <creds>"    exchanged at the token server the registry's Bearer challenge names
//                      (realm, service, scope), e.g. Harbor's robot account for /service/token;
//   ""                 anonymous: a token is asked for without credentials.
// A registry that challenges with Basic instead of Bearer is not supported (kUnauthenticated).
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/http_server.h"
#include "services/common/worker_pool.h"
#include "services/common/registry_client.h"
#include "services/scanner/harbor_adapter.h"
#include "services/scanner/image_scanner.h"

namespace portunus::scanner {

// Registry tokens for one Harbor scan request's credentials. Thread-safe.
class HarborCredentialTokens final : public RegistryTokenSource {
 public:
  struct Options {
    std::string registry_url;
    std::string authorization;
    bool tls_verify = true;
    std::string ca_file;
    absl::Duration timeout = absl::Seconds(30);
  };
  HarborCredentialTokens(Options options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}
  // kUnauthenticated: the token server refused the credentials. kUnavailable: it cannot be
  // reached. kFailedPrecondition: the registry does not challenge with Bearer.
  absl::StatusOr<RegistryToken> Fetch(const std::string& service, const std::vector<std::string>& scopes) override;

 private:
  absl::StatusOr<std::string> Realm();
  const Options options_;
  const Clock& clock_;
  absl::Mutex mu_;
  std::string realm_ ABSL_GUARDED_BY(mu_);
};

class RegistryHarborScanRunner final : public HarborScanRunner {
 public:
  struct Options {
    bool tls_verify = true;
    std::string ca_file;
    ImageScanner::Options scan;
  };
  // Everything borrowed must outlive the runner.
  RegistryHarborScanRunner(Options options, ScanStore& store, AdvisoryCache& advisories,
                           const RpmDatabaseReader* rpm, Clock& clock)
      : options_(std::move(options)), store_(store), advisories_(advisories), rpm_(rpm), clock_(clock) {}
  absl::Status Scan(const HarborScanRequest& request) override;

 private:
  const Options options_;
  ScanStore& store_;
  AdvisoryCache& advisories_;
  const RpmDatabaseReader* const rpm_;
  Clock& clock_;
};

// The adapter as the scanner runs it: its HTTP listener (scanner.harbor_adapter.*), its workers
// and the registry runner.
class HarborAdapterService {
 public:
  // kInvalidArgument / kUnavailable: the listener could not start (bad TLS files, port in use).
  static absl::StatusOr<std::unique_ptr<HarborAdapterService>> Start(const HarborAdapterConfig& config,
                                                                     ImageScanner::Options scan, ScannerApi& api,
                                                                     ScanStore& store, AdvisoryCache& advisories,
                                                                     const RpmDatabaseReader* rpm, Clock& clock);
  ~HarborAdapterService();
  int port() const { return server_->port(); }
  // Stops accepting, lets requests finish until `deadline`, then waits for running scans.
  void Stop(absl::Time deadline);

 private:
  HarborAdapterService() = default;
  std::unique_ptr<RegistryHarborScanRunner> runner_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<HarborAdapter> adapter_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace portunus::scanner
