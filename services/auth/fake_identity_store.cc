#include "services/auth/fake_identity_store.h"
#include "services/common/status_mapping.h"

#include <algorithm>
#include <functional>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace portunus::auth {
namespace {

// Compares two values for sorting: -1, 0, 1.
template <typename V>
int Cmp(const V& a, const V& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Sorts `items` by `cmp(a, b, attr)` then id, and cuts one page.
template <typename T>
Page<T> Paginate(std::vector<T> items, const ListOptions& o,
                 const std::function<int(const T&, const T&)>& cmp) {
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    int c = cmp(a, b);
    if (c == 0) c = Cmp(a.id, b.id);
    return o.descending ? c > 0 : c < 0;
  });
  Page<T> page;
  page.total = static_cast<int64_t>(items.size());
  const int64_t start = std::min<int64_t>(o.offset(), page.total);
  const int64_t end = std::min<int64_t>(start + o.per_page, page.total);
  for (int64_t i = start; i < end; ++i) page.items.push_back(std::move(items[i]));
  return page;
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

}  // namespace

FakeIdentityStore::FakeIdentityStore(Clock& clock) : clock_(clock) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  Team global{1, kGlobalTeamName, "The administrators", Kind::kGlobal, std::nullopt, 0, 0, now, now};
  teams_[1] = global;
  global_team_id_ = 1;
  Namespace ns;
  ns.id = 1;
  ns.name = kGlobalNamespaceName;
  ns.description = "Images without a namespace";
  ns.team_id = 1;
  ns.visibility = Visibility::kPublic;
  ns.kind = Kind::kGlobal;
  ns.created_at = ns.updated_at = now;
  namespaces_[1] = ns;
}

void FakeIdentityStore::FailNextCall(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

int FakeIdentityStore::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int FakeIdentityStore::FailedAttemptsForTest(int64_t user_id) const {
  absl::MutexLock lock(&mu_);
  auto it = users_.find(user_id);
  return it == users_.end() ? -1 : it->second.failed_attempts;
}

absl::Status FakeIdentityStore::Enter() {
  ++calls_;
  if (fail_next_.has_value()) {
    absl::Status s = *fail_next_;
    fail_next_.reset();
    return s;
  }
  return absl::OkStatus();
}

User FakeIdentityStore::FillUser(const UserRow& row) const {
  User u = row.user;
  u.namespace_id.reset();
  for (const auto& [id, ns] : namespaces_) {
    if (ns.kind == Kind::kPersonal) {
      auto t = teams_.find(ns.team_id);
      if (t != teams_.end() && t->second.owner_user_id == u.id) u.namespace_id = id;
    }
  }
  return u;
}

Team FakeIdentityStore::FillTeam(const Team& team) const {
  Team t = team;
  t.members_count = 0;
  t.namespaces_count = 0;
  for (const auto& [id, m] : members_) t.members_count += m.team_id == t.id;
  for (const auto& [id, ns] : namespaces_) t.namespaces_count += ns.team_id == t.id;
  return t;
}

Member FakeIdentityStore::FillMember(const MemberRow& row) const {
  Member m;
  m.id = row.id;
  m.team_id = row.team_id;
  m.user_id = row.user_id;
  m.role = row.role;
  m.created_at = row.created_at;
  m.updated_at = row.updated_at;
  auto u = users_.find(row.user_id);
  if (u != users_.end()) {
    m.username = u->second.user.username;
    m.display_name = u->second.user.display_name;
    m.admin = u->second.user.admin;
    m.bot = u->second.user.bot;
  }
  return m;
}

Namespace FakeIdentityStore::FillNamespace(const Namespace& ns) const {
  Namespace n = ns;
  auto t = teams_.find(ns.team_id);
  if (t != teams_.end()) {
    n.team_name = t->second.name;
    n.personal_owner_id = ns.kind == Kind::kPersonal ? t->second.owner_user_id : std::nullopt;
  }
  return n;
}

LoginRecord FakeIdentityStore::LoginOf(const UserRow& row) const {
  LoginRecord r;
  r.id = row.user.id;
  r.username = row.user.username;
  r.password_hash = row.password_hash;
  r.admin = row.user.admin;
  r.enabled = row.user.enabled;
  r.bot = row.user.bot;
  r.failed_attempts = row.failed_attempts;
  r.locked_until = row.user.locked_until;
  return r;
}

bool FakeIdentityStore::EmailTaken(absl::string_view email, int64_t except_user) const {
  const std::string lower = Lower(email);
  for (const auto& [id, row] : users_) {
    if (id != except_user && row.user.email.has_value() && Lower(*row.user.email) == lower) return true;
  }
  return false;
}

int64_t FakeIdentityStore::EnabledAdminsExcept(int64_t user_id) const {
  int64_t n = 0;
  for (const auto& [id, row] : users_) {
    n += id != user_id && row.user.admin && row.user.enabled && !row.user.bot;
  }
  return n;
}

int64_t FakeIdentityStore::OwnersOf(int64_t team_id) const {
  int64_t n = 0;
  for (const auto& [id, m] : members_) n += m.team_id == team_id && m.role == Role::kOwner;
  return n;
}

// ---- credentials ----

absl::StatusOr<std::optional<LoginRecord>> FakeIdentityStore::FindLogin(absl::string_view username) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, row] : users_) {
    if (row.user.username == username) return std::optional<LoginRecord>(LoginOf(row));
  }
  return std::optional<LoginRecord>();
}

