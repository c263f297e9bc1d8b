#include "services/catalog/fake_catalog_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace portunus::catalog {
namespace {

using State = FakeCatalogStore::State;

class FakeWriter final : public CatalogWriter {
 public:
  FakeWriter(State& s, absl::Time now) : s_(s), now_(now) {}

  absl::StatusOr<std::optional<int64_t>> FindRepository(const std::string& repository) override {
    auto it = s_.repositories.find(repository);
    if (it == s_.repositories.end()) return std::optional<int64_t>();
    return std::optional<int64_t>(it->second.id);
  }

  absl::StatusOr<std::optional<ManifestInfo>> FindManifest(const std::string& repository,
                                                           const std::string& digest) override {
    auto it = s_.manifests.find({repository, digest});
    if (it == s_.manifests.end()) return std::optional<ManifestInfo>();
    return std::optional<ManifestInfo>(it->second);
  }

  absl::StatusOr<TagWrite> PutTag(const PutTagRequest& r) override {
    const auto key = std::make_pair(r.repository, r.tag);
    auto existing = s_.tags.find(key);
    if (r.expected_version.has_value()) {
      const int64_t current = existing == s_.tags.end() ? 0 : s_.versions[key];
      if (current != *r.expected_version) return TagWrite::kSkippedNewer;
    }
    auto repo = s_.repositories.find(r.repository);
    if (repo == s_.repositories.end()) {
      RepositoryRecord rec;
      rec.id = s_.next_repository_id++;
      rec.full_name = r.repository;
      rec.namespace_name = r.namespace_name;
      rec.namespace_id = r.namespace_id;
      rec.created_at = rec.updated_at = r.at;
      repo = s_.repositories.emplace(r.repository, rec).first;
    }
    if (!s_.manifests.count({r.repository, r.manifest.digest})) {
      s_.manifests[{r.repository, r.manifest.digest}] = r.manifest;
      s_.feed.push_back(FeedEntry{s_.next_seq++, r.repository, r.manifest.digest,
                                  r.manifest.media_type, r.tag, now_});
    }
    if (existing != s_.tags.end() && existing->second.digest == r.manifest.digest) {
      return TagWrite::kUnchanged;
    }
    repo->second.updated_at = r.at;
    s_.versions[key] = s_.next_version++;
    if (existing != s_.tags.end()) {
      existing->second.digest = r.manifest.digest;
      existing->second.author = r.author;
      existing->second.updated_at = r.at;
      return TagWrite::kUpdated;
    }
    TagRecord t;
    t.id = s_.next_tag_id++;
    t.repository_id = repo->second.id;
    t.repository = r.repository;
    t.namespace_name = repo->second.namespace_name;
    t.name = r.tag;
    t.digest = r.manifest.digest;
    t.author = r.author;
    t.created_at = t.updated_at = r.at;
    s_.tags[key] = t;
    return TagWrite::kAdded;
  }

  absl::StatusOr<bool> DeleteTag(const std::string& repository, const std::string& tag,
                                 std::optional<int64_t> expected_version) override {
    const auto key = std::make_pair(repository, tag);
    auto it = s_.tags.find(key);
    if (it == s_.tags.end()) return false;
    if (expected_version.has_value() && s_.versions[key] != *expected_version) return false;
    s_.tags.erase(it);
    s_.versions.erase(key);
    auto repo = s_.repositories.find(repository);
    if (repo != s_.repositories.end()) repo->second.updated_at = now_;
    return true;
  }

  absl::StatusOr<std::vector<std::string>> TagsWithDigest(const std::string& repository,
                                                          const std::string& digest) override {
    std::vector<std::string> out;
    for (const auto& [key, t] : s_.tags) {
      if (key.first == repository && t.digest == digest) out.push_back(key.second);
    }
    return out;
  }

  absl::StatusOr<bool> RemoveRepositoryIfEmpty(const std::string& repository) override {
    if (!s_.repositories.count(repository)) return false;
    for (const auto& [key, t] : s_.tags) {
      if (key.first == repository) return false;
    }
    return RemoveRepository(repository);
  }

