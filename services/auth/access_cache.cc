#include "services/auth/access_cache.h"

namespace portunus::auth {

absl::StatusOr<std::shared_ptr<const AccessSnapshot>> AccessCache::Facts(const FactsQuery&) {
  std::shared_ptr<const AccessSnapshot> s = snapshot();
  if (s == nullptr) return absl::UnavailableError("authorization cache is not loaded yet");
  return s;
}

std::shared_ptr<const AccessSnapshot> AccessCache::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

bool AccessCache::loaded() const { return snapshot() != nullptr; }

void AccessCache::Replace(std::shared_ptr<const AccessSnapshot> full) {
  absl::MutexLock writer(&write_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(full);
}

void AccessCache::Invalidate() {
  absl::MutexLock writer(&write_mu_);
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.reset();
}

void AccessCache::Apply(const AccessChanges& changes) {
  if (changes.empty()) return;
  // Writers are serialized by write_mu_, so the copy below cannot lose a concurrent update;
  // readers only wait for the pointer swap.
  absl::MutexLock writer(&write_mu_);
  std::shared_ptr<const AccessSnapshot> current = snapshot();
  if (current == nullptr) return;
  auto next = std::make_shared<AccessSnapshot>(*current);
  for (int64_t id : changes.removed_users) next->RemoveUser(id);
  for (const UserFacts& u : changes.users) next->PutUser(u);
  for (int64_t id : changes.removed_teams) next->RemoveTeam(id);
  for (const TeamFacts& t : changes.teams) next->PutTeam(t);
  for (const auto& [team_id, members] : changes.team_members) next->SetTeamMembers(team_id, members);
  for (int64_t id : changes.removed_namespaces) next->RemoveNamespace(id);
  for (const NamespaceFacts& n : changes.namespaces) next->PutNamespace(n);
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(next);
}

}  // namespace portunus::auth