absl::StatusOr<std::optional<LoginRecord>> FakeIdentityStore::FindTokenOwner(absl::string_view digest) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, t] : tokens_) {
    if (t.digest == digest) {
      auto u = users_.find(t.token.user_id);
      if (u != users_.end()) return std::optional<LoginRecord>(LoginOf(u->second));
    }
  }
  return std::optional<LoginRecord>();
}

absl::StatusOr<bool> FakeIdentityStore::RecordLoginFailure(int64_t user_id, absl::Time now,
                                                           int max_attempts, absl::Duration lock_for) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = users_.find(user_id);
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  UserRow& row = it->second;
  if (row.user.locked_until.has_value() && *row.user.locked_until <= now) row.user.locked_until.reset();
  if (row.user.locked_until.has_value()) return false;  // already locked
  ++row.failed_attempts;
  if (row.failed_attempts >= max_attempts) {
    row.failed_attempts = 0;
    row.user.locked_until = now + lock_for;
    return true;
  }
  return false;
}

absl::Status FakeIdentityStore::ResetLoginFailures(int64_t user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = users_.find(user_id);
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  it->second.failed_attempts = 0;
  return absl::OkStatus();
}

// ---- users ----

absl::Status FakeIdentityStore::CheckNewUser(const NewUser& user) const {
  for (const auto& [id, row] : users_) {
    if (row.user.username == user.username) {
      return absl::AlreadyExistsError(absl::StrCat("username ", user.username, " is already taken"));
    }
  }
  if (user.email.has_value() && EmailTaken(*user.email, 0)) {
    return absl::AlreadyExistsError(absl::StrCat("e-mail ", *user.email, " is already in use"));
  }
  if (!user.bot) {
    for (const auto& [id, t] : teams_) {
      if (t.name == user.username) {
        return absl::AlreadyExistsError(
            absl::StrCat("a team named ", user.username, " already exists"));
      }
    }
    for (const auto& [id, ns] : namespaces_) {
      if (ns.name == user.username) {
        return absl::AlreadyExistsError(absl::StrCat("namespace ", user.username, " already exists"));
      }
    }
  }
  return absl::OkStatus();
}