  absl::StatusOr<bool> RemoveRepository(const std::string& repository) override {
    if (s_.repositories.erase(repository) == 0) return false;
    for (auto it = s_.tags.begin(); it != s_.tags.end();) {
      if (it->first.first == repository) {
        s_.versions.erase(it->first);
        it = s_.tags.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = s_.manifests.begin(); it != s_.manifests.end();) {
      it = it->first.first == repository ? s_.manifests.erase(it) : std::next(it);
    }
    return true;
  }

  absl::StatusOr<int> RecordPull(const std::string& repository, const std::string& tag,
                                 const std::string& digest, absl::Time at,
                                 absl::Duration min_interval) override {
    int written = 0;
    for (auto& [key, t] : s_.tags) {
      if (key.first != repository) continue;
      if (!tag.empty() ? key.second != tag : t.digest != digest) continue;
      if (t.pulled_at != absl::InfinitePast() && t.pulled_at > at - min_interval) continue;
      t.pulled_at = at;
      ++written;
    }
    return written;
  }

  absl::Status RecordPutBacks(const std::string& repository, const std::string& digest,
                              const std::vector<std::string>& tags,
                              absl::Time expires_at) override {
    for (const std::string& tag : tags) s_.put_backs[{repository, tag}] = {digest, expires_at};
    return absl::OkStatus();
  }

  absl::StatusOr<bool> PutBackPending(const std::string& repository, const std::string& tag,
                                      const std::string& digest, absl::Time now) override {
    auto it = s_.put_backs.find({repository, tag});
    return it != s_.put_backs.end() && (digest.empty() || it->second.first == digest) &&
           it->second.second > now;
  }

  absl::Status ClearPutBacks(const std::string& repository, const std::vector<std::string>& tags,
                             absl::Time now) override {
    for (const std::string& tag : tags) s_.put_backs.erase({repository, tag});
    for (auto it = s_.put_backs.begin(); it != s_.put_backs.end();) {
      it = it->second.second <= now ? s_.put_backs.erase(it) : std::next(it);
    }
    return absl::OkStatus();
  }

 private:
  State& s_;
  const absl::Time now_;
};

template <typename T>
std::pair<std::vector<T>, int64_t> Paginate(std::vector<T> items, const PageRequest& page) {
  const int64_t total = static_cast<int64_t>(items.size());
  if (page.all) return {std::move(items), total};
  const size_t begin = std::min(items.size(), static_cast<size_t>(page.Offset()));
  const size_t end = std::min(items.size(), begin + static_cast<size_t>(page.per_page));
  return {std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(begin),
                         items.begin() + static_cast<std::ptrdiff_t>(end)),
          total};
}

}  // namespace

// ----- FakeCatalogStore -----

void FakeCatalogStore::FailNextCall(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

absl::Status FakeCatalogStore::TakeFailure() {
  absl::Status s = fail_next_;
  fail_next_ = absl::OkStatus();
  return s;
}

absl::Status FakeCatalogStore::Transact(const std::function<absl::Status(CatalogWriter&)>& fn) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  State copy = state_;
  FakeWriter writer(copy, clock_.Now());
  absl::Status s = fn(writer);
  if (s.ok()) {
    state_ = std::move(copy);
    ++writes_;
  }
  return s;
}

absl::Status FakeCatalogStore::Write(const std::function<absl::Status(CatalogWriter&)>& fn) {
  return Transact(fn);
}

RepositoryRecord FakeCatalogStore::WithCount(const RepositoryRecord& r) const {
  RepositoryRecord out = r;
  out.tags_count = 0;
  std::set<std::string> digests;
  for (const auto& [key, t] : state_.tags) {
    if (key.first != r.full_name) continue;
    ++out.tags_count;
    digests.insert(t.digest);
  }
  out.digests.assign(digests.begin(), digests.end());
  return out;
}

TagRecord FakeCatalogStore::Joined(const TagRecord& t) const {
  TagRecord out = t;
  auto m = state_.manifests.find({t.repository, t.digest});
  if (m != state_.manifests.end()) out.manifest = m->second;
  return out;
}

absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>>
FakeCatalogStore::ListRepositories(const RepositoryQuery& q) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::vector<RepositoryRecord> out;
  const std::string needle = absl::AsciiStrToLower(q.name_contains);
  for (const auto& [name, r] : state_.repositories) {
    if (!q.filter.Allows(r.namespace_name)) continue;
    if (q.namespace_id > 0 && r.namespace_id != q.namespace_id) continue;
    if (!needle.empty() && !absl::StrContains(name, needle)) continue;
    out.push_back(WithCount(r));
  }
  return Paginate(std::move(out), q.page);
}

absl::StatusOr<RepositoryRecord> FakeCatalogStore::GetRepository(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  for (const auto& [name, r] : state_.repositories) {
    if (r.id == id) return WithCount(r);
  }
  return absl::NotFoundError(absl::StrCat("repository ", id, " not found"));
}

absl::StatusOr<RepositoryRecord> FakeCatalogStore::GetRepositoryByName(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  auto it = state_.repositories.find(name);
  if (it == state_.repositories.end()) {
    return absl::NotFoundError(absl::StrCat("repository ", name, " not found"));
  }
  return WithCount(it->second);
}

absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> FakeCatalogStore::ListTags(
    int64_t repository_id, const NamespaceFilter& filter, const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::vector<TagRecord> out;
  for (const auto& [key, t] : state_.tags) {
    if (repository_id > 0 && t.repository_id != repository_id) continue;
    if (!filter.Allows(t.namespace_name)) continue;
    out.push_back(Joined(t));
  }
  return Paginate(std::move(out), page);
}

absl::StatusOr<TagRecord> FakeCatalogStore::GetTag(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  for (const auto& [key, t] : state_.tags) {
    if (t.id == id) return Joined(t);
  }
  return absl::NotFoundError(absl::StrCat("tag ", id, " not found"));
}

absl::StatusOr<ManifestInfo> FakeCatalogStore::GetManifest(const std::string& repository,
                                                           const std::string& digest) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  auto it = state_.manifests.find({repository, digest});
  if (it == state_.manifests.end()) return absl::NotFoundError("manifest not found");
  return it->second;
}

absl::StatusOr<CatalogStore::FeedPage> FakeCatalogStore::ListFeed(int64_t after_seq, int limit) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  FeedPage page;
  for (const FeedEntry& e : state_.feed) {
    if (e.seq > after_seq && static_cast<int>(page.entries.size()) < limit) page.entries.push_back(e);
  }
  if (!state_.feed.empty()) page.oldest_seq = state_.feed.front().seq;
  page.latest_seq = state_.next_seq - 1;
  return page;
}

absl::StatusOr<std::vector<std::string>> FakeCatalogStore::RepositoryNames() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::vector<std::string> out;
  for (const auto& [name, r] : state_.repositories) out.push_back(name);
  return out;
}

absl::StatusOr<std::map<std::string, KnownTag>> FakeCatalogStore::TagsOf(
    const std::string& repository) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::map<std::string, KnownTag> out;
  for (const auto& [key, t] : state_.tags) {
    if (key.first == repository) out[key.second] = KnownTag{t.digest, state_.versions.at(key)};
  }
  return out;
}

absl::StatusOr<int64_t> FakeCatalogStore::CountTags() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  return static_cast<int64_t>(state_.tags.size());
}

absl::StatusOr<int64_t> FakeCatalogStore::CurrentTagVersion() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  return state_.next_version - 1;
}

absl::StatusOr<int64_t> FakeCatalogStore::PruneFeed(absl::Time before) {
  absl::MutexLock lock(&mu_);
  const size_t n = state_.feed.size();
  state_.feed.erase(std::remove_if(state_.feed.begin(), state_.feed.end(),
                                   [&](const FeedEntry& e) { return e.created_at < before; }),
                    state_.feed.end());
  return static_cast<int64_t>(n - state_.feed.size());
}

std::map<std::string, std::string> FakeCatalogStore::Tags(const std::string& repository) const {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  for (const auto& [key, t] : state_.tags) {
    if (key.first == repository) out[key.second] = t.digest;
  }
  return out;
}

std::optional<TagRecord> FakeCatalogStore::FindTag(const std::string& repository,
                                                   const std::string& tag) const {
  absl::MutexLock lock(&mu_);
  auto it = state_.tags.find({repository, tag});
  if (it == state_.tags.end()) return std::nullopt;
  return Joined(it->second);
}

