// EventProcessor applies queued registry events to the catalog, one at a time, each inside the
// transaction that marks it done (EventStore::ProcessNext), so a crash mid-way applies nothing
// and a finished event is never applied twice.
//
//   push (with a tag)  fetch the manifest by digest (unless stored already) and its config, and
//                      record repository, tag, digest, media type, size, config digest,
//                      creation time, platforms, layers and the author (the registry's actor);
//                      a new namespace is created in auth as an orphan (EnsureNamespace);
//                      a manifest gone from the registry since the push is skipped.
//   delete by digest   remove the repository's tags pointing at it,
//   delete of a tag    remove that tag; in both cases a tag the registry has (again) right now
//                      is kept, and so is a tag a single-tag delete is putting back under the
//                      same digest (a recorded put-back, see CatalogApi::DeleteTag); an empty
//                      repository is removed.
//   pull (GET)         set the tag's "last pulled" at most once per pull_min_interval.
//   mount              nothing to record (a blob shared from another repository; the manifest
//                      push that follows records the tag).
// Registry and auth outages are retried with backoff; content that cannot be understood fails
// the event at once. Thread-safe: any number of workers may call ProcessOne concurrently.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/access_client.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/manifest_inspector.h"
#include "services/common/clock.h"
#include "services/common/registry_client.h"

namespace portunus::catalog {

// Errors that retrying cannot fix (malformed content).
bool IsPermanentProcessingError(const absl::Status& status);

class EventProcessor {
 public:
  struct Options {
    RetryPolicy retry;
    absl::Duration pull_min_interval = absl::Minutes(1);
  };

  EventProcessor(Options options, EventStore& events, RegistryClient& registry,
                 AccessClient& access, const Clock& clock);

  // Processes the next ready event, if any: true when one was processed (whatever its outcome,
  // which is recorded on the event), false when none was ready. An error only when the queue
  // itself cannot be read (database down).
  absl::StatusOr<bool> ProcessOne();

  // Applies one event through `writer` (exposed for tests).
  absl::Status Apply(const StoredEvent& event, CatalogWriter& writer);

  int64_t processed_total() const { return processed_.load(); }
  int64_t failures_total() const { return failures_.load(); }

 private:
  absl::Status ApplyPush(const NewEvent& e, absl::Time at, CatalogWriter& w);
  absl::Status ApplyDelete(const NewEvent& e, CatalogWriter& w);
  absl::StatusOr<int64_t> NamespaceId(const std::string& name);

  const Options options_;
  EventStore& events_;
  RegistryClient& registry_;
  AccessClient& access_;
  const Clock& clock_;
  ManifestInspector inspector_;
  std::atomic<int64_t> processed_{0};
  std::atomic<int64_t> failures_{0};
  absl::Mutex mu_;
  std::map<std::string, int64_t> namespace_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::catalog