User FakeIdentityStore::InsertUser(const NewUser& nu) {
  const absl::Time now = clock_.Now();
  UserRow row;
  row.user.id = next_id_++;
  row.user.username = nu.username;
  row.user.email = nu.email;
  row.user.display_name = nu.display_name;
  row.user.admin = nu.admin;
  row.user.bot = nu.bot;
  row.user.created_at = row.user.updated_at = now;
  row.password_hash = nu.password_hash;
  const int64_t uid = row.user.id;
  users_[uid] = row;
  if (!nu.bot) {
    Team team{next_id_++, nu.username, "", Kind::kPersonal, uid, 0, 0, now, now};
    teams_[team.id] = team;
    MemberRow m{next_id_++, team.id, uid, Role::kOwner, now, now};
    members_[m.id] = m;
    Namespace ns;
    ns.id = next_id_++;
    ns.name = nu.username;
    ns.team_id = team.id;
    ns.visibility = Visibility::kPrivate;
    ns.kind = Kind::kPersonal;
    ns.created_at = ns.updated_at = now;
    namespaces_[ns.id] = ns;
  }
  return FillUser(users_[uid]);
}

absl::StatusOr<User> FakeIdentityStore::CreateUser(const NewUser& user) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (absl::Status s = CheckNewUser(user); !s.ok()) return s;
  return InsertUser(user);
}

absl::StatusOr<std::pair<User, ApplicationToken>> FakeIdentityStore::Bootstrap(const NewUser& admin,
                                                                               const NewToken& token) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (!users_.empty()) {
    return absl::PermissionDeniedError(
        "bootstrap is only possible while no user exists; ask an administrator for an account");
  }
  if (absl::Status s = CheckNewUser(admin); !s.ok()) return s;
  NewUser a = admin;
  a.admin = true;
  User user = InsertUser(a);
  TokenRow row{ApplicationToken{next_id_++, user.id, token.application, clock_.Now()}, token.digest};
  tokens_[row.token.id] = row;
  return std::make_pair(user, row.token);
}

absl::StatusOr<User> FakeIdentityStore::GetUser(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = users_.find(id);
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
  return FillUser(it->second);
}

absl::StatusOr<User> FakeIdentityStore::FindUserByName(absl::string_view username) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, row] : users_) {
    if (row.user.username == username) return FillUser(row);
  }
  return absl::NotFoundError(absl::StrCat("user ", username, " not found"));
}

absl::StatusOr<Page<User>> FakeIdentityStore::ListUsers(const ListOptions& o) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::vector<User> all;
  for (const auto& [id, row] : users_) all.push_back(FillUser(row));
  const std::string attr = o.sort_attr;
  return Paginate<User>(std::move(all), o, [&attr](const User& a, const User& b) {
    if (attr == "username") return Cmp(a.username, b.username);
    if (attr == "email") return Cmp(a.email.value_or(""), b.email.value_or(""));
    if (attr == "display_name") return Cmp(a.display_name.value_or(""), b.display_name.value_or(""));
    if (attr == "admin") return Cmp(a.admin, b.admin);
    if (attr == "enabled") return Cmp(a.enabled, b.enabled);
    if (attr == "bot") return Cmp(a.bot, b.bot);
    if (attr == "created_at") return Cmp(a.created_at, b.created_at);
    if (attr == "updated_at") return Cmp(a.updated_at, b.updated_at);
    return 0;
  });
}

absl::StatusOr<int64_t> FakeIdentityStore::CountUsers() {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  return static_cast<int64_t>(users_.size());
}