int64_t FakeCatalogStore::writes() const {
  absl::MutexLock lock(&mu_);
  return writes_;
}

size_t FakeCatalogStore::put_backs() const {
  absl::MutexLock lock(&mu_);
  return state_.put_backs.size();
}

// ----- FakeEventStore -----

void FakeEventStore::FailNextCall(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

absl::Status FakeEventStore::TakeFailure() {
  absl::Status s = fail_next_;
  fail_next_ = absl::OkStatus();
  return s;
}

int64_t FakeEventStore::insert_calls() const {
  absl::MutexLock lock(&mu_);
  return insert_calls_;
}

absl::StatusOr<std::vector<bool>> FakeEventStore::Insert(const std::vector<NewEvent>& events) {
  absl::MutexLock lock(&mu_);
  ++insert_calls_;
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::vector<bool> inserted;
  for (const NewEvent& e : events) {
    bool dup = false;
    for (const auto& [id, stored] : events_) dup = dup || stored.event.event_id == e.event_id;
    inserted.push_back(!dup);
    if (dup) continue;
    StoredEvent s;
    s.id = next_id_++;
    s.event = e;
    s.received_at = clock_.Now();
    s.next_attempt_at = s.received_at;
    if (e.status == EventStatus::kRejected) s.last_error = e.reject_reason;
    events_[s.id] = s;
  }
  return inserted;
}

absl::StatusOr<ProcessOutcome> FakeEventStore::ProcessNext(
    absl::Time now, const RetryPolicy& policy, const ApplyEventFn& apply,
    const std::function<bool(const absl::Status&)>& permanent) {
  StoredEvent claimed;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = TakeFailure(); !s.ok()) return s;
    std::map<std::string, bool> blocked;  // repositories with an earlier pending event
    bool found = false;
    for (auto& [id, e] : events_) {
      if (e.event.status != EventStatus::kPending) continue;
      const bool repo_blocked = blocked[e.event.repository];
      blocked[e.event.repository] = true;
      if (repo_blocked || claimed_[id] || e.next_attempt_at > now) continue;
      claimed_[id] = true;
      claimed = e;
      found = true;
      break;
    }
    if (!found) return ProcessOutcome{};
  }
  ProcessOutcome out;
  out.processed = true;
  out.id = claimed.id;
  out.status = catalog_.Transact([&](CatalogWriter& w) { return apply(claimed, w); });
  absl::MutexLock lock(&mu_);
  claimed_.erase(claimed.id);
  StoredEvent& e = events_[claimed.id];
  e.attempts++;
  if (out.status.ok()) {
    e.event.status = EventStatus::kDone;
    e.processed_at = now;
    e.last_error.clear();
  } else {
    e.last_error = std::string(out.status.message());
    if (e.attempts >= policy.max_attempts || (permanent && permanent(out.status))) {
      e.event.status = EventStatus::kFailed;
    } else {
      e.next_attempt_at = now + RetryBackoff(policy, e.attempts);
    }
  }
  out.new_status = e.event.status;
  return out;
}

absl::StatusOr<std::optional<absl::Time>> FakeEventStore::NextDue(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::optional<absl::Time> next;
  for (const auto& [id, e] : events_) {
    if (e.event.status != EventStatus::kPending || e.next_attempt_at <= now) continue;
    if (!next || e.next_attempt_at < *next) next = e.next_attempt_at;
  }
  return next;
}

absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> FakeEventStore::List(
    const EventFilter& filter, const PageRequest& page) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  std::vector<EventStatus> statuses = filter.statuses;
  if (statuses.empty()) statuses = {EventStatus::kPending, EventStatus::kFailed, EventStatus::kRejected};
  std::vector<StoredEvent> out;
  for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
    const StoredEvent& e = it->second;
    if (std::find(statuses.begin(), statuses.end(), e.event.status) == statuses.end()) continue;
    if (!filter.repository.empty() && e.event.repository != filter.repository) continue;
    out.push_back(e);
  }
  return Paginate(std::move(out), page);
}

absl::StatusOr<StoredEvent> FakeEventStore::Retry(int64_t id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  auto it = events_.find(id);
  if (it == events_.end()) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  if (it->second.event.status != EventStatus::kFailed) {
    return absl::FailedPreconditionError(absl::StrCat("event ", id, " is ",
                                                      EventStatusName(it->second.event.status),
                                                      ", only failed events can be retried"));
  }
  it->second.event.status = EventStatus::kPending;
  it->second.attempts = 0;
  it->second.next_attempt_at = now;
  return it->second;
}

