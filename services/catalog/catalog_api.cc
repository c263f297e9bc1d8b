#include "services/catalog/catalog_api.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::catalog {

CatalogApi::CatalogApi(Options options, CatalogStore& store, RegistryClient& registry,
                       AccessClient& access, const Clock& clock)
    : options_(options), store_(store), registry_(registry), access_(access), clock_(clock) {}

absl::StatusOr<Caller> CatalogApi::Authenticate(const CallerCredentials& credentials) {
  return access_.Authenticate(credentials);
}

absl::Status CatalogApi::RequirePrivileged(const Caller& caller) {
  if (caller.privileged()) return absl::OkStatus();
  if (caller.anonymous()) return absl::UnauthenticatedError("authentication required");
  return absl::PermissionDeniedError("only administrators may do this");
}

absl::StatusOr<NamespaceFilter> CatalogApi::Visible(const Caller& caller) {
  if (caller.anonymous() && !options_.anonymous_browsing) {
    return absl::UnauthenticatedError(
        "authentication required: anonymous browsing is disabled");
  }
  return access_.PullableNamespaces(caller);
}

absl::Status CatalogApi::RequireDelete(const Caller& caller, const std::string& repository) {
  if (caller.anonymous()) return absl::UnauthenticatedError("authentication required");
  PORTUNUS_ASSIGN_OR_RETURN(bool may, access_.MayDelete(caller, repository));
  if (!may) {
    return absl::PermissionDeniedError(
        absl::StrCat("you may not delete images in repository ", repository));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>> CatalogApi::ListRepositories(
    const Caller& caller, int64_t namespace_id, const std::string& query,
    const PageRequest& page) {
  PORTUNUS_ASSIGN_OR_RETURN(NamespaceFilter filter, Visible(caller));
  RepositoryQuery q;
  q.filter = std::move(filter);
  q.namespace_id = namespace_id;
  q.name_contains = query;
  q.page = page;
  return store_.ListRepositories(q);
}

absl::StatusOr<RepositoryRecord> CatalogApi::GetRepository(const Caller& caller, int64_t id) {
  PORTUNUS_ASSIGN_OR_RETURN(NamespaceFilter filter, Visible(caller));
  absl::StatusOr<RepositoryRecord> r = store_.GetRepository(id);
  if (r.ok() && !filter.Allows(r->namespace_name)) {
    return absl::NotFoundError(absl::StrCat("repository ", id, " not found"));
  }
  return r;
}

absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> CatalogApi::ListTags(
    const Caller& caller, int64_t repository_id, const PageRequest& page) {
  PORTUNUS_ASSIGN_OR_RETURN(RepositoryRecord repo, GetRepository(caller, repository_id));
  return store_.ListTags(repo.id, NamespaceFilter{true, {}}, page);
}

absl::StatusOr<std::vector<TagGroupRecord>> CatalogApi::GroupedTags(const Caller& caller,
                                                                    int64_t repository_id) {
  PageRequest all;
  all.all = true;
  PORTUNUS_ASSIGN_OR_RETURN(auto tags, ListTags(caller, repository_id, all));
  std::map<std::string, TagGroupRecord> groups;
  for (TagRecord& t : tags.first) {
    TagGroupRecord& g = groups[t.digest];
    g.digest = t.digest;
    g.tags.push_back(std::move(t));
  }
  std::vector<TagGroupRecord> out;
  for (auto& [digest, g] : groups) {
    std::sort(g.tags.begin(), g.tags.end(),
              [](const TagRecord& a, const TagRecord& b) { return a.name < b.name; });
    out.push_back(std::move(g));
  }
  auto newest = [](const TagGroupRecord& g) {
    absl::Time t = absl::InfinitePast();
    for (const TagRecord& r : g.tags) t = std::max(t, r.updated_at);
    return t;
  };
  std::stable_sort(out.begin(), out.end(), [&](const TagGroupRecord& a, const TagGroupRecord& b) {
    return newest(a) > newest(b);
  });
  return out;
}

absl::StatusOr<TagRecord> CatalogApi::GetTag(const Caller& caller, int64_t id) {
  PORTUNUS_ASSIGN_OR_RETURN(NamespaceFilter filter, Visible(caller));
  absl::StatusOr<TagRecord> t = store_.GetTag(id);
  if (t.ok() && !filter.Allows(t->namespace_name)) {
    return absl::NotFoundError(absl::StrCat("tag ", id, " not found"));
  }
  return t;
}

absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> CatalogApi::ListAllTags(
    const Caller& caller, const PageRequest& page) {
  PORTUNUS_RETURN_IF_ERROR(RequirePrivileged(caller));
  return store_.ListTags(0, NamespaceFilter{true, {}}, page);
}

absl::StatusOr<std::vector<std::string>> CatalogApi::DeleteTag(const Caller& caller, int64_t id) {
  PORTUNUS_ASSIGN_OR_RETURN(TagRecord tag, GetTag(caller, id));
  PORTUNUS_RETURN_IF_ERROR(RequireDelete(caller, tag.repository));

  // What the registry has under this tag right now (the catalog may lag behind).
  absl::StatusOr<FetchedManifest> current = registry_.GetManifest(tag.repository, tag.name);
  std::vector<std::string> restored;
  std::vector<std::string> lost;       // siblings the registry did not take back
  std::vector<std::string> put_backs;  // recorded put-backs to forget
  std::string digest = tag.digest;
  if (current.ok()) {
    digest = current->digest;
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<std::string> listed, registry_.ListTags(tag.repository));
    // Siblings: other tags the registry has at the same digest.
    std::vector<std::string> siblings;
    for (const std::string& other : listed) {
      if (other == tag.name) continue;
      absl::StatusOr<ManifestHead> head = registry_.HeadManifest(tag.repository, other);
      if (absl::IsNotFound(head.status())) continue;
      if (!head.ok()) return head.status();
      if (head->digest == current->digest) siblings.push_back(other);
    }
    if (!siblings.empty()) {
      // Putting the siblings back needs push access to the repository. Try it before deleting
      // anything (the same bytes under a tag already at that digest change nothing): when the
      // registry refuses, deleting would take the siblings with it, so nothing is deleted.
      absl::StatusOr<std::string> probe = registry_.PutManifest(
          tag.repository, siblings.front(), current->media_type, current->body);
      if (absl::IsUnauthenticated(probe.status()) || absl::IsPermissionDenied(probe.status())) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot delete only ", tag.repository, ":", tag.name, ": ",
            absl::StrJoin(siblings, ", "), " point at the same manifest, and the registry refuses "
            "to let the catalog put it back under them (", probe.status().message(),
            "), so deleting it would delete them too; nothing was deleted"));
      }
      if (!probe.ok()) return probe.status();
    }
    // Recorded before the window opens: a delete event or a sync pass that sees the registry
    // inside it keeps the siblings, and so their repository with its id.
    if (!siblings.empty()) {
      PORTUNUS_RETURN_IF_ERROR(store_.Write([&](CatalogWriter& w) {
        return w.RecordPutBacks(tag.repository, current->digest, siblings,
                                clock_.Now() + options_.put_back_ttl);
      }));
    }
    if (absl::Status s = registry_.DeleteManifest(tag.repository, current->digest); !s.ok()) {
      ForgetPutBacks(tag.repository, siblings);
      return s;
    }
    // The window opens: the siblings are gone from the registry until put back.
    for (const std::string& sibling : siblings) {
      absl::Status put;
      for (int attempt = 0; attempt < std::max(1, options_.put_back_attempts); ++attempt) {
        absl::StatusOr<std::string> d = registry_.PutManifest(
            tag.repository, sibling, current->media_type, current->body);
        put = d.status();
        if (put.ok()) break;
      }
      if (put.ok()) {
        restored.push_back(sibling);
      } else {
        lost.push_back(sibling);
        LogError("tag delete: could not put the manifest back under a sibling tag",
                 {{"repository", tag.repository}, {"tag", sibling},
                  {"digest", current->digest}, {"error", put}});
      }
    }
    put_backs = siblings;
  } else if (!absl::IsNotFound(current.status())) {
    return current.status();
  }
  // The tag, and any sibling the registry did not take back, leave the catalog; the put-back
  // records go with them.
  PORTUNUS_RETURN_IF_ERROR(store_.Write([&](CatalogWriter& w) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(bool deleted, w.DeleteTag(tag.repository, tag.name, std::nullopt));
    (void)deleted;
    for (const std::string& sibling : lost) {
      PORTUNUS_ASSIGN_OR_RETURN(bool gone, w.DeleteTag(tag.repository, sibling, std::nullopt));
      (void)gone;
    }
    PORTUNUS_RETURN_IF_ERROR(w.ClearPutBacks(tag.repository, put_backs, clock_.Now()));
    PORTUNUS_ASSIGN_OR_RETURN(bool removed, w.RemoveRepositoryIfEmpty(tag.repository));
    (void)removed;
    return absl::OkStatus();
  }));
  if (!lost.empty()) {
    return absl::UnavailableError(absl::StrCat(
        "deleted ", tag.repository, ":", tag.name, " but could not put ", digest,
        " back under ", absl::StrJoin(lost, ", "), "; push those tags again"));
  }
  LogInfo("tag deleted", {{"repository", tag.repository}, {"tag", tag.name},
                          {"by", caller.name}, {"restored_siblings", absl::StrJoin(restored, ",")}});
  return restored;
}