absl::StatusOr<User> FakeIdentityStore::UpdateUser(int64_t id, const UserPatch& patch) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = users_.find(id);
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
  User& u = it->second.user;
  const bool loses_admin = (patch.admin.has_value() && !*patch.admin && u.admin) ||
                           (patch.enabled.has_value() && !*patch.enabled && u.admin && u.enabled);
  if (loses_admin && u.enabled && EnabledAdminsExcept(id) == 0) {
    return RuleConflictError(
        kRuleLastAdmin, absl::StrCat(u.username, " is the last enabled administrator"));
  }
  if (patch.email.has_value() && !patch.email->empty() && EmailTaken(*patch.email, id)) {
    return absl::AlreadyExistsError(absl::StrCat("e-mail ", *patch.email, " is already in use"));
  }
  if (patch.email.has_value()) {
    u.email = patch.email->empty() ? std::nullopt : std::optional<std::string>(*patch.email);
  }
  if (patch.display_name.has_value()) {
    u.display_name = patch.display_name->empty() ? std::nullopt
                                                 : std::optional<std::string>(*patch.display_name);
  }
  if (patch.password_hash.has_value()) it->second.password_hash = *patch.password_hash;
  if (patch.enabled.has_value()) u.enabled = *patch.enabled;
  if (patch.admin.has_value()) {
    u.admin = *patch.admin;
    if (u.admin) {
      for (auto& [mid, m] : members_) {
        if (m.user_id == id) m.role = Role::kOwner;
      }
    }
  }
  u.updated_at = clock_.Now();
  return FillUser(it->second);
}

absl::Status FakeIdentityStore::DeleteUser(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = users_.find(id);
  if (it == users_.end()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
  const User& u = it->second.user;
  if (u.admin && u.enabled && EnabledAdminsExcept(id) == 0) {
    return RuleConflictError(kRuleLastAdmin,
                             absl::StrCat(u.username, " is the last enabled administrator"));
  }
  for (const auto& [mid, m] : members_) {
    if (m.user_id != id || m.role != Role::kOwner) continue;
    const Team& t = teams_.at(m.team_id);
    if (t.kind == Kind::kRegular && OwnersOf(t.id) == 1) {
      return RuleConflictError(
          kRuleLastOwner,
          absl::StrCat(u.username, " is the last owner of team ", t.name,
                       "; make someone else owner first"));
    }
  }
  // Personal team and namespace go with the user.
  for (auto t = teams_.begin(); t != teams_.end();) {
    if (t->second.kind == Kind::kPersonal && t->second.owner_user_id == id) {
      const int64_t tid = t->first;
      for (auto n = namespaces_.begin(); n != namespaces_.end();) {
        n = n->second.team_id == tid ? namespaces_.erase(n) : std::next(n);
      }
      for (auto m = members_.begin(); m != members_.end();) {
        m = m->second.team_id == tid ? members_.erase(m) : std::next(m);
      }
      t = teams_.erase(t);
    } else {
      ++t;
    }
  }
  for (auto m = members_.begin(); m != members_.end();) {
    m = m->second.user_id == id ? members_.erase(m) : std::next(m);
  }
  for (auto t = tokens_.begin(); t != tokens_.end();) {
    t = t->second.token.user_id == id ? tokens_.erase(t) : std::next(t);
  }
  users_.erase(id);
  return absl::OkStatus();
}

// ---- teams ----

absl::StatusOr<Team> FakeIdentityStore::CreateTeam(absl::string_view name,
                                                   absl::string_view description,
                                                   int64_t owner_user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, t] : teams_) {
    if (t.name == name) return absl::AlreadyExistsError(absl::StrCat("a team named ", name, " already exists"));
  }
  if (users_.count(owner_user_id) == 0) {
    return absl::NotFoundError(absl::StrCat("user ", owner_user_id, " not found"));
  }
  const absl::Time now = clock_.Now();
  Team team{next_id_++, std::string(name), std::string(description), Kind::kRegular, std::nullopt,
            0, 0, now, now};
  teams_[team.id] = team;
  MemberRow m{next_id_++, team.id, owner_user_id, Role::kOwner, now, now};
  members_[m.id] = m;
  return FillTeam(team);
}

absl::StatusOr<Team> FakeIdentityStore::GetTeam(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = teams_.find(id);
  if (it == teams_.end()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
  return FillTeam(it->second);
}

absl::StatusOr<Team> FakeIdentityStore::FindTeamByName(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, t] : teams_) {
    if (t.name == name) return FillTeam(t);
  }
  return absl::NotFoundError(absl::StrCat("team ", name, " not found"));
}

