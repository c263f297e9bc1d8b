#include "services/auth/pg_access_loader.h"

#include "absl/strings/str_cat.h"
#include "services/auth/validation.h"

namespace portunus::auth {
namespace {

constexpr char kUserFacts[] = "SELECT id, username, admin, enabled, bot FROM auth.users";
constexpr char kTeamFacts[] = "SELECT id, name, kind FROM auth.teams";
constexpr char kMemberFacts[] = "SELECT team_id, user_id, role FROM auth.team_members";
constexpr char kNamespaceFacts[] =
    "SELECT n.id, n.name, n.visibility, n.kind, n.team_id, "
    "CASE WHEN n.kind = 'personal' THEN t.owner_user_id END, t.name, t.kind "
    "FROM auth.namespaces n JOIN auth.teams t ON t.id = n.team_id";

UserFacts UserOf(const pqxx::row& r) {
  return UserFacts{r[0].as<int64_t>(), r[1].as<std::string>(), r[2].as<bool>(), r[3].as<bool>(),
                   r[4].as<bool>()};
}

TeamFacts TeamOf(const pqxx::row& r) {
  return TeamFacts{r[0].as<int64_t>(), r[1].as<std::string>(),
                   ParseKind(r[2].as<std::string>()).value_or(Kind::kRegular)};
}

MembershipFacts MemberOf(const pqxx::row& r) {
  return MembershipFacts{r[0].as<int64_t>(), r[1].as<int64_t>(),
                         ParseRole(r[2].as<std::string>()).value_or(Role::kViewer)};
}

NamespaceFacts NamespaceOf(const pqxx::row& r) {
  NamespaceFacts n;
  n.id = r[0].as<int64_t>();
  n.name = r[1].as<std::string>();
  n.visibility = ParseVisibility(r[2].as<std::string>()).value_or(Visibility::kPrivate);
  n.kind = ParseKind(r[3].as<std::string>()).value_or(Kind::kRegular);
  n.team_id = r[4].as<int64_t>();
  if (!r[5].is_null()) n.personal_owner_id = r[5].as<int64_t>();
  return n;
}

// The namespace row's team (columns 4, 6, 7).
TeamFacts NamespaceTeamOf(const pqxx::row& r) {
  return TeamFacts{r[4].as<int64_t>(), r[6].as<std::string>(),
                   ParseKind(r[7].as<std::string>()).value_or(Kind::kRegular)};
}

}  // namespace

std::shared_ptr<AccessSnapshot> LoadAllAccessFacts(pqxx::transaction_base& w) {
  auto s = std::make_shared<AccessSnapshot>();
  for (const auto& r : w.exec(kUserFacts)) s->PutUser(UserOf(r));
  for (const auto& r : w.exec(kTeamFacts)) s->PutTeam(TeamOf(r));
  for (const auto& r : w.exec(kMemberFacts)) s->PutMembership(MemberOf(r));
  for (const auto& r : w.exec(kNamespaceFacts)) s->PutNamespace(NamespaceOf(r));
  return s;
}

AccessChanges LoadAccessChanges(pqxx::transaction_base& w, const std::set<int64_t>& users,
                                const std::set<int64_t>& teams, const std::set<int64_t>& namespaces) {
  AccessChanges c;
  for (int64_t id : users) {
    pqxx::result r = w.exec_params(absl::StrCat(kUserFacts, " WHERE id = $1"), id);
    if (r.empty()) {
      c.removed_users.push_back(id);
    } else {
      c.users.push_back(UserOf(r[0]));
    }
  }
  for (int64_t id : teams) {
    pqxx::result r = w.exec_params(absl::StrCat(kTeamFacts, " WHERE id = $1"), id);
    if (r.empty()) {
      c.removed_teams.push_back(id);
      continue;
    }
    c.teams.push_back(TeamOf(r[0]));
    std::vector<MembershipFacts> members;
    for (const auto& m : w.exec_params(absl::StrCat(kMemberFacts, " WHERE team_id = $1"), id)) {
      members.push_back(MemberOf(m));
    }
    c.team_members.emplace_back(id, std::move(members));
  }
  for (int64_t id : namespaces) {
    pqxx::result r = w.exec_params(absl::StrCat(kNamespaceFacts, " WHERE n.id = $1"), id);
    if (r.empty()) {
      c.removed_namespaces.push_back(id);
    } else {
      c.namespaces.push_back(NamespaceOf(r[0]));
    }
  }
  return c;
}

std::shared_ptr<AccessSnapshot> LoadAccessFactsFor(pqxx::transaction_base& w, const FactsQuery& q) {
  auto s = std::make_shared<AccessSnapshot>();
  if (q.user_id != 0) {
    for (const auto& r : w.exec_params(absl::StrCat(kUserFacts, " WHERE id = $1"), q.user_id)) {
      s->PutUser(UserOf(r));
    }
    for (const auto& r : w.exec_params(absl::StrCat(kMemberFacts, " WHERE user_id = $1"), q.user_id)) {
      s->PutMembership(MemberOf(r));
    }
  }
  // Only well-formed names can exist; anything else (even invalid UTF-8) is simply absent.
  if (IsValidName(q.username)) {
    for (const auto& r : w.exec_params(absl::StrCat(kUserFacts, " WHERE username = $1"), q.username)) {
      s->PutUser(UserOf(r));
    }
  }
  const auto add_namespace = [&s](const pqxx::row& r) {
    s->PutNamespace(NamespaceOf(r));
    s->PutTeam(NamespaceTeamOf(r));
  };
  if (q.all_namespaces) {
    for (const auto& r : w.exec(kNamespaceFacts)) add_namespace(r);
  } else {
    for (const std::string& name : q.namespaces) {
      if (!IsValidName(name) || s->FindNamespace(name) != nullptr) continue;
      for (const auto& r : w.exec_params(absl::StrCat(kNamespaceFacts, " WHERE n.name = $1"), name)) {
        add_namespace(r);
      }
    }
  }
  return s;
}

}  // namespace portunus::auth
