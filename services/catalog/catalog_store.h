// Storage interfaces of the catalog service (implemented with PostgreSQL in pg_*_store.cc and in
// memory in fake_catalog_store.h):
//   CatalogWriter  changes to repositories, tags and manifests inside one transaction;
//   CatalogStore   reads for the API and the syncer, and transactions of CatalogWriter changes;
//   EventStore     the durable queue of registry events (claimed with FOR UPDATE SKIP LOCKED,
//                  applied in the same transaction as their catalog changes: exactly once);
//   SyncRunStore   the record of sync passes (the safety brake's state lives there).
// Every implementation is thread-safe. Unless stated otherwise, methods return kUnavailable
// when the database cannot be reached, and kNotFound for an unknown id.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/catalog/catalog_types.h"

namespace portunus::catalog {

// What PutTag did.
enum class TagWrite { kAdded, kUpdated, kUnchanged, kSkippedNewer };

struct PutTagRequest {
  std::string repository;      // full name
  std::string namespace_name;  // NamespaceOf(repository)
  int64_t namespace_id = 0;    // when the repository has to be created
  std::string tag;
  ManifestInfo manifest;
  std::string author;
  absl::Time at;               // when it happened (event time or sync time)
  // Sync guard (optimistic concurrency): std::nullopt writes unconditionally (events);
  // 0 writes only if the tag does not exist; > 0 only if the tag is still at this version
  // (KnownTag::version). Otherwise kSkippedNewer: something newer got there first.
  std::optional<int64_t> expected_version;
};

// One transaction's worth of catalog changes. Not thread-safe; lives inside one transaction.
class CatalogWriter {
 public:
  virtual ~CatalogWriter() = default;
  // The repository's id, or std::nullopt when it is not stored.
  virtual absl::StatusOr<std::optional<int64_t>> FindRepository(const std::string& repository) = 0;
  // The stored manifest `digest` of `repository`, or std::nullopt (manifests never change for
  // a digest, so a stored one need not be fetched again).
  virtual absl::StatusOr<std::optional<ManifestInfo>> FindManifest(const std::string& repository,
                                                                   const std::string& digest) = 0;
  // Creates the repository when missing, stores the manifest when new (and appends it to the
  // new-manifest feed), and points the tag at it. Repository updated_at moves on a change.
  virtual absl::StatusOr<TagWrite> PutTag(const PutTagRequest& request) = 0;
  // Deletes tag `tag` of `repository`; when `expected_version` is set only if the tag is still
  // at that version. Returns whether a tag was deleted.
  virtual absl::StatusOr<bool> DeleteTag(const std::string& repository, const std::string& tag,
                                         std::optional<int64_t> expected_version) = 0;
  // The tags of `repository` pointing at `digest`.
  virtual absl::StatusOr<std::vector<std::string>> TagsWithDigest(const std::string& repository,
                                                                  const std::string& digest) = 0;
  // Removes the repository when it has no tags left (with its manifests). Returns whether it
  // was removed.
  virtual absl::StatusOr<bool> RemoveRepositoryIfEmpty(const std::string& repository) = 0;
  // Removes the repository, its tags and manifests. Returns whether it existed.
  virtual absl::StatusOr<bool> RemoveRepository(const std::string& repository) = 0;
  // Sets the last-pulled time of `tag` (or, when `tag` is empty, of the tags pointing at
  // `digest`) to `at`, unless it was set less than `min_interval` before `at`. Returns the
  // number of tags written.
  virtual absl::StatusOr<int> RecordPull(const std::string& repository, const std::string& tag,
                                         const std::string& digest, absl::Time at,
                                         absl::Duration min_interval) = 0;

  // Put-backs of a single-tag delete (CatalogApi::DeleteTag): the sibling `tags` of
  // `repository` that are about to be put back at `digest` after the manifest's delete. While
  // such a record is live (until `expires_at`), delete events and sync passes keep those tags
  // (and so their repository, with its id) although the registry lacks them for a moment.
  // Recording a tag again replaces its record.
  virtual absl::Status RecordPutBacks(const std::string& repository, const std::string& digest,
                                      const std::vector<std::string>& tags,
                                      absl::Time expires_at) = 0;
  // Whether a put-back of `tag` is live at `now` (and, when `digest` is not empty, at that
  // digest).
  virtual absl::StatusOr<bool> PutBackPending(const std::string& repository,
                                              const std::string& tag, const std::string& digest,
                                              absl::Time now) = 0;
  // Forgets the put-backs of `repository`'s `tags`, and every put-back expired at `now`.
  virtual absl::Status ClearPutBacks(const std::string& repository,
                                     const std::vector<std::string>& tags, absl::Time now) = 0;
};

// A tag as the syncer compares it. `version` changes on every write of the tag (a global
// sequence), so a sync pass can tell whether an event changed it since it looked.
struct KnownTag {
  std::string digest;
  int64_t version = 0;
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  // Runs `fn` in one transaction; commits when it returns OK, rolls back otherwise.
  virtual absl::Status Write(const std::function<absl::Status(CatalogWriter&)>& fn) = 0;