absl::StatusOr<Page<Team>> FakeIdentityStore::ListTeams(const ListOptions& o,
                                                        std::optional<int64_t> member_user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::vector<Team> all;
  for (const auto& [id, t] : teams_) {
    if (t.kind != Kind::kRegular) continue;
    if (member_user_id.has_value()) {
      bool member = false;
      for (const auto& [mid, m] : members_) member |= m.team_id == id && m.user_id == *member_user_id;
      if (!member) continue;
    }
    all.push_back(FillTeam(t));
  }
  const std::string attr = o.sort_attr;
  return Paginate<Team>(std::move(all), o, [&attr](const Team& a, const Team& b) {
    if (attr == "name") return Cmp(a.name, b.name);
    if (attr == "description") return Cmp(a.description, b.description);
    if (attr == "created_at") return Cmp(a.created_at, b.created_at);
    if (attr == "updated_at") return Cmp(a.updated_at, b.updated_at);
    return 0;
  });
}

absl::StatusOr<Team> FakeIdentityStore::UpdateTeam(int64_t id, std::optional<std::string> name,
                                                   std::optional<std::string> description) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = teams_.find(id);
  if (it == teams_.end()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
  if (name.has_value()) {
    for (const auto& [tid, t] : teams_) {
      if (tid != id && t.name == *name) {
        return absl::AlreadyExistsError(absl::StrCat("a team named ", *name, " already exists"));
      }
    }
    it->second.name = *name;
  }
  if (description.has_value()) it->second.description = *description;
  it->second.updated_at = clock_.Now();
  return FillTeam(it->second);
}

absl::Status FakeIdentityStore::DeleteTeam(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = teams_.find(id);
  if (it == teams_.end()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
  std::vector<std::string> owned;
  for (const auto& [nid, ns] : namespaces_) {
    if (ns.team_id == id) owned.push_back(ns.name);
  }
  if (!owned.empty()) {
    std::sort(owned.begin(), owned.end());
    return RuleConflictError(
        kRuleTeamOwnsNamespaces,
        absl::StrCat("team ", it->second.name, " still owns namespaces (", absl::StrJoin(owned, ", "),
                     "); delete them or move them to another team first"));
  }
  for (auto m = members_.begin(); m != members_.end();) {
    m = m->second.team_id == id ? members_.erase(m) : std::next(m);
  }
  teams_.erase(it);
  return absl::OkStatus();
}

// ---- members ----

absl::StatusOr<Page<Member>> FakeIdentityStore::ListMembers(int64_t team_id, const ListOptions& o) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (teams_.count(team_id) == 0) return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
  std::vector<Member> all;
  for (const auto& [id, m] : members_) {
    if (m.team_id == team_id) all.push_back(FillMember(m));
  }
  const std::string attr = o.sort_attr;
  return Paginate<Member>(std::move(all), o, [&attr](const Member& a, const Member& b) {
    if (attr == "username") return Cmp(a.username, b.username);
    if (attr == "role") return Cmp(static_cast<int>(a.role), static_cast<int>(b.role));
    if (attr == "created_at") return Cmp(a.created_at, b.created_at);
    return 0;
  });
}

absl::StatusOr<Member> FakeIdentityStore::GetMember(int64_t member_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = members_.find(member_id);
  if (it == members_.end()) return absl::NotFoundError(absl::StrCat("member ", member_id, " not found"));
  return FillMember(it->second);
}

absl::StatusOr<Member> FakeIdentityStore::FindMember(int64_t team_id, int64_t user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, m] : members_) {
    if (m.team_id == team_id && m.user_id == user_id) return FillMember(m);
  }
  return absl::NotFoundError("not a member of the team");
}

absl::StatusOr<std::vector<Member>> FakeIdentityStore::MembershipsOf(int64_t user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::vector<Member> out;
  for (const auto& [id, m] : members_) {
    if (m.user_id == user_id) out.push_back(FillMember(m));
  }
  return out;
}

