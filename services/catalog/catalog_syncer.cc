#include "services/catalog/catalog_syncer.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace portunus::catalog {

struct CatalogSyncer::RepoResult {
  bool listed = false;  // tags and every digest known: deletions allowed
  std::vector<SyncFailure> failures;
  std::vector<SyncChange> applied;  // additions and updates (applied, or planned in a dry run)
  struct PlannedDelete {
    std::string tag;
    std::string digest;
    int64_t version;
  };
  std::vector<PlannedDelete> deletes;
  int64_t tags = 0;
  int64_t added = 0;
  int64_t updated = 0;
};

CatalogSyncer::CatalogSyncer(Options options, CatalogStore& store, RegistryClient& registry,
                             AccessClient& access, const Clock& clock)
    : options_(options),
      store_(store),
      registry_(registry),
      access_(access),
      clock_(clock),
      inspector_(registry) {}

absl::StatusOr<int64_t> CatalogSyncer::NamespaceId(const std::string& name) {
  if (name.empty()) return 0;
  // Held across the call: crawlers of two repositories of a new namespace ask auth once.
  absl::MutexLock lock(&mu_);
  auto it = namespace_ids_.find(name);
  if (it != namespace_ids_.end()) return it->second;
  PORTUNUS_ASSIGN_OR_RETURN(int64_t id, access_.EnsureNamespace(name));
  namespace_ids_[name] = id;
  return id;
}

void CatalogSyncer::AddChange(SyncReport* report, SyncChange change) {
  if (report->changes.size() < options_.max_changes) {
    report->changes.push_back(std::move(change));
  } else {
    report->changes_truncated = true;
  }
}

