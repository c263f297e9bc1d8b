// Storage of vulnerability data: what the importer writes and the matcher reads. PgAdvisoryStore
// (pg_advisory_store.h) is the real one; FakeAdvisoryStore (fake_advisory_store.h) keeps it in
// memory for domain tests.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scanner/advisory.h"
#include "services/scanner/feed_parsers.h"
#include "services/scanner/matcher.h"

namespace portunus::scanner {

// One imported feed ("debian-security-tracker", "alpine-secdb:v3.18/main", "osv").
struct FeedSource {
  std::string name;
  FeedFormat format = FeedFormat::kAuto;
  std::string location;  // the path or URL it was last imported from
  std::string digest;    // sha256 of the content last imported ("" for OSV sets)
  std::string etag;      // the URL's ETag, to skip unchanged downloads
  absl::Time updated = absl::InfinitePast();  // last successful import
  int64_t vulnerabilities = 0;  // vulnerabilities it currently contributes
  int64_t affected = 0;         // affected-package entries it currently holds
  std::string last_error;       // "" after a success
  absl::Time last_attempt = absl::InfinitePast();
};

// Thread-safe implementations only.
class AdvisoryStore {
 public:
  virtual ~AdvisoryStore() = default;

  // Replaces every affected entry of `source.name` with data.affected, upserts
  // data.vulnerabilities (a known value never overwritten by an empty one), records `source`
  // with fresh counts, and bumps the feed generation. Returns the new generation. kUnavailable
  // when the database is unreachable.
  virtual absl::StatusOr<int64_t> ReplaceSource(const FeedSource& source, const FeedData& data) = 0;

  // OSV semantics: for every vulnerability in `data`, replaces that vulnerability's affected
  // entries of `source.name`; withdrawn ids lose theirs. Records `source` and bumps the
  // generation. Returns the new generation.
  virtual absl::StatusOr<int64_t> UpsertRecords(const FeedSource& source, const FeedData& data) = 0;

  // Records a failed import attempt of `name` (keeps its data).
  virtual absl::Status RecordFailure(const std::string& name, const std::string& location,
                                     const std::string& error, absl::Time at) = 0;

  // The affected entries of the given ecosystems (every ecosystem when empty), with the
  // severities and aliases of their vulnerabilities.
  virtual absl::StatusOr<AdvisoryIndex> LoadIndex(const std::vector<std::string>& ecosystems) = 0;

  // Details of the given vulnerabilities; unknown ids are absent from the map.
  virtual absl::StatusOr<std::map<std::string, Vulnerability>> GetVulnerabilities(
      const std::vector<std::string>& ids) = 0;

  // Every source, by name; kNotFound for GetSource of an unknown name.
  virtual absl::StatusOr<std::vector<FeedSource>> ListSources() = 0;
  virtual absl::StatusOr<FeedSource> GetSource(const std::string& name) = 0;

  // A number that grows with every change of the data (0 before the first import).
  virtual absl::StatusOr<int64_t> Generation() = 0;
};

}  // namespace portunus::scanner