absl::StatusOr<Member> FakeIdentityStore::AddMember(int64_t team_id, int64_t user_id, Role role) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto t = teams_.find(team_id);
  if (t == teams_.end()) return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
  auto u = users_.find(user_id);
  if (u == users_.end()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  for (const auto& [id, m] : members_) {
    if (m.team_id == team_id && m.user_id == user_id) {
      return absl::AlreadyExistsError(absl::StrCat(u->second.user.username,
                                                   " is already a member of team ", t->second.name));
    }
  }
  const absl::Time now = clock_.Now();
  MemberRow m{next_id_++, team_id, user_id, role, now, now};
  members_[m.id] = m;
  return FillMember(m);
}

absl::StatusOr<Member> FakeIdentityStore::UpdateMemberRole(int64_t member_id, Role role) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = members_.find(member_id);
  if (it == members_.end()) return absl::NotFoundError(absl::StrCat("member ", member_id, " not found"));
  MemberRow& m = it->second;
  if (m.role == Role::kOwner && role != Role::kOwner && OwnersOf(m.team_id) == 1) {
    return RuleConflictError(
        kRuleLastOwner,
        absl::StrCat(users_.at(m.user_id).user.username, " is the last owner of team ",
                     teams_.at(m.team_id).name, " and cannot be demoted"));
  }
  m.role = role;
  m.updated_at = clock_.Now();
  return FillMember(m);
}

absl::Status FakeIdentityStore::RemoveMember(int64_t member_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = members_.find(member_id);
  if (it == members_.end()) return absl::NotFoundError(absl::StrCat("member ", member_id, " not found"));
  const MemberRow& m = it->second;
  if (m.role == Role::kOwner && OwnersOf(m.team_id) == 1) {
    return RuleConflictError(
        kRuleLastOwner,
        absl::StrCat(users_.at(m.user_id).user.username, " is the last owner of team ",
                     teams_.at(m.team_id).name, " and cannot be removed"));
  }
  members_.erase(it);
  return absl::OkStatus();
}

// ---- namespaces ----

absl::StatusOr<Namespace> FakeIdentityStore::CreateNamespace(absl::string_view name,
                                                             absl::string_view description,
                                                             int64_t team_id, Visibility visibility) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, ns] : namespaces_) {
    if (ns.name == name) return absl::AlreadyExistsError(absl::StrCat("namespace ", name, " already exists"));
  }
  if (teams_.count(team_id) == 0) return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
  const absl::Time now = clock_.Now();
  Namespace ns;
  ns.id = next_id_++;
  ns.name = std::string(name);
  ns.description = std::string(description);
  ns.team_id = team_id;
  ns.visibility = visibility;
  ns.kind = Kind::kRegular;
  ns.created_at = ns.updated_at = now;
  namespaces_[ns.id] = ns;
  return FillNamespace(ns);
}

absl::StatusOr<std::pair<Namespace, bool>> FakeIdentityStore::EnsureNamespace(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, ns] : namespaces_) {
    if (ns.name == name) return std::make_pair(FillNamespace(ns), false);
  }
  const absl::Time now = clock_.Now();
  Namespace ns;
  ns.id = next_id_++;
  ns.name = std::string(name);
  ns.team_id = global_team_id_;
  ns.visibility = Visibility::kPrivate;
  ns.kind = Kind::kRegular;
  ns.created_at = ns.updated_at = now;
  namespaces_[ns.id] = ns;
  return std::make_pair(FillNamespace(ns), true);
}

absl::StatusOr<Namespace> FakeIdentityStore::GetNamespace(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = namespaces_.find(id);
  if (it == namespaces_.end()) return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
  return FillNamespace(it->second);
}

absl::StatusOr<Namespace> FakeIdentityStore::FindNamespaceByName(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  for (const auto& [id, ns] : namespaces_) {
    if (ns.name == name) return FillNamespace(ns);
  }
  return absl::NotFoundError(absl::StrCat("namespace ", name, " not found"));
}

