// The Harbor Scanner Adapter API v1.2 (goharbor/pluggable-scanner-spec), so that a Harbor
// installation can use Portunus as its vulnerability scanner. Served on its own HTTP listener
// (`scanner.harbor_adapter.listen`, off by default):
//
//   GET  /api/v1/metadata              scanner name/vendor/version, capabilities, properties
//   POST /api/v1/scan                  {registry: {url, authorization}, artifact: {repository,
//                                      digest, tag, mime_type}} -> 202 {"id": "..."}; the image is
//                                      fetched from that registry with that Authorization
//   GET  /api/v1/scan/{id}/report      302 + Refresh-After while the scan runs, 200 with the
//                                      Harbor vulnerability report, 500 when the scan failed,
//                                      404 for an unknown id
//
// Errors use the spec's shape {"error": {"message": ...}} (plus "field" naming the offending
// request field) with Content-Type application/vnd.scanner.adapter.error+json; version=1.0:
// 400 for a body that is not a JSON object, 422 for a missing or malformed field, 401 without
// the configured bearer token, 404/405 for unknown paths and methods. Never a 500 for input.
//
// Scans run on the adapter's own workers (not the scanner's durable queue: the registry
// credentials Harbor sends are short-lived and are never stored); the result is stored by
// manifest digest like every other scan, so layers already read are not fetched again. Scan ids
// live in this replica's memory (the most recent `max_scans`): a load balancer in front of several
// replicas must keep a Harbor instance on one replica (sticky sessions), as with Harbor's own
// Trivy adapter without Redis.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/http_server.h"
#include "services/common/worker_pool.h"
#include "services/scanner/scanner_api.h"

namespace portunus::scanner {

inline constexpr char kHarborVulnReportMime[] =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
inline constexpr char kHarborErrorMime[] = "application/vnd.scanner.adapter.error+json; version=1.0";
inline constexpr char kHarborMetadataMime[] = "application/vnd.scanner.adapter.metadata+json; version=1.0";
inline constexpr char kHarborScanResponseMime[] =
    "application/vnd.scanner.adapter.scan.response+json; version=1.0";

// Settings under `scanner.harbor_adapter`.
struct HarborAdapterConfig {
  std::string listen;  // "" = off; "0.0.0.0:8443"
  std::string token;   // "" = no authentication; else Harbor must send Authorization: Bearer <token>
  std::string tls_cert_file;
  std::string tls_key_file;
  bool registry_tls_verify = true;  // when fetching from the registry Harbor names
  std::string registry_ca_file;
  int workers = 2;
  absl::Duration refresh_after = absl::Seconds(5);
  int max_scans = 10000;
};

void BindHarborAdapterConfig(ConfigBinder* binder, HarborAdapterConfig* config);

// One scan request as Harbor sent it (validated).
struct HarborScanRequest {
  std::string registry_url;   // "https://core.harbor.domain"
  std::string authorization;  // HTTP Authorization value for that registry ("Basic ...", "Bearer ...")
  std::string repository;     // "library/mongo"
  std::string digest;         // "sha256:..."
  std::string tag;
  std::string mime_type;
};

// Runs one scan: fetches the artifact from the request's registry with its credentials and
// stores the result by digest (ImageScanner). Thread-safe.
class HarborScanRunner {
 public:
  virtual ~HarborScanRunner() = default;
  virtual absl::Status Scan(const HarborScanRequest& request) = 0;
};

// Parses and validates a POST /api/v1/scan body. kInvalidArgument (400, no field) for a body
// that is not a JSON object; InvalidFieldError (422) naming the field ("registry.url",
// "artifact.digest", ...) otherwise.
absl::StatusOr<HarborScanRequest> ParseHarborScanRequest(absl::string_view body);

class HarborAdapter {
 public:
  struct Options {
    std::string token;
    absl::Duration refresh_after = absl::Seconds(5);
    size_t max_scans = 10000;
    std::string scanner_version;  // "portunus-scanner/0.1.0"
  };
  // `runner` and `api` and `clock` must outlive the adapter. `workers` runs the scans (and the
  // report reads, which query the database).
  HarborAdapter(Options options, HarborScanRunner& runner, ScannerApi& api, WorkerPool& workers, Clock& clock);

  // The HTTP handler (http_server.h): never blocks; responds from a worker when it must read.
  void Handle(HttpRequest&& request, HttpResponder respond);

  // Answers GET /api/v1/metadata (public for tests).
  HttpResponse Metadata() const;

  // Scans not started yet fail ("shutting down") instead of running; call before stopping the
  // workers.
  void Stop();

 private:
  enum class State { kQueued, kRunning, kDone, kFailed };
  struct Entry {
    HarborScanRequest request;
    State state = State::kQueued;
    std::string error;
    absl::Time accepted_at;
  };

  HttpResponse AcceptScan(const HttpRequest& request);
  void Report(const std::string& id, const std::string& request_id, HttpResponder respond);
  HttpResponse BuildReport(const Entry& entry, const std::string& request_id);
  void RunScan(const std::string& id);
  std::string NewId();

  const Options options_;
  HarborScanRunner& runner_;
  ScannerApi& api_;
  WorkerPool& workers_;
  Clock& clock_;
  absl::Mutex mu_;
  std::map<std::string, Entry> scans_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mu_);  // ids, oldest first
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};


}  // namespace portunus::scanner
