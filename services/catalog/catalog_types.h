// Plain domain types of the catalog service: registry events as stored in the durable queue,
// what Portunus records about repositories, tags and manifests, and sync reports. No protos,
// no SQL: transport converts, adapters store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace portunus::catalog {

// ----- events -----

enum class EventStatus { kPending, kDone, kFailed, kRejected };

// "pending", "done", "failed", "rejected".
const char* EventStatusName(EventStatus status);
// kInvalidArgument-free parse: false for unknown names.
bool ParseEventStatus(const std::string& name, EventStatus* status);

// One registry event ready to be stored (kPending) or stored as rejected (kRejected, with the
// reason in `reject_reason`).
struct NewEvent {
  std::string event_id;   // the registry's id; for unparseable input "rejected:<sha256>"
  EventStatus status = EventStatus::kPending;
  std::string action;     // push | pull | delete | mount (rejected: whatever came, maybe "")
  std::string repository;
  std::string tag;
  std::string digest;
  std::string media_type;
  std::string actor;      // the registry's actor.name: the JWT subject
  absl::Time event_time = absl::InfinitePast();  // the registry's timestamp, when valid
  std::string payload;    // the event JSON (rejected: the raw input, truncated)
  std::string reject_reason;
};

// An event as stored in the queue.
struct StoredEvent {
  int64_t id = 0;  // queue order
  NewEvent event;
  int attempts = 0;
  std::string last_error;
  absl::Time received_at = absl::InfinitePast();
  absl::Time next_attempt_at = absl::InfinitePast();
  absl::Time processed_at = absl::InfinitePast();  // InfinitePast: not yet
};

// How failed processing is retried: exponential backoff from `initial_backoff`, doubling up to
// `max_backoff`, until `max_attempts` attempts, then FAILED.
struct RetryPolicy {
  int max_attempts = 10;
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);
};
// The wait before the attempt following `attempts` failed attempts (attempts >= 1).
absl::Duration RetryBackoff(const RetryPolicy& policy, int attempts);

struct EventQueueStats {
  int64_t pending = 0;
  int64_t ready = 0;  // pending and due
  absl::Time oldest_pending_received = absl::InfinitePast();  // InfinitePast: none pending
  int64_t failed = 0;
  int64_t rejected = 0;
};

struct EventFilter {
  std::vector<EventStatus> statuses;  // empty: pending, failed, rejected
  std::string repository;             // empty: any
};

// ----- paging -----

struct PageRequest {
  int page = 1;       // 1-based
  int per_page = 25;  // 1..100
  bool all = false;
  std::string sort_attr;
  bool descending = false;
  int64_t Offset() const { return all ? 0 : static_cast<int64_t>(page - 1) * per_page; }
  int64_t Limit() const { return all ? -1 : per_page; }
};

// ----- catalog -----

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  std::string digest;  // index entries: the platform manifest
  bool operator==(const Platform& o) const {
    return os == o.os && architecture == o.architecture && variant == o.variant &&
           digest == o.digest;
  }
};

struct Layer {
  std::string digest;
  int64_t size = 0;
  std::string media_type;
  bool operator==(const Layer& o) const {
    return digest == o.digest && size == o.size && media_type == o.media_type;
  }
};

// What Portunus records about one manifest (content-addressed: never changes for a digest).
struct ManifestInfo {
  std::string digest;
  std::string media_type;
  int64_t size = 0;  // config + layers; for an index, summed over its platforms
  std::string config_digest;
  absl::Time image_created = absl::InfinitePast();
  std::vector<Platform> platforms;
  std::vector<Layer> layers;
  std::vector<std::string> children;  // index: platform manifest digests
};

// The namespace a repository belongs to: the part before the first '/', "" (the global
// namespace) for names without '/'.
std::string NamespaceOf(const std::string& repository);
// The repository's short name: after the first '/' ("team/app" -> "app"; "app" -> "app").
std::string ShortName(const std::string& repository);

struct RepositoryRecord {
  int64_t id = 0;
  std::string full_name;
  std::string namespace_name;
  int64_t namespace_id = 0;
  int64_t tags_count = 0;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  std::vector<std::string> digests;  // distinct manifest digests of its tags, sorted
};

struct TagRecord {
  int64_t id = 0;
  int64_t repository_id = 0;
  std::string repository;  // full name
  std::string namespace_name;
  std::string name;
  std::string digest;
  std::string author;
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
  absl::Time pulled_at = absl::InfinitePast();  // InfinitePast: never
  ManifestInfo manifest;  // joined
};

// Which namespaces a caller may see: every one (`all`), or exactly `names`, where "" stands for
// the global namespace (repositories without '/'), as the auth service decides (its `global`).
struct NamespaceFilter {
  bool all = false;
  std::set<std::string> names;
  bool Allows(const std::string& namespace_name) const {
    return all || names.count(namespace_name) != 0;
  }
};

struct RepositoryQuery {
  NamespaceFilter filter;
  int64_t namespace_id = 0;   // > 0: only this namespace
  std::string name_contains;  // search, case-insensitive
  PageRequest page;
};

struct FeedEntry {
  int64_t seq = 0;
  std::string repository;
  std::string digest;
  std::string media_type;
  std::string tag;
  absl::Time created_at = absl::InfinitePast();
};

// ----- sync -----

enum class SyncState { kRunning, kSucceeded, kPartial, kBraked, kFailed };
const char* SyncStateName(SyncState state);

struct SyncChange {
  enum class Kind { kAdd, kUpdate, kDelete };
  Kind kind = Kind::kAdd;
  std::string repository;
  std::string tag;  // "" for a whole repository
  std::string old_digest;
  std::string new_digest;
};

struct SyncFailure {
  std::string repository;  // "" for the catalog listing itself
  std::string error;
};

struct SyncBrake {
  bool engaged = false;
  int64_t would_delete = 0;
  int64_t known_tags = 0;
  double max_delete_percent = 0;
  std::string reason;
};

struct SyncReport {
  int64_t id = 0;
  SyncState state = SyncState::kRunning;
  std::string trigger;   // startup | schedule | api
  std::string strategy;
  bool dry_run = false;
  bool force = false;
  absl::Time started_at = absl::InfinitePast();
  absl::Time finished_at = absl::InfinitePast();
  int64_t repositories = 0;
  int64_t tags = 0;
  int64_t added = 0;
  int64_t updated = 0;
  int64_t deleted = 0;
  int64_t repositories_deleted = 0;
  std::vector<SyncFailure> failures;
  SyncBrake brake;
  std::vector<SyncChange> changes;
  bool changes_truncated = false;
  std::string error;
  std::string replica;
};

}  // namespace portunus::catalog