absl::StatusOr<Page<Namespace>> FakeIdentityStore::ListNamespaces(const ListOptions& o,
                                                                  const NamespaceFilter& filter) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  std::vector<Namespace> all;
  for (const auto& [id, ns] : namespaces_) {
    if (filter.team_id.has_value() && ns.team_id != *filter.team_id) continue;
    if (filter.visible_to_user.has_value() && ns.visibility == Visibility::kPrivate) {
      bool member = false;
      for (const auto& [mid, m] : members_) {
        member |= m.team_id == ns.team_id && m.user_id == *filter.visible_to_user;
      }
      if (!member) continue;
    }
    all.push_back(FillNamespace(ns));
  }
  const std::string attr = o.sort_attr;
  return Paginate<Namespace>(std::move(all), o, [&attr](const Namespace& a, const Namespace& b) {
    if (attr == "name") return Cmp(a.name, b.name);
    if (attr == "description") return Cmp(a.description, b.description);
    if (attr == "visibility") return Cmp(VisibilityName(a.visibility), VisibilityName(b.visibility));
    if (attr == "created_at") return Cmp(a.created_at, b.created_at);
    if (attr == "updated_at") return Cmp(a.updated_at, b.updated_at);
    return 0;
  });
}

absl::StatusOr<Namespace> FakeIdentityStore::UpdateNamespace(int64_t id, const NamespacePatch& patch) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = namespaces_.find(id);
  if (it == namespaces_.end()) return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
  if (patch.team_id.has_value() && teams_.count(*patch.team_id) == 0) {
    return absl::NotFoundError(absl::StrCat("team ", *patch.team_id, " not found"));
  }
  Namespace& ns = it->second;
  if (patch.description.has_value()) ns.description = *patch.description;
  if (patch.team_id.has_value()) ns.team_id = *patch.team_id;
  if (patch.visibility.has_value()) ns.visibility = *patch.visibility;
  ns.updated_at = clock_.Now();
  return FillNamespace(ns);
}

absl::Status FakeIdentityStore::DeleteNamespace(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (namespaces_.erase(id) == 0) return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
  return absl::OkStatus();
}

// ---- application tokens ----

absl::StatusOr<ApplicationToken> FakeIdentityStore::CreateToken(const NewToken& token, int max_per_user) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto u = users_.find(token.user_id);
  if (u == users_.end()) return absl::NotFoundError(absl::StrCat("user ", token.user_id, " not found"));
  int count = 0;
  for (const auto& [id, t] : tokens_) {
    if (t.token.user_id != token.user_id) continue;
    ++count;
    if (t.token.application == token.application) {
      return absl::AlreadyExistsError(absl::StrCat(u->second.user.username,
                                                   " already has a token for application ",
                                                   token.application));
    }
  }
  if (count >= max_per_user) {
    return RuleConflictError(kRuleTokenLimit, absl::StrCat(
        u->second.user.username, " already has ", count, " application tokens (the maximum is ",
        max_per_user, "); revoke one first"));
  }
  TokenRow row{ApplicationToken{next_id_++, token.user_id, token.application, clock_.Now()},
               token.digest};
  tokens_[row.token.id] = row;
  return row.token;
}

absl::StatusOr<std::vector<ApplicationToken>> FakeIdentityStore::ListTokens(int64_t user_id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (users_.count(user_id) == 0) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
  std::vector<ApplicationToken> out;
  for (const auto& [id, t] : tokens_) {
    if (t.token.user_id == user_id) out.push_back(t.token);
  }
  return out;
}

absl::StatusOr<ApplicationToken> FakeIdentityStore::GetToken(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return absl::NotFoundError(absl::StrCat("application token ", id, " not found"));
  return it->second.token;
}

absl::Status FakeIdentityStore::DeleteToken(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter(); !s.ok()) return s;
  if (tokens_.erase(id) == 0) return absl::NotFoundError(absl::StrCat("application token ", id, " not found"));
  return absl::OkStatus();
}

}  // namespace portunus::auth
