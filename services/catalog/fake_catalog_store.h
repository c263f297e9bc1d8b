// In-memory implementations of the catalog storage interfaces (catalog_store.h) for domain
// tests. Transactions are serialized and copy-on-write, so a failing apply rolls back exactly
// like PostgreSQL would. Each has a FailNextCall(status) knob. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_store.h"
#include "services/common/clock.h"

namespace portunus::catalog {

class FakeCatalogStore final : public CatalogStore {
 public:
  explicit FakeCatalogStore(const Clock& clock) : clock_(clock) {}

  void FailNextCall(absl::Status status);

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

  // Test helpers.
  // tag -> digest of `repository` ({} when unknown).
  std::map<std::string, std::string> Tags(const std::string& repository) const;
  std::optional<TagRecord> FindTag(const std::string& repository, const std::string& tag) const;
  int64_t writes() const;  // committed transactions
  size_t put_backs() const;  // recorded put-backs, live or expired

  struct State {
    int64_t next_repository_id = 1;
    int64_t next_tag_id = 1;
    int64_t next_version = 1;
    int64_t next_seq = 1;
    std::map<std::string, RepositoryRecord> repositories;                       // by name
    std::map<std::pair<std::string, std::string>, TagRecord> tags;              // (repo, tag)
    std::map<std::pair<std::string, std::string>, int64_t> versions;            // (repo, tag)
    std::map<std::pair<std::string, std::string>, ManifestInfo> manifests;      // (repo, digest)
    std::vector<FeedEntry> feed;
    // (repo, tag) -> (digest, expires_at)
    std::map<std::pair<std::string, std::string>, std::pair<std::string, absl::Time>> put_backs;
  };

  // Runs fn on a copy of the state inside the store's lock; the copy replaces the state when
  // fn returns OK. Used by FakeEventStore to share the transaction.
  absl::Status Transact(const std::function<absl::Status(CatalogWriter&)>& fn);

 private:
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  RepositoryRecord WithCount(const RepositoryRecord& r) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  TagRecord Joined(const TagRecord& t) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock& clock_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  int64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeEventStore final : public EventStore {
 public:
  FakeEventStore(FakeCatalogStore& catalog, const Clock& clock) : catalog_(catalog), clock_(clock) {}

  void FailNextCall(absl::Status status);
  int64_t insert_calls() const;

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

  std::vector<StoredEvent> All() const;

 private:
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FakeCatalogStore& catalog_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  std::map<int64_t, StoredEvent> events_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, bool> claimed_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  int64_t insert_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeSyncRunStore final : public SyncRunStore {
 public:
  absl::StatusOr<int64_t> Start(const SyncReport& report) override;
  absl::Status Finish(const SyncReport& report) override;
  absl::StatusOr<SyncReport> Get(int64_t id) override;
  absl::StatusOr<std::vector<SyncReport>> List(int limit) override;
  absl::StatusOr<std::optional<SyncReport>> LastApplied() override;
  absl::StatusOr<std::optional<SyncReport>> LastFinished() override;
  absl::Status AbandonStale(absl::Time before) override;

 private:
  mutable absl::Mutex mu_;
  std::map<int64_t, SyncReport> runs_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

// A lock shared by every FakeSyncLock made from the same `held` flag (two "replicas").
class FakeSyncLock final : public SyncLock {
 public:
  struct Shared {
    absl::Mutex mu;
    bool held ABSL_GUARDED_BY(mu) = false;
  };
  explicit FakeSyncLock(Shared& shared) : shared_(shared) {}
  absl::StatusOr<bool> TryAcquire() override;
  void Release() override;

 private:
  Shared& shared_;
  bool mine_ = false;
};

}  // namespace portunus::catalog
