// CatalogFeedFollower: the catalog -> scanner hook. The catalog keeps a durable feed of every
// (repository, digest) it stores for the first time (CatalogService.ListManifestsSince); the
// follower polls it from the last position the scanner processed, queues each new manifest for
// a scan, and advances that position in the scanner's schema. Queueing is idempotent (a pending
// job or a current result is not queued twice) and the position only moves forward
// (compare-and-set), so any number of replicas may follow the feed at once, and a replica that
// dies between queueing and advancing only makes the next poll queue the same entries again.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/scanner/scanner_api.h"

namespace portunus::scanner {

struct ManifestFeedEntry {
  int64_t seq = 0;
  std::string repository;
  std::string digest;
};

struct ManifestFeedPage {
  std::vector<ManifestFeedEntry> entries;  // seq ascending, all > after_seq
  int64_t oldest_seq = 0;                  // smallest seq still stored (0: empty feed)
  int64_t latest_seq = 0;                  // largest seq ever assigned
};

// The catalog's new-manifest feed. Thread-safe.
class ManifestFeed {
 public:
  virtual ~ManifestFeed() = default;
  // Up to `limit` entries with seq > after_seq. kUnavailable when the catalog cannot be reached.
  virtual absl::StatusOr<ManifestFeedPage> ListSince(int64_t after_seq, int limit) = 0;
  // Every (repository, digest) the catalog holds under a tag now, page by page (seq unused);
  // on_page's error stops the listing and is returned. Used to catch up when feed entries
  // expired before the scanner read them.
  virtual absl::Status ListTagged(
      const std::function<absl::Status(const std::vector<ManifestFeedEntry>& page)>& on_page) = 0;
};

// Where the scanner is in a feed, by feed name. Thread-safe.
class FeedCursorStore {
 public:
  virtual ~FeedCursorStore() = default;
  // The last processed seq (0 when never advanced).
  virtual absl::StatusOr<int64_t> GetCursor(const std::string& feed) = 0;
  // Moves the cursor from `from` to `to` (> from). Returns false, changing nothing, when the
  // cursor is no longer `from` (another replica advanced it).
  virtual absl::StatusOr<bool> AdvanceCursor(const std::string& feed, int64_t from, int64_t to) = 0;
};

// Thread-safe: RunOnce may be called while the background loop runs.
class CatalogFeedFollower {
 public:
  struct Options {
    absl::Duration poll_interval = absl::Seconds(2);
    int batch = 500;        // entries per ListSince
    int max_batches = 100;  // per RunOnce, so a huge backlog does not starve Stop()
  };
  static constexpr char kFeedName[] = "catalog.manifests";

  CatalogFeedFollower(Options options, ManifestFeed& feed, FeedCursorStore& cursors, ScannerApi& api)
      : options_(options), feed_(feed), cursors_(cursors), api_(api) {}
  ~CatalogFeedFollower() { Stop(); }

  struct Pass {
    int queued = 0;   // entries with a scan job (new, or still pending from before)
    int seen = 0;     // feed entries read
    int skipped = 0;  // entries the scanner cannot use (malformed name or digest), logged
    int64_t missed = 0;  // entries the catalog no longer had (retention), logged
    int caught_up = 0;   // tagged manifests queued by the catch-up after missed entries
  };
  // Reads the feed from the stored cursor until it is exhausted (or max_batches), queueing a
  // scan per entry and advancing the cursor after each batch. When entries expired before they
  // were read (the catalog's retention, or a scanner enabled long after the first pushes), every
  // manifest the catalog holds under a tag is queued first (a manifest with a current result is
  // not scanned again), and only then does the cursor move past the gap. Errors of the feed or the stores
  // end the pass (the cursor stays where the last complete batch left it).
  absl::StatusOr<Pass> RunOnce();

  // Polls every poll_interval on a thread of its own until Stop().
  void Start();
  void Stop();

 private:
  const Options options_;
  ManifestFeed& feed_;
  FeedCursorStore& cursors_;
  ScannerApi& api_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace portunus::scanner