  // --- API reads (filters applied by the store) ---
  virtual absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>> ListRepositories(
      const RepositoryQuery& query) = 0;
  virtual absl::StatusOr<RepositoryRecord> GetRepository(int64_t id) = 0;
  virtual absl::StatusOr<RepositoryRecord> GetRepositoryByName(const std::string& name) = 0;
  // Tags of a repository (repository_id > 0) or of every repository `filter` allows.
  virtual absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> ListTags(
      int64_t repository_id, const NamespaceFilter& filter, const PageRequest& page) = 0;
  virtual absl::StatusOr<TagRecord> GetTag(int64_t id) = 0;
  virtual absl::StatusOr<ManifestInfo> GetManifest(const std::string& repository,
                                                   const std::string& digest) = 0;
  // Entries with seq > after_seq, oldest first, at most `limit`; plus the smallest and largest
  // seq stored.
  struct FeedPage {
    std::vector<FeedEntry> entries;
    int64_t oldest_seq = 0;
    int64_t latest_seq = 0;
  };
  virtual absl::StatusOr<FeedPage> ListFeed(int64_t after_seq, int limit) = 0;

  // --- syncer reads ---
  virtual absl::StatusOr<std::vector<std::string>> RepositoryNames() = 0;
  virtual absl::StatusOr<std::map<std::string, KnownTag>> TagsOf(const std::string& repository) = 0;
  virtual absl::StatusOr<int64_t> CountTags() = 0;
  // The highest tag version handed out so far: tags written later have larger versions.
  virtual absl::StatusOr<int64_t> CurrentTagVersion() = 0;

  // --- retention ---
  // Deletes feed entries created before `before`. Returns how many.
  virtual absl::StatusOr<int64_t> PruneFeed(absl::Time before) = 0;
};

// The function that applies one event inside its transaction.
using ApplyEventFn = std::function<absl::Status(const StoredEvent&, CatalogWriter&)>;

// What happened to a claimed event.
struct ProcessOutcome {
  bool processed = false;  // false: no event was ready
  int64_t id = 0;
  absl::Status status;     // apply's status
  EventStatus new_status = EventStatus::kPending;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Stores the events not stored yet (by event_id), all or none, and wakes the workers
  // (NOTIFY) when a new pending one is among them. Returns, per input event, whether it was
  // new, only after the commit. An insert retried after a lost connection whose commit went
  // through reports its events as not new (they are stored all the same).
  virtual absl::StatusOr<std::vector<bool>> Insert(const std::vector<NewEvent>& events) = 0;

  // Claims the oldest pending event that is due at `now` and whose repository has no earlier
  // pending event (per-repository order), skipping events other workers hold, and runs
  // `apply` with a CatalogWriter in the same transaction. OK from apply: the event is DONE and
  // everything commits together. An error: the catalog changes roll back; the attempt is
  // recorded and the event retried after RetryBackoff, or FAILED after max_attempts, or at once
  // when `permanent(status)` says retrying cannot help.
  virtual absl::StatusOr<ProcessOutcome> ProcessNext(
      absl::Time now, const RetryPolicy& policy, const ApplyEventFn& apply,
      const std::function<bool(const absl::Status&)>& permanent) = 0;

  // When the next pending event that is not due at `now` becomes due (a retry's backoff);
  // std::nullopt when none. Events due but blocked behind an earlier event of their repository
  // are picked up by the worker that finishes that earlier event.
  virtual absl::StatusOr<std::optional<absl::Time>> NextDue(absl::Time now) = 0;

  virtual absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> List(
      const EventFilter& filter, const PageRequest& page) = 0;
  // FAILED -> PENDING (attempts reset). kFailedPrecondition for other states.
  virtual absl::StatusOr<StoredEvent> Retry(int64_t id, absl::Time now) = 0;
  virtual absl::StatusOr<EventQueueStats> Stats(absl::Time now) = 0;
  // Deletes DONE events processed before `done_before` and FAILED/REJECTED events received
  // before `failed_before`. Returns how many.
  virtual absl::StatusOr<int64_t> Prune(absl::Time done_before, absl::Time failed_before) = 0;
};

class SyncRunStore {
 public:
  virtual ~SyncRunStore() = default;
  // Records a new RUNNING pass; returns its id.
  virtual absl::StatusOr<int64_t> Start(const SyncReport& report) = 0;
  virtual absl::Status Finish(const SyncReport& report) = 0;
  virtual absl::StatusOr<SyncReport> Get(int64_t id) = 0;
  virtual absl::StatusOr<std::vector<SyncReport>> List(int limit) = 0;
  // The last finished pass that was not a dry run (its brake is the current brake state).
  virtual absl::StatusOr<std::optional<SyncReport>> LastApplied() = 0;
  // The last finished pass of any kind.
  virtual absl::StatusOr<std::optional<SyncReport>> LastFinished() = 0;
  // Marks RUNNING passes started before `before` as FAILED (their replica died).
  virtual absl::Status AbandonStale(absl::Time before) = 0;
};

// Mutual exclusion of sync passes across replicas.
class SyncLock {
 public:
  virtual ~SyncLock() = default;
  // Takes the lock when free: true. false when another holder has it.
  virtual absl::StatusOr<bool> TryAcquire() = 0;
  virtual void Release() = 0;
};

}  // namespace portunus::catalog