void CatalogApi::ForgetPutBacks(const std::string& repository,
                                const std::vector<std::string>& tags) {
  if (tags.empty()) return;
  absl::Status s = store_.Write(
      [&](CatalogWriter& w) { return w.ClearPutBacks(repository, tags, clock_.Now()); });
  if (!s.ok()) {
    // They expire by themselves (Options::put_back_ttl).
    LogWarn("tag delete: could not forget the recorded put-backs",
            {{"repository", repository}, {"error", s}});
  }
}

absl::StatusOr<int> CatalogApi::DeleteRepository(const Caller& caller, int64_t id) {
  PORTUNUS_ASSIGN_OR_RETURN(RepositoryRecord repo, GetRepository(caller, id));
  PORTUNUS_RETURN_IF_ERROR(RequireDelete(caller, repo.full_name));
  // Every digest the registry or the catalog knows for it.
  std::set<std::string> digests;
  absl::StatusOr<std::vector<std::string>> listed = registry_.ListTags(repo.full_name);
  if (listed.ok()) {
    for (const std::string& t : *listed) {
      absl::StatusOr<ManifestHead> head = registry_.HeadManifest(repo.full_name, t);
      if (head.ok()) digests.insert(head->digest);
      if (!head.ok() && !absl::IsNotFound(head.status())) return head.status();
    }
  } else if (!absl::IsNotFound(listed.status())) {
    return listed.status();
  }
  PORTUNUS_ASSIGN_OR_RETURN(auto known, store_.TagsOf(repo.full_name));
  for (const auto& [tag, k] : known) digests.insert(k.digest);
  int deleted = 0;
  for (const std::string& digest : digests) {
    absl::Status s = registry_.DeleteManifest(repo.full_name, digest);
    if (s.ok()) {
      ++deleted;
    } else if (!absl::IsNotFound(s)) {
      return s;
    }
  }
  // The registry's delete events for these manifests are being applied by the event workers at
  // the same moment and touch the same rows: PostgreSQL may pick this transaction as a deadlock
  // victim (kAborted). Removing a repository is idempotent, so run it again in a new transaction.
  absl::Status removed_status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    removed_status = store_.Write([&](CatalogWriter& w) -> absl::Status {
      PORTUNUS_ASSIGN_OR_RETURN(bool removed, w.RemoveRepository(repo.full_name));
      (void)removed;
      return absl::OkStatus();
    });
    if (!absl::IsAborted(removed_status)) break;
    LogWarn("repository delete: transaction aborted, retrying",
            {{"repository", repo.full_name}, {"attempt", attempt + 1}, {"error", removed_status}});
  }
  PORTUNUS_RETURN_IF_ERROR(removed_status);
  LogInfo("repository deleted",
          {{"repository", repo.full_name}, {"by", caller.name}, {"manifests", deleted}});
  return deleted;
}

absl::StatusOr<CatalogStore::FeedPage> CatalogApi::ListFeed(const Caller& caller,
                                                            int64_t after_seq, int limit) {
  PORTUNUS_RETURN_IF_ERROR(RequirePrivileged(caller));
  if (limit <= 0) limit = 100;
  if (limit > 1000) {
    return InvalidFieldError("limit", "must be between 1 and 1000");
  }
  if (after_seq < 0) return InvalidFieldError("after_seq", "must not be negative");
  return store_.ListFeed(after_seq, limit);
}

absl::StatusOr<ManifestInfo> CatalogApi::GetManifest(const Caller& caller,
                                                     const std::string& repository,
                                                     const std::string& digest) {
  PORTUNUS_RETURN_IF_ERROR(RequirePrivileged(caller));
  if (!IsValidRepositoryName(repository)) {
    return InvalidFieldError("repository", "not a valid repository name");
  }
  if (!IsValidDigest(digest)) return InvalidFieldError("digest", "not a valid digest");
  return store_.GetManifest(repository, digest);
}

}  // namespace portunus::catalog
