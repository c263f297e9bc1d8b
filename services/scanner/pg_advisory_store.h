// AdvisoryStore on PostgreSQL (schema `scanner`: feed_state, feed_sources, vulnerabilities,
// affected). Imports are single transactions bulk-loaded with COPY.
#pragma once

#include "services/common/pg_pool.h"
#include "services/scanner/advisory_store.h"

namespace portunus::scanner {

// Thread-safe (the pool is).
class PgAdvisoryStore final : public AdvisoryStore {
 public:
  explicit PgAdvisoryStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> ReplaceSource(const FeedSource& source, const FeedData& data) override;
  absl::StatusOr<int64_t> UpsertRecords(const FeedSource& source, const FeedData& data) override;
  absl::Status RecordFailure(const std::string& name, const std::string& location,
                             const std::string& error, absl::Time at) override;
  absl::StatusOr<AdvisoryIndex> LoadIndex(const std::vector<std::string>& ecosystems) override;
  absl::StatusOr<std::map<std::string, Vulnerability>> GetVulnerabilities(
      const std::vector<std::string>& ids) override;
  absl::StatusOr<std::vector<FeedSource>> ListSources() override;
  absl::StatusOr<FeedSource> GetSource(const std::string& name) override;
  absl::StatusOr<int64_t> Generation() override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::scanner
