// Imports vulnerability data into the AdvisoryStore from a local path or an http(s) URL: a
// single JSON file (OSV record or array, Debian security tracker, Alpine secdb), a directory of
// them (OSV's per-ecosystem dumps, a secdb mirror), or a zip archive of them (OSV's all.zip).
// The format is detected from each document unless forced.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/scanner/advisory_store.h"
#include "services/scanner/feed_fetcher.h"
#include "services/scanner/feed_parsers.h"

namespace portunus::scanner {

struct ImportRequest {
  std::string location;  // a path, or an http:// or https:// URL
  FeedFormat format = FeedFormat::kAuto;
  // The source name to record; "" picks the format's own: "osv", "debian-security-tracker",
  // "alpine-secdb:<distroversion>/<repo>".
  std::string source_name;
  // Import even when the content is byte for byte what was imported last time.
  bool force = false;
};

struct ImportProgress {
  std::string phase;  // "downloading", "reading", "storing"
  int64_t done = 0;
  int64_t total = -1;  // -1 when unknown
  int64_t documents = 0;
};
using ImportProgressFn = std::function<void(const ImportProgress&)>;

struct ImportSummary {
  std::vector<std::string> sources;  // what was written (or found unchanged)
  int64_t documents = 0;             // JSON documents read
  int64_t vulnerabilities = 0;
  int64_t affected = 0;
  int64_t withdrawn = 0;
  int64_t skipped = 0;
  bool unchanged = false;  // nothing new: the store was not touched
  int64_t generation = 0;  // the feed generation after the import
  absl::Duration took;
};

// Thread-compatible: one import at a time per importer (the service serialises them).
class VulnDbImporter {
 public:
  struct Options {
    std::string temp_dir;  // downloads land here and are removed afterwards
    int64_t max_documents = 5000000;
    int64_t max_archive_bytes = int64_t{8} << 30;  // uncompressed bytes of a zip
    int64_t max_tracker_size = int64_t{1} << 30;   // Debian tracker JSON
    int max_directory_depth = 16;
  };
  // `fetcher` may be null: URLs are then refused.
  VulnDbImporter(Options options, AdvisoryStore& store, FeedFetcher* fetcher, Clock& clock)
      : options_(std::move(options)), store_(store), fetcher_(fetcher), clock_(clock) {}

  // kInvalidArgument naming the file (and what is wrong in it) for unusable input, kNotFound for
  // a missing path or URL, kUnavailable when a URL or the store cannot be reached,
  // kResourceExhausted for input over the limits. A failure is recorded on the source when its
  // name is known; nothing is stored from a failed import.
  absl::StatusOr<ImportSummary> Import(const ImportRequest& request,
                                       const ImportProgressFn& progress = nullptr);

 private:
  class Run;
  const Options options_;
  AdvisoryStore& store_;
  FeedFetcher* const fetcher_;
  Clock& clock_;
};

}  // namespace portunus::scanner