absl::StatusOr<EventQueueStats> FakeEventStore::Stats(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = TakeFailure(); !s.ok()) return s;
  EventQueueStats st;
  for (const auto& [id, e] : events_) {
    switch (e.event.status) {
      case EventStatus::kPending:
        ++st.pending;
        if (e.next_attempt_at <= now) ++st.ready;
        if (st.oldest_pending_received == absl::InfinitePast() ||
            e.received_at < st.oldest_pending_received) {
          st.oldest_pending_received = e.received_at;
        }
        break;
      case EventStatus::kFailed:
        ++st.failed;
        break;
      case EventStatus::kRejected:
        ++st.rejected;
        break;
      case EventStatus::kDone:
        break;
    }
  }
  return st;
}

absl::StatusOr<int64_t> FakeEventStore::Prune(absl::Time done_before, absl::Time failed_before) {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (auto it = events_.begin(); it != events_.end();) {
    const StoredEvent& e = it->second;
    const bool drop = (e.event.status == EventStatus::kDone && e.processed_at < done_before) ||
                      ((e.event.status == EventStatus::kFailed ||
                        e.event.status == EventStatus::kRejected) &&
                       e.received_at < failed_before);
    if (drop) {
      it = events_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

std::vector<StoredEvent> FakeEventStore::All() const {
  absl::MutexLock lock(&mu_);
  std::vector<StoredEvent> out;
  for (const auto& [id, e] : events_) out.push_back(e);
  return out;
}

// ----- FakeSyncRunStore -----

absl::StatusOr<int64_t> FakeSyncRunStore::Start(const SyncReport& report) {
  absl::MutexLock lock(&mu_);
  SyncReport r = report;
  r.id = next_id_++;
  r.state = SyncState::kRunning;
  runs_[r.id] = r;
  return r.id;
}

absl::Status FakeSyncRunStore::Finish(const SyncReport& report) {
  absl::MutexLock lock(&mu_);
  if (!runs_.count(report.id)) return absl::NotFoundError("sync run not found");
  runs_[report.id] = report;
  return absl::OkStatus();
}

absl::StatusOr<SyncReport> FakeSyncRunStore::Get(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(id);
  if (it == runs_.end()) return absl::NotFoundError(absl::StrCat("sync run ", id, " not found"));
  return it->second;
}

absl::StatusOr<std::vector<SyncReport>> FakeSyncRunStore::List(int limit) {
  absl::MutexLock lock(&mu_);
  std::vector<SyncReport> out;
  for (auto it = runs_.rbegin(); it != runs_.rend() && static_cast<int>(out.size()) < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::optional<SyncReport>> FakeSyncRunStore::LastApplied() {
  absl::MutexLock lock(&mu_);
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (!it->second.dry_run && it->second.state != SyncState::kRunning) {
      return std::optional<SyncReport>(it->second);
    }
  }
  return std::optional<SyncReport>();
}

absl::StatusOr<std::optional<SyncReport>> FakeSyncRunStore::LastFinished() {
  absl::MutexLock lock(&mu_);
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (it->second.state != SyncState::kRunning) return std::optional<SyncReport>(it->second);
  }
  return std::optional<SyncReport>();
}

absl::Status FakeSyncRunStore::AbandonStale(absl::Time before) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, r] : runs_) {
    if (r.state == SyncState::kRunning && r.started_at < before) {
      r.state = SyncState::kFailed;
      r.error = "abandoned: the replica running it stopped";
    }
  }
  return absl::OkStatus();
}

// ----- FakeSyncLock -----

absl::StatusOr<bool> FakeSyncLock::TryAcquire() {
  absl::MutexLock lock(&shared_.mu);
  if (shared_.held) return mine_;
  shared_.held = true;
  mine_ = true;
  return true;
}

void FakeSyncLock::Release() {
  absl::MutexLock lock(&shared_.mu);
  if (mine_) shared_.held = false;
  mine_ = false;
}

}  // namespace portunus::catalog
