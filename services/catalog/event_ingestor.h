// EventIngestor is the webhook's domain side: it checks the registry's shared secret (constant
// time), turns the notification into events (notification_parser.h) and stores them durably,
// returning only after the commit, so the registry gets its 2xx only for stored events.
//
// Concurrent notifications are committed together (group commit): while one transaction is in
// flight the next requests queue up and go into the following one, so throughput is bound by
// batches per fsync rather than requests per fsync. At most `max_concurrent_commits`
// transactions are in flight. Thread-safe.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"

namespace portunus::catalog {

struct IngestCounts {
  int stored = 0;      // new pending events
  int duplicates = 0;  // already stored
  int rejected = 0;    // new rejected events
  int ignored = 0;     // blob events, HEAD pulls, pushes by digest
};

// Constant-time comparison of two secrets (their lengths may differ).
bool SecretEquals(absl::string_view a, absl::string_view b);

class EventIngestor {
 public:
  struct Options {
    std::string webhook_secret;  // expected: "Authorization: Bearer <secret>"; empty refuses all
    size_t max_batch = 1000;     // events gathered from concurrent calls per transaction
                                 // (one call's events are never split)
    int max_concurrent_commits = 2;
  };

  EventIngestor(Options options, EventStore& store);

  // kUnauthenticated when `authorization` is not "Bearer <secret>" (or no secret is
  // configured); kUnavailable (and the like) when the events could not be stored, so the
  // registry retries. Anything unparseable is stored as rejected and counted, not an error.
  absl::StatusOr<IngestCounts> Ingest(absl::string_view authorization,
                                      absl::string_view content_type, absl::string_view body);

  struct Notification {
    absl::string_view authorization;
    absl::string_view content_type;
    absl::string_view body;
  };
  // Ingest for several notifications, whose events go into the same group commit. The outer
  // status is the store's (not OK: nothing was stored); result i answers notifications[i] and
  // is OK or kUnauthenticated (that notification's events were not stored).
  absl::StatusOr<std::vector<absl::StatusOr<IngestCounts>>> IngestMany(
      absl::Span<const Notification> notifications);

  // Stores already parsed events through the group commit (exposed for tests and benchmarks).
  absl::StatusOr<std::vector<bool>> Store(const std::vector<NewEvent>& events);

  int64_t transactions() const;

 private:
  struct Pending {
    const std::vector<NewEvent>* events;
    std::vector<bool> inserted;
    absl::Status status;
    bool done = false;
  };
  void CommitBatch(std::vector<Pending*> batch);
  // OK when `authorization` is "Bearer <webhook_secret>" (case-insensitive scheme).
  absl::Status Authenticate(absl::string_view authorization) const;

  const Options options_;
  EventStore& store_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t transactions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::catalog
