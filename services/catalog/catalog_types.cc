#include "services/catalog/catalog_types.h"

#include <algorithm>

namespace portunus::catalog {

const char* EventStatusName(EventStatus status) {
  switch (status) {
    case EventStatus::kPending:
      return "pending";
    case EventStatus::kDone:
      return "done";
    case EventStatus::kFailed:
      return "failed";
    case EventStatus::kRejected:
      return "rejected";
  }
  return "pending";
}

bool ParseEventStatus(const std::string& name, EventStatus* status) {
  for (EventStatus s : {EventStatus::kPending, EventStatus::kDone, EventStatus::kFailed,
                        EventStatus::kRejected}) {
    if (name == EventStatusName(s)) {
      *status = s;
      return true;
    }
  }
  return false;
}

absl::Duration RetryBackoff(const RetryPolicy& policy, int attempts) {
  absl::Duration d = policy.initial_backoff;
  for (int i = 1; i < attempts && d < policy.max_backoff; ++i) d *= 2;
  return std::min(d, policy.max_backoff);
}

std::string NamespaceOf(const std::string& repository) {
  const size_t slash = repository.find('/');
  return slash == std::string::npos ? "" : repository.substr(0, slash);
}

std::string ShortName(const std::string& repository) {
  const size_t slash = repository.find('/');
  return slash == std::string::npos ? repository : repository.substr(slash + 1);
}

const char* SyncStateName(SyncState state) {
  switch (state) {
    case SyncState::kRunning:
      return "running";
    case SyncState::kSucceeded:
      return "succeeded";
    case SyncState::kPartial:
      return "partial";
    case SyncState::kBraked:
      return "braked";
    case SyncState::kFailed:
      return "failed";
  }
  return "running";
}

}  // namespace portunus::catalog