void CatalogSyncer::CrawlRepository(const std::string& name, bool known, bool dry_run,
                                    RepoResult* out) {
  auto fail = [&](const absl::Status& s) {
    out->failures.push_back(SyncFailure{name, std::string(s.message())});
  };
  // What the catalog knows is read BEFORE the registry: a tag an event adds in between is then
  // not in our snapshot and can never be planned for deletion.
  std::map<std::string, KnownTag> db;
  if (known) {
    absl::StatusOr<std::map<std::string, KnownTag>> tags = store_.TagsOf(name);
    if (!tags.ok()) return fail(tags.status());
    db = std::move(*tags);
  }
  absl::StatusOr<std::vector<std::string>> listed = registry_.ListTags(name);
  if (absl::IsNotFound(listed.status())) listed = std::vector<std::string>();  // no tags left
  if (!listed.ok()) return fail(listed.status());
  out->tags = static_cast<int64_t>(listed->size());

  bool complete = true;
  struct Upsert {
    std::string tag;
    std::string old_digest;
    int64_t version;  // 0: must not exist yet
    ManifestInfo info;
  };
  std::vector<Upsert> upserts;
  std::set<std::string> present;
  for (const std::string& tag : *listed) {
    auto it = db.find(tag);
    if (it != db.end() || dry_run) {
      absl::StatusOr<ManifestHead> head = registry_.HeadManifest(name, tag);
      if (absl::IsNotFound(head.status())) continue;  // deleted since the listing
      if (!head.ok()) {
        complete = false;
        fail(head.status());
        continue;
      }
      present.insert(tag);
      if (it != db.end() && it->second.digest == head->digest) continue;
      Upsert u{tag, it == db.end() ? "" : it->second.digest,
               it == db.end() ? 0 : it->second.version, ManifestInfo{}};
      u.info.digest = head->digest;
      upserts.push_back(std::move(u));
      continue;
    }
    // New tag: one GET gives the digest and the manifest to record.
    absl::StatusOr<FetchedManifest> fetched = registry_.GetManifest(name, tag);
    if (absl::IsNotFound(fetched.status())) continue;
    if (!fetched.ok()) {
      complete = false;
      fail(fetched.status());
      continue;
    }
    present.insert(tag);
    Upsert u{tag, "", 0, ManifestInfo{}};
    absl::StatusOr<ManifestInfo> stored = store_.GetManifest(name, fetched->digest);
    absl::StatusOr<ManifestInfo> info =
        stored.ok() ? std::move(stored) : inspector_.InspectFetched(name, *fetched);
    if (!info.ok()) {
      fail(info.status());
      continue;  // not recorded; the tag is present, so it is not deleted either
    }
    u.info = std::move(*info);
    upserts.push_back(std::move(u));
  }
  out->listed = complete;
  if (complete) {
    for (const auto& [tag, k] : db) {
      if (!present.count(tag)) out->deletes.push_back({tag, k.digest, k.version});
    }
  }
  if (upserts.empty()) return;

  if (dry_run) {
    for (const Upsert& u : upserts) {
      out->applied.push_back(SyncChange{u.version == 0 ? SyncChange::Kind::kAdd
                                                       : SyncChange::Kind::kUpdate,
                                        name, u.tag, u.old_digest, u.info.digest});
      (u.version == 0 ? out->added : out->updated)++;
    }
    return;
  }
  // Updates found by HEAD need the new manifest's details (stored ones are reused).
  for (Upsert& u : upserts) {
    if (!u.info.media_type.empty()) continue;
    absl::StatusOr<ManifestInfo> stored = store_.GetManifest(name, u.info.digest);
    absl::StatusOr<ManifestInfo> info =
        stored.ok() ? std::move(stored) : inspector_.Inspect(name, u.info.digest);
    if (!info.ok()) {
      fail(info.status());
      u.info.digest.clear();  // skip
      continue;
    }
    u.info = std::move(*info);
  }
  int64_t namespace_id = 0;
  if (!known) {
    absl::StatusOr<int64_t> id = NamespaceId(NamespaceOf(name));
    if (!id.ok()) return fail(id.status());
    namespace_id = *id;
  }
  const absl::Time now = clock_.Now();
  std::vector<SyncChange> changes;
  int64_t added = 0, updated = 0;
  absl::Status s = store_.Write([&](CatalogWriter& w) -> absl::Status {
    changes.clear();
    added = updated = 0;
    for (const Upsert& u : upserts) {
      if (u.info.digest.empty()) continue;
      PutTagRequest put;
      put.repository = name;
      put.namespace_name = NamespaceOf(name);
      put.namespace_id = namespace_id;
      put.tag = u.tag;
      put.manifest = u.info;
      put.at = now;
      put.expected_version = u.version;
      PORTUNUS_ASSIGN_OR_RETURN(TagWrite result, w.PutTag(put));
      if (result == TagWrite::kAdded) {
        ++added;
        changes.push_back({SyncChange::Kind::kAdd, name, u.tag, "", u.info.digest});
      } else if (result == TagWrite::kUpdated) {
        ++updated;
        changes.push_back({SyncChange::Kind::kUpdate, name, u.tag, u.old_digest, u.info.digest});
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    out->listed = false;  // be conservative: no deletions where writing failed
    return fail(s);
  }
  out->added = added;
  out->updated = updated;
  out->applied = std::move(changes);
}

void CatalogSyncer::Run(bool deletes, SyncReport* report, const std::atomic<bool>* cancel) {
  report->started_at = clock_.Now();
  report->state = SyncState::kRunning;
  report->brake.max_delete_percent = options_.max_delete_percent;

  absl::StatusOr<int64_t> known_tags = store_.CountTags();
  absl::StatusOr<std::vector<std::string>> known_names = store_.RepositoryNames();
  if (!known_tags.ok() || !known_names.ok()) {
    report->state = SyncState::kFailed;
    report->error = absl::StrCat("reading the catalog: ",
                                 (!known_tags.ok() ? known_tags.status() : known_names.status()).message());
    report->finished_at = clock_.Now();
    return;
  }
  report->brake.known_tags = *known_tags;
  const std::set<std::string> known(known_names->begin(), known_names->end());
  // Tags written after this point (by events during the pass) are never deleted by it.
  absl::StatusOr<int64_t> version_before = store_.CurrentTagVersion();
  if (!version_before.ok()) {
    report->state = SyncState::kFailed;
    report->error = absl::StrCat("reading the catalog: ", version_before.status().message());
    report->finished_at = clock_.Now();
    return;
  }

  absl::StatusOr<std::vector<std::string>> names = ListAllRepositories(registry_, options_.page_size);
  if (!names.ok()) {
    report->state = SyncState::kFailed;
    report->error = absl::StrCat("listing the registry catalog: ", names.status().message());
    report->failures.push_back(SyncFailure{"", report->error});
    report->finished_at = clock_.Now();
    LogWarn("sync: catalog listing failed, nothing changed", {{"error", names.status()}});
    return;
  }
  report->repositories = static_cast<int64_t>(names->size());

  // Crawl with bounded parallelism.
  std::vector<RepoResult> results(names->size());
  std::atomic<size_t> next{0};
  const int threads = std::max(1, std::min<int>(options_.parallelism, static_cast<int>(names->size())));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < names->size(); i = next.fetch_add(1)) {
        if (cancel != nullptr && cancel->load()) return;
        CrawlRepository((*names)[i], known.count((*names)[i]) != 0, report->dry_run, &results[i]);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  if (cancel != nullptr && cancel->load()) {
    report->state = SyncState::kFailed;
    report->error = "cancelled: the catalog service is shutting down (nothing was deleted)";
    report->finished_at = clock_.Now();
    return;
  }

  // Collect additions and planned deletions.
  struct RepoDeletes {
    std::string repository;
    std::vector<RepoResult::PlannedDelete> tags;
    bool whole = false;  // gone from the registry's catalog
  };
  std::vector<RepoDeletes> planned;
  int64_t would_delete = 0;
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < names->size(); ++i) {
      RepoResult& r = results[i];
      report->tags += r.tags;
      report->added += r.added;
      report->updated += r.updated;
      for (SyncFailure& f : r.failures) report->failures.push_back(std::move(f));
      for (SyncChange& c : r.applied) AddChange(report, std::move(c));
      if (r.listed && !r.deletes.empty()) {
        would_delete += static_cast<int64_t>(r.deletes.size());
        planned.push_back({(*names)[i], std::move(r.deletes), false});
      }
    }
  }
  const std::set<std::string> listed(names->begin(), names->end());
  for (const std::string& gone : known) {
    if (listed.count(gone)) continue;
    absl::StatusOr<std::map<std::string, KnownTag>> tags = store_.TagsOf(gone);
    if (!tags.ok()) {
      report->failures.push_back(SyncFailure{gone, std::string(tags.status().message())});
      continue;
    }
    RepoDeletes d{gone, {}, true};
    for (const auto& [tag, k] : *tags) {
      // Read after the listing: only what existed before the pass may go.
      if (k.version <= *version_before) d.tags.push_back({tag, k.digest, k.version});
    }
    would_delete += static_cast<int64_t>(d.tags.size());
    planned.push_back(std::move(d));
  }

  report->brake.would_delete = would_delete;
  const double limit = options_.max_delete_percent / 100.0 * static_cast<double>(*known_tags);
  const bool over = deletes && would_delete > 0 && static_cast<double>(would_delete) > limit &&
                    would_delete >= options_.brake_min_deletes;
  if (over && !report->force) {
    report->brake.engaged = true;
    report->brake.reason = absl::StrFormat(
        "this pass would delete %d of %d known tags (more than %.4g%%): nothing was deleted; "
        "check the registry, then run `portunusctl sync --force` to apply the deletions",
        would_delete, *known_tags, options_.max_delete_percent);
    LogWarn("sync: safety brake engaged", {{"would_delete", would_delete},
                                           {"known_tags", *known_tags}});
  }

  // Deletions.
  absl::MutexLock lock(&mu_);
  for (RepoDeletes& d : planned) {
    if (!deletes) break;  // the `update` strategy never deletes
    if (report->dry_run || report->brake.engaged) {
      // Listed as what would be (dry run) or was withheld (brake).
      for (const auto& t : d.tags) {
        AddChange(report, {SyncChange::Kind::kDelete, d.repository, t.tag, t.digest, ""});
      }
      if (report->dry_run) {
        report->deleted += static_cast<int64_t>(d.tags.size());
        if (d.whole) ++report->repositories_deleted;
      }
      continue;
    }
    int64_t deleted = 0;
    bool removed = false;
    std::vector<SyncChange> changes;
    absl::Status s = store_.Write([&](CatalogWriter& w) -> absl::Status {
      deleted = 0;
      changes.clear();
      for (const auto& t : d.tags) {
        // Missing from the listing only for a moment: a single-tag delete is putting it back.
        PORTUNUS_ASSIGN_OR_RETURN(bool putting_back,
                                  w.PutBackPending(d.repository, t.tag, t.digest, clock_.Now()));
        if (putting_back) continue;
        PORTUNUS_ASSIGN_OR_RETURN(bool gone, w.DeleteTag(d.repository, t.tag, t.version));
        if (gone) {
          ++deleted;
          changes.push_back({SyncChange::Kind::kDelete, d.repository, t.tag, t.digest, ""});
        }
      }
      PORTUNUS_ASSIGN_OR_RETURN(removed, w.RemoveRepositoryIfEmpty(d.repository));
      return absl::OkStatus();
    });
    if (!s.ok()) {
      report->failures.push_back(SyncFailure{d.repository, std::string(s.message())});
      continue;
    }
    report->deleted += deleted;
    if (removed) ++report->repositories_deleted;
    for (SyncChange& c : changes) AddChange(report, std::move(c));
  }

  report->finished_at = clock_.Now();
  if (report->brake.engaged) {
    report->state = SyncState::kBraked;
  } else if (!report->failures.empty()) {
    report->state = SyncState::kPartial;
  } else {
    report->state = SyncState::kSucceeded;
  }
  LogInfo("sync pass finished",
          {{"state", SyncStateName(report->state)}, {"dry_run", report->dry_run},
           {"repositories", report->repositories}, {"tags", report->tags},
           {"added", report->added}, {"updated", report->updated}, {"deleted", report->deleted},
           {"failures", static_cast<int64_t>(report->failures.size())}});
}

}  // namespace portunus::catalog
