#include "services/catalog/event_processor.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace portunus::catalog {

bool IsPermanentProcessingError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ||
         status.code() == absl::StatusCode::kDataLoss;
}

EventProcessor::EventProcessor(Options options, EventStore& events, RegistryClient& registry,
                               AccessClient& access, const Clock& clock)
    : options_(options),
      events_(events),
      registry_(registry),
      access_(access),
      clock_(clock),
      inspector_(registry) {}

absl::StatusOr<int64_t> EventProcessor::NamespaceId(const std::string& name) {
  if (name.empty()) return 0;  // the global namespace always exists
  {
    absl::MutexLock lock(&mu_);
    auto it = namespace_ids_.find(name);
    if (it != namespace_ids_.end()) return it->second;
  }
  absl::StatusOr<int64_t> id = access_.EnsureNamespace(name);
  if (!id.ok()) {
    return absl::Status(id.status().code(),
                        absl::StrCat("ensuring namespace ", name, ": ", id.status().message()));
  }
  absl::MutexLock lock(&mu_);
  namespace_ids_[name] = *id;
  return *id;
}

absl::Status EventProcessor::ApplyPush(const NewEvent& e, absl::Time at, CatalogWriter& w) {
  PORTUNUS_ASSIGN_OR_RETURN(std::optional<ManifestInfo> known, w.FindManifest(e.repository, e.digest));
  ManifestInfo info;
  if (known.has_value()) {
    info = std::move(*known);
  } else {
    absl::StatusOr<ManifestInfo> fetched = inspector_.Inspect(e.repository, e.digest);
    if (absl::IsNotFound(fetched.status())) {
      // Deleted since it was pushed: the delete event that follows has nothing to undo.
      LogInfo("pushed manifest no longer in the registry, skipped",
              {{"repository", e.repository}, {"tag", e.tag}, {"digest", e.digest}});
      return absl::OkStatus();
    }
    if (!fetched.ok()) return fetched.status();
    info = std::move(*fetched);
  }
  PORTUNUS_ASSIGN_OR_RETURN(std::optional<int64_t> repo, w.FindRepository(e.repository));
  PutTagRequest put;
  put.repository = e.repository;
  put.namespace_name = NamespaceOf(e.repository);
  if (!repo.has_value()) {
    PORTUNUS_ASSIGN_OR_RETURN(put.namespace_id, NamespaceId(put.namespace_name));
  }
  put.tag = e.tag;
  put.manifest = std::move(info);
  put.author = e.actor;
  put.at = at;
  PORTUNUS_ASSIGN_OR_RETURN(TagWrite result, w.PutTag(put));
  (void)result;
  return absl::OkStatus();
}

absl::Status EventProcessor::ApplyDelete(const NewEvent& e, CatalogWriter& w) {
  std::vector<std::string> candidates;
  if (!e.tag.empty()) {
    candidates.push_back(e.tag);
  } else {
    PORTUNUS_ASSIGN_OR_RETURN(candidates, w.TagsWithDigest(e.repository, e.digest));
  }
  for (const std::string& tag : candidates) {
    // The registry is the truth: a tag it has right now was put back or pushed again after
    // this delete (its push event follows), so it stays.
    absl::StatusOr<ManifestHead> head = registry_.HeadManifest(e.repository, tag);
    if (head.ok()) continue;
    if (!absl::IsNotFound(head.status())) return head.status();
    // Missing only for a moment: a single-tag delete is putting it back (CatalogApi::DeleteTag).
    PORTUNUS_ASSIGN_OR_RETURN(bool putting_back,
                              w.PutBackPending(e.repository, tag, e.digest, clock_.Now()));
    if (putting_back) {
      LogInfo("delete event: tag kept, it is being put back",
              {{"repository", e.repository}, {"tag", tag}});
      continue;
    }
    PORTUNUS_ASSIGN_OR_RETURN(bool deleted, w.DeleteTag(e.repository, tag, std::nullopt));
    (void)deleted;
  }
  PORTUNUS_ASSIGN_OR_RETURN(bool removed, w.RemoveRepositoryIfEmpty(e.repository));
  if (removed) LogInfo("repository removed: no tags left", {{"repository", e.repository}});
  return absl::OkStatus();
}

absl::Status EventProcessor::Apply(const StoredEvent& stored, CatalogWriter& w) {
  const NewEvent& e = stored.event;
  const absl::Time at = e.event_time == absl::InfinitePast() ? clock_.Now() : e.event_time;
  if (e.action == "push") return ApplyPush(e, at, w);
  if (e.action == "delete") return ApplyDelete(e, w);
  if (e.action == "pull") {
    PORTUNUS_ASSIGN_OR_RETURN(int written, w.RecordPull(e.repository, e.tag, e.digest, at,
                                                        options_.pull_min_interval));
    (void)written;
    return absl::OkStatus();
  }
  if (e.action == "mount") return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("unknown action \"", e.action, "\""));
}

absl::StatusOr<bool> EventProcessor::ProcessOne() {
  PORTUNUS_ASSIGN_OR_RETURN(
      ProcessOutcome outcome,
      events_.ProcessNext(
          clock_.Now(), options_.retry,
          [this](const StoredEvent& e, CatalogWriter& w) { return Apply(e, w); },
          IsPermanentProcessingError));
  if (!outcome.processed) return false;
  processed_.fetch_add(1);
  if (!outcome.status.ok()) {
    failures_.fetch_add(1);
    const bool gave_up = outcome.new_status == EventStatus::kFailed;
    Log(gave_up ? LogLevel::kError : LogLevel::kWarn,
        gave_up ? "event failed, giving up" : "event failed, will retry",
        {{"event", outcome.id}, {"error", outcome.status}});
  }
  return true;
}

}  // namespace portunus::catalog
