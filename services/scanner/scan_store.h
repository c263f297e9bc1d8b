// Storage of everything a scan produces and consumes, besides vulnerability data: the durable
// scan queue (shared by every scanner replica), the kept content of each layer (read once, by
// digest, however many images share it), each manifest's inventory, and each manifest's result.
// PgScanStore (pg_scan_store.h) is the real one; FakeScanStore keeps it in memory for tests.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scanner/advisory.h"
#include "services/scanner/layer_reader.h"
#include "services/scanner/matcher.h"
#include "services/scanner/package.h"

namespace portunus::scanner {

// ---- queue ----

struct ScanJob {
  enum class Kind { kScan, kRematch };
  int64_t id = 0;
  Kind kind = Kind::kScan;
  std::string repository;  // kScan: where to fetch the manifest from
  std::string digest;      // kScan: the manifest digest
  bool force = false;      // rescan even when a current result exists
  int attempts = 0;        // including the current one
};

// ---- inventory ----

// What the scanner keeps of one manifest: a platform image (layers, OS, packages) or an index
// (the platform images it points to).
struct ManifestRecord {
  std::string digest;
  std::string media_type;
  std::string repository;             // where it was last fetched from
  std::vector<std::string> children;  // index: digests of the platform manifests scanned
  std::string platform;               // platform image: "linux/amd64" when known
  std::vector<std::string> layers;    // platform image: layer digests, base first
  OsRelease os;
  std::string ecosystem;              // EcosystemForOs(os)
  std::vector<Package> packages;
  std::vector<std::string> databases;
  absl::Time inventoried_at = absl::InfinitePast();
};

// ---- results ----

enum class ScanStatus { kNone, kWorking, kDone, kFailed };
// "none", "working", "done", "failed" (Portunus's REST `scanned` values).
absl::string_view ScanStatusName(ScanStatus s);

using SeverityCounts = std::array<int64_t, kSeverityCount>;  // indexed by Severity

struct ScanSummary {
  std::string digest;
  ScanStatus status = ScanStatus::kNone;
  std::string error;  // kFailed: why
  SeverityCounts counts{};
  int64_t package_count = 0;
  std::string ecosystem;
  std::string os_name;  // PRETTY_NAME
  std::string scanner_version;
  int64_t feed_generation = 0;
  std::string feed_versions;  // "alpine-secdb:v3.18/main@2026-11-22T10:00:00Z, ..."
  absl::Time scanned_at = absl::InfinitePast();  // last full scan
  absl::Time matched_at = absl::InfinitePast();  // last match (scan or re-match)
};

struct ResultPageRequest {
  std::string digest;
  Severity min_severity = Severity::kUnknown;  // findings at or above
  std::vector<Severity> severities;            // when set, only these
  int64_t offset = 0;
  int64_t limit = 100;
};

struct ResultPage {
  ScanSummary summary;
  std::vector<Finding> findings;  // highest severity first, then id, package
  int64_t total = 0;              // findings matching the filter
};

struct RematchChange {
  std::string digest;
  std::vector<std::string> gained;  // vulnerability ids new to this manifest
};

// Thread-safe implementations only.
class ScanStore {
 public:
  virtual ~ScanStore() = default;

  // Queues a scan of `digest` unless one is already queued or running (then returns that job's
  // id), and marks its result working. kInvalidArgument for an empty repository or digest.
  virtual absl::StatusOr<int64_t> EnqueueScan(const std::string& repository, const std::string& digest,
                                              bool force, absl::Time not_before) = 0;
  // Queues a scan of every manifest the store knows (force), returning how many were queued.
  virtual absl::StatusOr<int64_t> EnqueueRescanAll() = 0;
  // Queues one re-match of every inventory (at most one pending).
  virtual absl::StatusOr<int64_t> EnqueueRematch() = 0;
  // Takes the oldest ready job, or one whose lease expired (a crashed replica's), for `lease`.
  // std::nullopt when there is none.
  virtual absl::StatusOr<std::optional<ScanJob>> ClaimJob(const std::string& worker, absl::Duration lease) = 0;
  // Ends a job: done, or failed for good, or back to the queue at `retry_at`.
  virtual absl::Status FinishJob(int64_t id) = 0;
  virtual absl::Status FailJob(int64_t id, const std::string& error, std::optional<absl::Time> retry_at) = 0;
  // Jobs waiting or running.
  virtual absl::StatusOr<int64_t> PendingJobs() = 0;

  // Layers: kNotFound when the layer was never read.
  virtual absl::StatusOr<LayerContent> GetLayer(const std::string& digest) = 0;
  virtual absl::Status PutLayer(const std::string& digest, const LayerContent& content) = 0;

  // Manifests: kNotFound when never inventoried.
  virtual absl::StatusOr<ManifestRecord> GetManifest(const std::string& digest) = 0;
  virtual absl::Status PutManifest(const ManifestRecord& record) = 0;
  // Platform-image manifests (not indexes) in digest order after `after`, at most `limit`.
  virtual absl::StatusOr<std::vector<ManifestRecord>> ListImageManifests(const std::string& after,
                                                                         int64_t limit) = 0;
  // Index manifests that list `child`.
  virtual absl::StatusOr<std::vector<std::string>> IndexesContaining(const std::string& child) = 0;

  // Results.
  virtual absl::Status PutResult(const ScanSummary& summary, const std::vector<Finding>& findings) = 0;
  virtual absl::Status PutFailure(const std::string& digest, const std::string& error, absl::Time at) = 0;
  // Every finding stored for `digest` (for re-match comparisons); kNotFound without a result.
  virtual absl::StatusOr<std::vector<Finding>> GetFindings(const std::string& digest) = 0;
  // kNotFound when the manifest has no result at all (status none).
  virtual absl::StatusOr<ResultPage> GetResults(const ResultPageRequest& request) = 0;
  // One summary per requested digest, in order; status none for unknown digests.
  virtual absl::StatusOr<std::vector<ScanSummary>> GetSummaries(const std::vector<std::string>& digests) = 0;

  // Records which manifests gained vulnerabilities when the feed reached `generation`.
  virtual absl::Status RecordRematchChanges(int64_t generation, const std::vector<RematchChange>& changes) = 0;
  virtual absl::StatusOr<std::vector<RematchChange>> ListRematchChanges(int64_t generation) = 0;
};

}  // namespace portunus::scanner
