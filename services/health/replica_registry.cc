#include "services/health/replica_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/status_mapping.h"

namespace portunus::health {
namespace {

bool IdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool Printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

}  // namespace

absl::Status ValidateReplicaRecord(const ReplicaRecord& r) {
  if (r.id.empty() || r.id.size() > 64 || !std::all_of(r.id.begin(), r.id.end(), IdChar)) {
    return InvalidFieldError("replica_id", "must be 1-64 characters of [A-Za-z0-9._-]");
  }
  const bool service_ok = !r.service.empty() && r.service.size() <= 32 && r.service[0] >= 'a' &&
                          r.service[0] <= 'z' &&
                          std::all_of(r.service.begin(), r.service.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                          });
  if (!service_ok) {
    return InvalidFieldError("service", "must match [a-z][a-z0-9-]* and be at most 32 characters");
  }
  if (r.hostname.size() > 255 || !Printable(r.hostname)) {
    return InvalidFieldError("hostname", "must be at most 255 printable characters");
  }
  if (r.address.size() > 255 || !Printable(r.address)) {
    return InvalidFieldError("address", "must be at most 255 printable characters");
  }
  if (r.version.size() > 64 || !Printable(r.version)) {
    return InvalidFieldError("version", "must be at most 64 printable characters");
  }
  if (r.reason.size() > 1024) {
    return InvalidFieldError("not_ready_reason", "must be at most 1024 characters");
  }
  if (r.pid < 0) return InvalidFieldError("pid", "must not be negative");
  return absl::OkStatus();
}

ReplicaRegistry::ReplicaRegistry(Options options, ReplicaStore& store, const Clock& clock)
    : options_(options), store_(store), clock_(clock) {}

absl::Status ReplicaRegistry::Heartbeat(ReplicaRecord record) {
  if (absl::Status s = ValidateReplicaRecord(record); !s.ok()) return s;
  record.last_heartbeat = clock_.Now();
  record.stopped = false;
  if (record.ready) record.reason.clear();
  absl::MutexLock lock(&mu_);
  if (local_.count(record.id) == 0 && stored_.count(record.id) == 0 &&
      local_.size() + stored_.size() >= options_.max_replicas &&
      MergedLocked().size() >= options_.max_replicas) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the replica registry already knows ", options_.max_replicas,
        " replicas; stale ones expire after ", absl::FormatDuration(options_.expire_after)));
  }
  pending_.insert(record.id);
  local_[record.id] = std::move(record);
  return absl::OkStatus();
}

absl::Status ReplicaRegistry::Deregister(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = local_.find(id);
  ReplicaRecord record;
  if (it != local_.end()) {
    record = it->second;
  } else if (auto st = stored_.find(id); st != stored_.end()) {
    record = st->second;
  } else {
    return absl::NotFoundError(absl::StrCat("replica ", id, " is not registered"));
  }
  record.stopped = true;
  record.ready = false;
  record.reason.clear();
  record.last_heartbeat = clock_.Now();
  pending_.insert(id);
  local_[id] = std::move(record);
  return absl::OkStatus();
}

absl::Status ReplicaRegistry::Sync() {
  std::vector<ReplicaRecord> batch;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : pending_) {
      auto it = local_.find(id);
      if (it != local_.end()) batch.push_back(it->second);
    }
    pending_.clear();
  }
  const auto fail = [&](const absl::Status& s, bool requeue) {
    absl::MutexLock lock(&mu_);
    if (requeue) {
      for (const ReplicaRecord& r : batch) pending_.insert(r.id);
    }
    last_sync_ = s;
    return s;
  };
  if (!batch.empty()) {
    if (absl::Status s = store_.Save(batch); !s.ok()) return fail(s, true);
  }
  const absl::Time cutoff = clock_.Now() - options_.expire_after;
  if (absl::StatusOr<int64_t> deleted = store_.DeleteBefore(cutoff); !deleted.ok()) {
    return fail(deleted.status(), false);
  }
  absl::StatusOr<std::vector<ReplicaRecord>> all = store_.List();
  if (!all.ok()) return fail(all.status(), false);

  absl::MutexLock lock(&mu_);
  stored_.clear();
  for (ReplicaRecord& r : *all) stored_[r.id] = std::move(r);
  for (auto it = local_.begin(); it != local_.end();) {
    if (it->second.last_heartbeat < cutoff && pending_.count(it->first) == 0) {
      it = local_.erase(it);
    } else {
      ++it;
    }
  }
  last_sync_ = absl::OkStatus();
  return absl::OkStatus();
}

std::map<std::string, ReplicaRecord> ReplicaRegistry::MergedLocked() const {
  std::map<std::string, ReplicaRecord> merged = stored_;
  for (const auto& [id, r] : local_) {
    auto it = merged.find(id);
    if (it == merged.end() || it->second.last_heartbeat < r.last_heartbeat) merged[id] = r;
  }
  return merged;
}

std::vector<ReplicaView> ReplicaRegistry::Snapshot() const {
  const absl::Time now = clock_.Now();
  std::map<std::string, ReplicaRecord> merged;
  {
    absl::MutexLock lock(&mu_);
    merged = MergedLocked();
  }
  std::vector<ReplicaView> out;
  for (auto& [id, r] : merged) {
    const absl::Duration silent = now - r.last_heartbeat;
    if (silent > options_.expire_after) continue;
    ReplicaView v;
    if (r.stopped) {
      v.state = ReplicaState::kStopped;
      v.health = "stopped";
    } else if (silent > options_.stale_after) {
      v.state = ReplicaState::kStale;
      v.health = absl::StrCat("no heartbeat for ",
                              absl::FormatDuration(absl::Trunc(silent, absl::Seconds(1))));
    } else if (!r.ready) {
      v.state = ReplicaState::kNotReady;
      v.health = r.reason.empty() ? "not ready" : absl::StrCat("not ready: ", r.reason);
    } else {
      v.state = ReplicaState::kReady;
      v.health = "OK";
    }
    v.record = std::move(r);
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const ReplicaView& a, const ReplicaView& b) {
    return std::tie(a.record.service, a.record.id) < std::tie(b.record.service, b.record.id);
  });
  return out;
}

std::string ReplicaRegistry::NotReadyReason(const std::string& service) const {
  for (const ReplicaView& v : Snapshot()) {
    if (v.record.service == service && v.state == ReplicaState::kNotReady &&
        !v.record.reason.empty()) {
      return v.record.reason;
    }
  }
  return "";
}

absl::Status ReplicaRegistry::last_sync() const {
  absl::MutexLock lock(&mu_);
  return last_sync_;
}

}  // namespace portunus::health
