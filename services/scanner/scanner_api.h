// ScannerApi: what the scanner offers its callers (gRPC transport, portunusctl), as plain C++
// over the stores: queue scans, read results with vulnerability details, summaries for many
// manifests, vulnerability data status and imports (which queue a re-match of every stored
// inventory). Validation errors name the request field (InvalidFieldError).
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/scanner/advisory_store.h"
#include "services/scanner/scan_store.h"
#include "services/scanner/vulndb_importer.h"

namespace portunus::scanner {

// A repository name as the registry accepts it (distribution's reference grammar): components
// of [a-z0-9]+ joined by '.', '_', '__' or runs of '-', separated by '/', at most 255 bytes.
bool IsValidRepository(absl::string_view name);

struct EnqueueOutcome {
  bool queued = false;
  int64_t job_id = 0;
  ScanStatus status = ScanStatus::kNone;
};

struct DetailedResult {
  ResultPage page;
  std::map<std::string, Vulnerability> details;  // by vulnerability id, for page.findings
  std::vector<Package> packages;                 // when asked for
};

struct VulnDbStatus {
  std::vector<FeedSource> sources;
  int64_t generation = 0;
  int64_t pending_jobs = 0;
};

struct ImportOutcome {
  ImportSummary summary;
  bool rematch_queued = false;
};

inline constexpr size_t kMaxSummaryDigests = 1000;

// Thread-safe; imports are serialised.
class ScannerApi {
 public:
  struct Options {
    std::string scanner_version;
  };
  // `importer` may be null (imports then fail with kFailedPrecondition).
  ScannerApi(Options options, ScanStore& scans, AdvisoryStore& advisories, VulnDbImporter* importer)
      : options_(std::move(options)), scans_(scans), advisories_(advisories), importer_(importer) {}

  // kInvalidArgument naming `repository` or `digest` when malformed.
  absl::StatusOr<EnqueueOutcome> Enqueue(const std::string& repository, const std::string& digest, bool force);
  absl::StatusOr<int64_t> RescanAll();
  // kInvalidArgument for a malformed digest or paging; kNotFound when never scanned.
  absl::StatusOr<DetailedResult> GetResult(const ResultPageRequest& request, bool include_packages);
  // kInvalidArgument for more than kMaxSummaryDigests digests or a malformed one.
  absl::StatusOr<std::vector<ScanSummary>> Summaries(const std::vector<std::string>& digests);
  absl::StatusOr<VulnDbStatus> Status();
  // The importer's errors; afterwards a re-match is queued unless nothing changed.
  absl::StatusOr<ImportOutcome> Import(const ImportRequest& request, const ImportProgressFn& progress = nullptr);

 private:
  const Options options_;
  ScanStore& scans_;
  AdvisoryStore& advisories_;
  VulnDbImporter* const importer_;
  std::mutex import_mu_;
};

}  // namespace portunus::scanner
