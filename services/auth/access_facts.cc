#include "services/auth/access_facts.h"

namespace portunus::auth {

const UserFacts* AccessSnapshot::FindUser(int64_t id) const {
  auto it = users_.find(id);
  return it == users_.end() ? nullptr : &it->second;
}

const UserFacts* AccessSnapshot::FindUserByName(absl::string_view name) const {
  auto it = user_ids_.find(name);
  return it == user_ids_.end() ? nullptr : FindUser(it->second);
}

const TeamFacts* AccessSnapshot::FindTeam(int64_t id) const {
  auto it = teams_.find(id);
  return it == teams_.end() ? nullptr : &it->second;
}

const NamespaceFacts* AccessSnapshot::FindNamespace(absl::string_view name) const {
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? nullptr : &it->second;
}

const NamespaceFacts* AccessSnapshot::FindNamespaceById(int64_t id) const {
  auto it = namespace_names_.find(id);
  return it == namespace_names_.end() ? nullptr : FindNamespace(it->second);
}

std::optional<Role> AccessSnapshot::RoleOf(int64_t team_id, int64_t user_id) const {
  auto t = members_.find(team_id);
  if (t == members_.end()) return std::nullopt;
  auto m = t->second.find(user_id);
  if (m == t->second.end()) return std::nullopt;
  return m->second;
}

void AccessSnapshot::PutUser(UserFacts user) {
  auto it = users_.find(user.id);
  if (it != users_.end() && it->second.username != user.username) user_ids_.erase(it->second.username);
  user_ids_[user.username] = user.id;
  const int64_t id = user.id;
  users_[id] = std::move(user);
}

void AccessSnapshot::RemoveUser(int64_t id) {
  auto it = users_.find(id);
  if (it == users_.end()) return;
  user_ids_.erase(it->second.username);
  users_.erase(it);
  for (auto& [team, members] : members_) members.erase(id);
}

void AccessSnapshot::PutTeam(TeamFacts team) {
  const int64_t id = team.id;
  teams_[id] = std::move(team);
}

void AccessSnapshot::RemoveTeam(int64_t id) {
  teams_.erase(id);
  members_.erase(id);
}

void AccessSnapshot::SetTeamMembers(int64_t team_id, const std::vector<MembershipFacts>& members) {
  auto& m = members_[team_id];
  m.clear();
  for (const MembershipFacts& f : members) m[f.user_id] = f.role;
}

void AccessSnapshot::PutMembership(const MembershipFacts& m) { members_[m.team_id][m.user_id] = m.role; }

void AccessSnapshot::PutNamespace(NamespaceFacts ns) {
  auto old = namespace_names_.find(ns.id);
  if (old != namespace_names_.end() && old->second != ns.name) namespaces_.erase(old->second);
  namespace_names_[ns.id] = ns.name;
  std::string name = ns.name;
  namespaces_[name] = std::move(ns);
}

void AccessSnapshot::RemoveNamespace(int64_t id) {
  auto it = namespace_names_.find(id);
  if (it == namespace_names_.end()) return;
  namespaces_.erase(it->second);
  namespace_names_.erase(it);
}

}  // namespace portunus::auth
