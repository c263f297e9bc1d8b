// AccessCache: the whole access model (accounts, teams, memberships, namespaces) in memory, so
// an authorization decision never waits for PostgreSQL. The change feed (pg_access_feed.h)
// loads it in full at start and after every reconnect (notifications may have been missed) and
// applies each committed change announced by LISTEN/NOTIFY; every replica converges within
// milliseconds of a commit.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/auth/access_facts.h"

namespace portunus::auth {

// A batch of changes read back from the database after notifications. A listed object replaces
// the cached one; a removed id deletes it (and, for teams, its memberships).
struct AccessChanges {
  std::vector<UserFacts> users;
  std::vector<int64_t> removed_users;
  std::vector<TeamFacts> teams;
  std::vector<int64_t> removed_teams;
  // Full member lists of teams whose membership changed.
  std::vector<std::pair<int64_t, std::vector<MembershipFacts>>> team_members;
  std::vector<NamespaceFacts> namespaces;
  std::vector<int64_t> removed_namespaces;

  bool empty() const {
    return users.empty() && removed_users.empty() && teams.empty() && removed_teams.empty() &&
           team_members.empty() && namespaces.empty() && removed_namespaces.empty();
  }
};

// Thread-safe. Readers get an immutable snapshot (a shared_ptr copy under a short reader lock);
// writers build the next snapshot aside and swap it in (copy on write).
class AccessCache final : public AccessSource {
 public:
  AccessCache() = default;

  bool blocking() const override { return false; }
  // The current snapshot whatever the query. kUnavailable until the first full load.
  absl::StatusOr<std::shared_ptr<const AccessSnapshot>> Facts(const FactsQuery& query) override;

  // The current snapshot, or null before the first load.
  std::shared_ptr<const AccessSnapshot> snapshot() const;
  bool loaded() const;

  // Replaces everything (start, reconnect).
  void Replace(std::shared_ptr<const AccessSnapshot> full);
  // Applies one batch on top of the current snapshot. Ignored before the first full load (the
  // load will include the change).
  void Apply(const AccessChanges& changes);
  // Forgets everything: decisions fail with kUnavailable until the next Replace.
  void Invalidate();

 private:
  absl::Mutex write_mu_;  // serializes writers (held while the next snapshot is built)
  // Taken by every decision, so a std::mutex: Debian's Abseil runs deadlock detection on every
  // absl::Mutex lock, which cost more than the decision itself. Held only to copy or swap the
  // pointer; taken after write_mu_.
  mutable std::mutex mu_;
  std::shared_ptr<const AccessSnapshot> snapshot_;  // guarded by mu_
};

}  // namespace portunus::auth
