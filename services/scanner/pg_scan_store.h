// ScanStore on PostgreSQL (schema `scanner`: scan_jobs, layers, layer_entries, manifests,
// results, result_vulns, rematch_changes). The queue is safe for any number of replicas: jobs
// are claimed with FOR UPDATE SKIP LOCKED and leased; a replica that dies leaves its job to be
// claimed again when the lease runs out. Times are the database's (now()), so replicas with
// skewed clocks agree.
#pragma once

#include "services/common/pg_pool.h"
#include "services/scanner/scan_store.h"

namespace portunus::scanner {

// Thread-safe (the pool is).
class PgScanStore final : public ScanStore {
 public:
  explicit PgScanStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> EnqueueScan(const std::string& repository, const std::string& digest,
                                      bool force, absl::Time not_before) override;
  absl::StatusOr<int64_t> EnqueueRescanAll() override;
  absl::StatusOr<int64_t> EnqueueRematch() override;
  absl::StatusOr<std::optional<ScanJob>> ClaimJob(const std::string& worker, absl::Duration lease) override;
  absl::Status FinishJob(int64_t id) override;
  absl::Status FailJob(int64_t id, const std::string& error, std::optional<absl::Time> retry_at) override;
  absl::StatusOr<int64_t> PendingJobs() override;

  absl::StatusOr<LayerContent> GetLayer(const std::string& digest) override;
  absl::Status PutLayer(const std::string& digest, const LayerContent& content) override;
  absl::StatusOr<ManifestRecord> GetManifest(const std::string& digest) override;
  absl::Status PutManifest(const ManifestRecord& record) override;
  absl::StatusOr<std::vector<ManifestRecord>> ListImageManifests(const std::string& after, int64_t limit) override;
  absl::StatusOr<std::vector<std::string>> IndexesContaining(const std::string& child) override;

  absl::Status PutResult(const ScanSummary& summary, const std::vector<Finding>& findings) override;
  absl::Status PutFailure(const std::string& digest, const std::string& error, absl::Time at) override;
  absl::StatusOr<std::vector<Finding>> GetFindings(const std::string& digest) override;
  absl::StatusOr<ResultPage> GetResults(const ResultPageRequest& request) override;
  absl::StatusOr<std::vector<ScanSummary>> GetSummaries(const std::vector<std::string>& digests) override;
  absl::Status RecordRematchChanges(int64_t generation, const std::vector<RematchChange>& changes) override;
  absl::StatusOr<std::vector<RematchChange>> ListRematchChanges(int64_t generation) override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::scanner
