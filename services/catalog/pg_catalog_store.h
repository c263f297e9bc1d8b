// PostgreSQL implementations of the catalog's storage interfaces (catalog_store.h), on the
// `catalog` schema of migrations/. These are the only catalog files that use libpqxx.
//
//   PgCatalogStore   repositories, tags, manifests, the new-manifest feed;
//   PgEventStore     the durable event queue: one row per registry event id, claimed with
//                    FOR UPDATE SKIP LOCKED by workers of every replica, applied inside a
//                    savepoint of the transaction that marks it done (exactly once), woken
//                    by NOTIFY catalog_events;
//   PgSyncRunStore   sync passes (the report as jsonb);
//   PgSyncLock       a session-level advisory lock on its own connection;
//   PgNotificationListener  LISTEN catalog_events on a dedicated connection (pqxx 6.4
//                    notification_receiver), reconnecting with backoff.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"
#include "services/common/pg_pool.h"

namespace portunus::catalog {

// The NOTIFY channel new events are announced on.
inline constexpr char kEventsChannel[] = "catalog_events";

class PgCatalogStore final : public CatalogStore {
 public:
  explicit PgCatalogStore(PgPool& pool) : pool_(pool) {}

  absl::Status Write(const std::function<absl::Status(CatalogWriter&)>& fn) override;
  absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>> ListRepositories(
      const RepositoryQuery& query) override;
  absl::StatusOr<RepositoryRecord> GetRepository(int64_t id) override;
  absl::StatusOr<RepositoryRecord> GetRepositoryByName(const std::string& name) override;
  absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> ListTags(
      int64_t repository_id, const NamespaceFilter& filter, const PageRequest& page) override;
  absl::StatusOr<TagRecord> GetTag(int64_t id) override;
  absl::StatusOr<ManifestInfo> GetManifest(const std::string& repository,
                                           const std::string& digest) override;
  absl::StatusOr<FeedPage> ListFeed(int64_t after_seq, int limit) override;
  absl::StatusOr<std::vector<std::string>> RepositoryNames() override;
  absl::StatusOr<std::map<std::string, KnownTag>> TagsOf(const std::string& repository) override;
  absl::StatusOr<int64_t> CountTags() override;
  absl::StatusOr<int64_t> CurrentTagVersion() override;
  absl::StatusOr<int64_t> PruneFeed(absl::Time before) override;

 private:
  PgPool& pool_;
};

class PgEventStore final : public EventStore {
 public:
  explicit PgEventStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<std::vector<bool>> Insert(const std::vector<NewEvent>& events) override;
  absl::StatusOr<ProcessOutcome> ProcessNext(
      absl::Time now, const RetryPolicy& policy, const ApplyEventFn& apply,
      const std::function<bool(const absl::Status&)>& permanent) override;
  absl::StatusOr<std::optional<absl::Time>> NextDue(absl::Time now) override;
  absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> List(
      const EventFilter& filter, const PageRequest& page) override;
  absl::StatusOr<StoredEvent> Retry(int64_t id, absl::Time now) override;
  absl::StatusOr<EventQueueStats> Stats(absl::Time now) override;
  absl::StatusOr<int64_t> Prune(absl::Time done_before, absl::Time failed_before) override;

  // The query ProcessNext claims an event with ($1: now, as timestamptz text). Public for the
  // test that checks it reads a row per repository with pending events, not the backlog,
  // whatever the table's statistics say.
  static const std::string& ClaimSql();

 private:
  PgPool& pool_;
};

class PgSyncRunStore final : public SyncRunStore {
 public:
  explicit PgSyncRunStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<int64_t> Start(const SyncReport& report) override;
  absl::Status Finish(const SyncReport& report) override;
  absl::StatusOr<SyncReport> Get(int64_t id) override;
  absl::StatusOr<std::vector<SyncReport>> List(int limit) override;
  absl::StatusOr<std::optional<SyncReport>> LastApplied() override;
  absl::StatusOr<std::optional<SyncReport>> LastFinished() override;
  absl::Status AbandonStale(absl::Time before) override;

 private:
  PgPool& pool_;
};

// The report as stored in sync_runs.report (and as portunusctl prints it in JSON).
std::string SyncReportToJson(const SyncReport& report);
SyncReport SyncReportFromJson(const std::string& json);

// Thread-safe. Holds its own connection while the lock is held, so a crashed replica's lock
// is released by PostgreSQL when its connection drops.
class PgSyncLock final : public SyncLock {
 public:
  explicit PgSyncLock(std::string dsn) : dsn_(std::move(dsn)) {}
  ~PgSyncLock() override;
  absl::StatusOr<bool> TryAcquire() override;
  void Release() override;

 private:
  const std::string dsn_;
  absl::Mutex mu_;
  std::unique_ptr<pqxx::connection> conn_ ABSL_GUARDED_BY(mu_);
};

// Calls `on_notify` for every NOTIFY on kEventsChannel, and once after every (re)connection
// (notifications sent while disconnected are lost; the slow poll covers the rest).
class PgNotificationListener {
 public:
  PgNotificationListener(std::string dsn, std::function<void()> on_notify);
  ~PgNotificationListener();
  void Start();
  void Stop();
  // True while LISTEN is active (readiness, tests).
  bool listening() const { return listening_.load(); }

 private:
  void Loop();

  const std::string dsn_;
  const std::function<void()> on_notify_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace portunus::catalog
