#include "services/auth/pg_identity_store.h"

#include <algorithm>
#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/auth/secret_digest.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

// Micro-second timestamps keep absl::Time exact across the round trip.
#define PORTUNUS_TS(col) "(extract(epoch from " col ") * 1000000)::bigint"

constexpr char kUserColumns[] =
    "u.id, u.username, u.email, u.display_name, u.admin, u.enabled, u.bot, "
    "(SELECT n.id FROM auth.namespaces n JOIN auth.teams t ON t.id = n.team_id "
    "  WHERE n.kind = 'personal' AND t.owner_user_id = u.id), " PORTUNUS_TS("u.locked_until") ", " PORTUNUS_TS(
        "u.created_at") ", " PORTUNUS_TS("u.updated_at");

constexpr char kLoginColumns[] =
    "u.id, u.username, u.password_hash, u.admin, u.enabled, u.bot, u.failed_attempts, " PORTUNUS_TS(
        "u.locked_until");

constexpr char kTeamColumns[] =
    "t.id, t.name, t.description, t.kind, t.owner_user_id, "
    "(SELECT count(*) FROM auth.team_members m WHERE m.team_id = t.id), "
    "(SELECT count(*) FROM auth.namespaces n WHERE n.team_id = t.id), " PORTUNUS_TS(
        "t.created_at") ", " PORTUNUS_TS("t.updated_at");

constexpr char kMemberColumns[] =
    "m.id, m.team_id, m.user_id, u.username, u.display_name, u.admin, u.bot, m.role, " PORTUNUS_TS(
        "m.created_at") ", " PORTUNUS_TS("m.updated_at");
constexpr char kMemberFrom[] = " FROM auth.team_members m JOIN auth.users u ON u.id = m.user_id ";

constexpr char kNamespaceColumns[] =
    "n.id, n.name, n.description, n.team_id, t.name, n.visibility, n.kind, "
    "CASE WHEN n.kind = 'personal' THEN t.owner_user_id END, " PORTUNUS_TS(
        "n.created_at") ", " PORTUNUS_TS("n.updated_at");
constexpr char kNamespaceFrom[] = " FROM auth.namespaces n JOIN auth.teams t ON t.id = n.team_id ";

#undef PORTUNUS_TS

std::optional<std::string> OptString(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}
std::optional<int64_t> OptInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}
absl::Time TimeOf(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }
std::optional<absl::Time> OptTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return TimeOf(f);
}
int64_t MicrosOf(absl::Time t) { return absl::ToUnixMicros(t); }

// NULL for nullopt (pqxx 6 sends a null const char* as SQL NULL).
const char* Nullable(const std::optional<std::string>& s) { return s.has_value() ? s->c_str() : nullptr; }

User UserOf(const pqxx::row& r) {
  User u;
  u.id = r[0].as<int64_t>();
  u.username = r[1].as<std::string>();
  u.email = OptString(r[2]);
  u.display_name = OptString(r[3]);
  u.admin = r[4].as<bool>();
  u.enabled = r[5].as<bool>();
  u.bot = r[6].as<bool>();
  u.namespace_id = OptInt(r[7]);
  u.locked_until = OptTime(r[8]);
  u.created_at = TimeOf(r[9]);
  u.updated_at = TimeOf(r[10]);
  return u;
}

LoginRecord LoginOf(const pqxx::row& r) {
  LoginRecord l;
  l.id = r[0].as<int64_t>();
  l.username = r[1].as<std::string>();
  l.password_hash = OptString(r[2]);
  l.admin = r[3].as<bool>();
  l.enabled = r[4].as<bool>();
  l.bot = r[5].as<bool>();
  l.failed_attempts = r[6].as<int>();
  l.locked_until = OptTime(r[7]);
  return l;
}

Team TeamOf(const pqxx::row& r) {
  Team t;
  t.id = r[0].as<int64_t>();
  t.name = r[1].as<std::string>();
  t.description = r[2].as<std::string>();
  t.kind = ParseKind(r[3].as<std::string>()).value_or(Kind::kRegular);
  t.owner_user_id = OptInt(r[4]);
  t.members_count = r[5].as<int64_t>();
  t.namespaces_count = r[6].as<int64_t>();
  t.created_at = TimeOf(r[7]);
  t.updated_at = TimeOf(r[8]);
  return t;
}

Member MemberOf(const pqxx::row& r) {
  Member m;
  m.id = r[0].as<int64_t>();
  m.team_id = r[1].as<int64_t>();
  m.user_id = r[2].as<int64_t>();
  m.username = r[3].as<std::string>();
  m.display_name = OptString(r[4]);
  m.admin = r[5].as<bool>();
  m.bot = r[6].as<bool>();
  m.role = ParseRole(r[7].as<std::string>()).value_or(Role::kViewer);
  m.created_at = TimeOf(r[8]);
  m.updated_at = TimeOf(r[9]);
  return m;
}

Namespace NamespaceOf(const pqxx::row& r) {
  Namespace n;
  n.id = r[0].as<int64_t>();
  n.name = r[1].as<std::string>();
  n.description = r[2].as<std::string>();
  n.team_id = r[3].as<int64_t>();
  n.team_name = r[4].as<std::string>();
  n.visibility = ParseVisibility(r[5].as<std::string>()).value_or(Visibility::kPrivate);
  n.kind = ParseKind(r[6].as<std::string>()).value_or(Kind::kRegular);
  n.personal_owner_id = OptInt(r[7]);
  n.created_at = TimeOf(r[8]);
  n.updated_at = TimeOf(r[9]);
  return n;
}

ApplicationToken TokenOf(const pqxx::row& r) {
  return ApplicationToken{r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<std::string>(),
                          TimeOf(r[3])};
}

// The friendly message of a unique violation: the first listed constraint named in it.
absl::Status Conflict(const pqxx::unique_violation& e,
                      std::initializer_list<std::pair<const char*, std::string>> messages) {
  const std::string what = e.what();
  for (const auto& [constraint, message] : messages) {
    if (what.find(constraint) != std::string::npos) return absl::AlreadyExistsError(message);
  }
  return absl::AlreadyExistsError("the name is already taken");
}

// " ORDER BY <column> [DESC], <id column> LIMIT n OFFSET m" for a whitelisted attribute.
std::string OrderAndPage(const ListOptions& o, absl::string_view prefix,
                         const std::vector<std::pair<std::string, std::string>>& columns) {
  std::string column = absl::StrCat(prefix, ".id");
  for (const auto& [attr, col] : columns) {
    if (attr == o.sort_attr) column = col;
  }
  const char* dir = o.descending ? " DESC" : " ASC";
  return absl::StrCat(" ORDER BY ", column, dir, ", ", prefix, ".id", dir, " LIMIT ", o.per_page,
                      " OFFSET ", o.offset());
}

const char* kAdminLock = "SELECT pg_advisory_xact_lock(hashtext('portunus:auth:admins'))";

absl::StatusOr<User> LoadUser(pqxx::work& w, int64_t id) {
  pqxx::result r = w.exec_params(absl::StrCat("SELECT ", kUserColumns, " FROM auth.users u WHERE u.id = $1"), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
  return UserOf(r[0]);
}

absl::StatusOr<Team> LoadTeam(pqxx::work& w, int64_t id) {
  pqxx::result r = w.exec_params(absl::StrCat("SELECT ", kTeamColumns, " FROM auth.teams t WHERE t.id = $1"), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
  return TeamOf(r[0]);
}

absl::StatusOr<Member> LoadMember(pqxx::work& w, int64_t id) {
  pqxx::result r =
      w.exec_params(absl::StrCat("SELECT ", kMemberColumns, kMemberFrom, "WHERE m.id = $1"), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("member ", id, " not found"));
  return MemberOf(r[0]);
}

absl::StatusOr<Namespace> LoadNamespace(pqxx::work& w, int64_t id) {
  pqxx::result r =
      w.exec_params(absl::StrCat("SELECT ", kNamespaceColumns, kNamespaceFrom, "WHERE n.id = $1"), id);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
  return NamespaceOf(r[0]);
}

// Enabled admins other than `user_id`.
int64_t OtherEnabledAdmins(pqxx::work& w, int64_t user_id) {
  return w
      .exec_params1("SELECT count(*) FROM auth.users WHERE admin AND enabled AND NOT bot AND id <> $1",
                    user_id)[0]
      .as<int64_t>();
}

// Inserts the account (and for a person the personal team, membership and namespace).
absl::StatusOr<int64_t> InsertUser(pqxx::work& w, const NewUser& u) {
  try {
    const int64_t id =
        w.exec_params1(
             "INSERT INTO auth.users (username, email, display_name, password_hash, admin, bot) "
             "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
             u.username, Nullable(u.email), Nullable(u.display_name), Nullable(u.password_hash),
             u.admin, u.bot)[0]
            .as<int64_t>();
    if (!u.bot) {
      const int64_t team =
          w.exec_params1("INSERT INTO auth.teams (name, kind, owner_user_id) VALUES ($1, 'personal', $2) "
                         "RETURNING id",
                         u.username, id)[0]
              .as<int64_t>();
      w.exec_params("INSERT INTO auth.team_members (team_id, user_id, role) VALUES ($1, $2, 'owner')",
                    team, id);
      w.exec_params("INSERT INTO auth.namespaces (name, team_id, visibility, kind) "
                    "VALUES ($1, $2, 'private', 'personal')",
                    u.username, team);
    }
    return id;
  } catch (const pqxx::unique_violation& e) {
    return Conflict(e, {{"users_username_key", absl::StrCat("username ", u.username, " is already taken")},
                        {"users_email_key", absl::StrCat("e-mail ", u.email.value_or(""), " is already in use")},
                        {"teams_name_key", absl::StrCat("a team named ", u.username, " already exists")},
                        {"namespaces_name_key", absl::StrCat("namespace ", u.username, " already exists")}});
  }
}

absl::StatusOr<ApplicationToken> InsertToken(pqxx::work& w, const NewToken& t, const std::string& owner) {
  try {
    pqxx::row r = w.exec_params1(
        "INSERT INTO auth.application_tokens (user_id, application, digest) VALUES ($1, $2, $3) "
        "RETURNING id, user_id, application, (extract(epoch from created_at) * 1000000)::bigint",
        t.user_id, t.application, HexEncode(t.digest));
    return TokenOf(r);
  } catch (const pqxx::unique_violation& e) {
    return Conflict(e, {{"application_tokens_user_application_key",
                         absl::StrCat(owner, " already has a token for application ", t.application)},
                        {"application_tokens_digest_key", "token collision; try again"}});
  }
}

}  // namespace

// ---- credentials ----

absl::StatusOr<std::optional<LoginRecord>> PgIdentityStore::FindLogin(absl::string_view username) {
  return pool_.TransactValue<std::optional<LoginRecord>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::optional<LoginRecord>> {
        pqxx::result r = w.exec_params(
            absl::StrCat("SELECT ", kLoginColumns, " FROM auth.users u WHERE u.username = $1"),
            std::string(username));
        if (r.empty()) return std::optional<LoginRecord>();
        return std::optional<LoginRecord>(LoginOf(r[0]));
      });
}

absl::StatusOr<std::optional<LoginRecord>> PgIdentityStore::FindTokenOwner(absl::string_view digest) {
  return pool_.TransactValue<std::optional<LoginRecord>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::optional<LoginRecord>> {
        pqxx::result r = w.exec_params(
            absl::StrCat("SELECT ", kLoginColumns,
                         " FROM auth.application_tokens a JOIN auth.users u ON u.id = a.user_id "
                         "WHERE a.digest = $1"),
            HexEncode(digest));
        if (r.empty()) return std::optional<LoginRecord>();
        return std::optional<LoginRecord>(LoginOf(r[0]));
      });
}

absl::StatusOr<bool> PgIdentityStore::RecordLoginFailure(int64_t user_id, absl::Time now,
                                                         int max_attempts, absl::Duration lock_for) {
  return pool_.TransactValue<bool>([&](pqxx::work& w) -> absl::StatusOr<bool> {
    pqxx::result r = w.exec_params(
        "SELECT failed_attempts, (extract(epoch from locked_until) * 1000000)::bigint "
        "FROM auth.users WHERE id = $1 FOR UPDATE",
        user_id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    int failed = r[0][0].as<int>();
    std::optional<absl::Time> locked = OptTime(r[0][1]);
    const bool expired = locked.has_value() && *locked <= now;
    if (locked.has_value() && !expired) return false;  // already locked
    ++failed;
    const bool lock = failed >= max_attempts;
    if (lock) {
      w.exec_params("UPDATE auth.users SET failed_attempts = 0, "
                    "locked_until = to_timestamp($2::double precision / 1000000) WHERE id = $1",
                    user_id, MicrosOf(now + lock_for));
    } else if (expired) {
      w.exec_params("UPDATE auth.users SET failed_attempts = $2, locked_until = NULL WHERE id = $1",
                    user_id, failed);
    } else {
      w.exec_params("UPDATE auth.users SET failed_attempts = $2 WHERE id = $1", user_id, failed);
    }
    return lock;
  });
}

absl::Status PgIdentityStore::ResetLoginFailures(int64_t user_id) {
  return pool_.Transact([&](pqxx::work& w) {
    pqxx::result r =
        w.exec_params("UPDATE auth.users SET failed_attempts = 0 WHERE id = $1 RETURNING id", user_id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    return absl::OkStatus();
  });
}

// ---- users ----

absl::StatusOr<User> PgIdentityStore::CreateUser(const NewUser& user) {
  return pool_.TransactValue<User>([&](pqxx::work& w) -> absl::StatusOr<User> {
    if (user.admin) w.exec(kAdminLock);
    absl::StatusOr<int64_t> id = InsertUser(w, user);
    if (!id.ok()) return id.status();
    return LoadUser(w, *id);
  });
}

absl::StatusOr<std::pair<User, ApplicationToken>> PgIdentityStore::Bootstrap(const NewUser& admin,
                                                                             const NewToken& token) {
  using Result = std::pair<User, ApplicationToken>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    w.exec("SELECT pg_advisory_xact_lock(hashtext('portunus:auth:bootstrap'))");
    w.exec(kAdminLock);
    if (w.exec1("SELECT count(*) FROM auth.users")[0].as<int64_t>() > 0) {
      return absl::PermissionDeniedError(
          "bootstrap is only possible while no user exists; ask an administrator for an account");
    }
    NewUser a = admin;
    a.admin = true;
    absl::StatusOr<int64_t> id = InsertUser(w, a);
    if (!id.ok()) return id.status();
    NewToken t = token;
    t.user_id = *id;
    absl::StatusOr<ApplicationToken> tok = InsertToken(w, t, a.username);
    if (!tok.ok()) return tok.status();
    absl::StatusOr<User> u = LoadUser(w, *id);
    if (!u.ok()) return u.status();
    return Result(*std::move(u), *std::move(tok));
  });
}

absl::StatusOr<User> PgIdentityStore::GetUser(int64_t id) {
  return pool_.TransactValue<User>([&](pqxx::work& w) { return LoadUser(w, id); });
}

absl::StatusOr<User> PgIdentityStore::FindUserByName(absl::string_view username) {
  return pool_.TransactValue<User>([&](pqxx::work& w) -> absl::StatusOr<User> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kUserColumns, " FROM auth.users u WHERE u.username = $1"),
        std::string(username));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("user ", username, " not found"));
    return UserOf(r[0]);
  });
}

absl::StatusOr<Page<User>> PgIdentityStore::ListUsers(const ListOptions& o) {
  return pool_.TransactValue<Page<User>>([&](pqxx::work& w) -> absl::StatusOr<Page<User>> {
    Page<User> page;
    page.total = w.exec1("SELECT count(*) FROM auth.users")[0].as<int64_t>();
    pqxx::result r = w.exec(absl::StrCat(
        "SELECT ", kUserColumns, " FROM auth.users u",
        OrderAndPage(o, "u",
                     {{"username", "u.username"},
                      {"email", "lower(u.email)"},
                      {"display_name", "u.display_name"},
                      {"admin", "u.admin"},
                      {"enabled", "u.enabled"},
                      {"bot", "u.bot"},
                      {"created_at", "u.created_at"},
                      {"updated_at", "u.updated_at"}})));
    for (const auto& row : r) page.items.push_back(UserOf(row));
    return page;
  });
}

absl::StatusOr<int64_t> PgIdentityStore::CountUsers() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT count(*) FROM auth.users")[0].as<int64_t>();
  });
}

absl::StatusOr<User> PgIdentityStore::UpdateUser(int64_t id, const UserPatch& patch) {
  return pool_.TransactValue<User>([&](pqxx::work& w) -> absl::StatusOr<User> {
    if (patch.admin.has_value() || patch.enabled.has_value()) w.exec(kAdminLock);
    pqxx::result cur = w.exec_params(
        "SELECT username, admin, enabled, bot FROM auth.users WHERE id = $1 FOR UPDATE", id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
    const std::string username = cur[0][0].as<std::string>();
    const bool admin = cur[0][1].as<bool>();
    const bool enabled = cur[0][2].as<bool>();
    const bool loses_admin = admin && enabled &&
                             ((patch.admin.has_value() && !*patch.admin) ||
                              (patch.enabled.has_value() && !*patch.enabled));
    if (loses_admin && OtherEnabledAdmins(w, id) == 0) {
      return RuleConflictError(
          kRuleLastAdmin, absl::StrCat(username, " is the last enabled administrator"));
    }
    try {
      if (patch.email.has_value()) {
        w.exec_params("UPDATE auth.users SET email = NULLIF($2, '') WHERE id = $1", id, *patch.email);
      }
    } catch (const pqxx::unique_violation& e) {
      return Conflict(e, {{"users_email_key", absl::StrCat("e-mail ", *patch.email, " is already in use")}});
    }
    if (patch.display_name.has_value()) {
      w.exec_params("UPDATE auth.users SET display_name = NULLIF($2, '') WHERE id = $1", id,
                    *patch.display_name);
    }
    if (patch.password_hash.has_value()) {
      w.exec_params("UPDATE auth.users SET password_hash = $2 WHERE id = $1", id, *patch.password_hash);
    }
    if (patch.enabled.has_value()) {
      w.exec_params("UPDATE auth.users SET enabled = $2 WHERE id = $1", id, *patch.enabled);
    }
    if (patch.admin.has_value()) {
      w.exec_params("UPDATE auth.users SET admin = $2 WHERE id = $1", id, *patch.admin);
      if (*patch.admin) {
        // An admin in a team is always an owner (Portus).
        w.exec_params("UPDATE auth.team_members SET role = 'owner', updated_at = now() "
                      "WHERE user_id = $1 AND role <> 'owner'",
                      id);
      }
    }
    w.exec_params("UPDATE auth.users SET updated_at = now() WHERE id = $1", id);
    return LoadUser(w, id);
  });
}

absl::Status PgIdentityStore::DeleteUser(int64_t id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    w.exec(kAdminLock);
    pqxx::result cur =
        w.exec_params("SELECT username, admin, enabled FROM auth.users WHERE id = $1 FOR UPDATE", id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
    const std::string username = cur[0][0].as<std::string>();
    if (cur[0][1].as<bool>() && cur[0][2].as<bool>() && OtherEnabledAdmins(w, id) == 0) {
      return RuleConflictError(kRuleLastAdmin,
                               absl::StrCat(username, " is the last enabled administrator"));
    }
    // Lock the regular teams this account owns, then check it is not their last owner.
    pqxx::result owned = w.exec_params(
        "SELECT t.id, t.name FROM auth.teams t JOIN auth.team_members m ON m.team_id = t.id "
        "WHERE m.user_id = $1 AND m.role = 'owner' AND t.kind = 'team' ORDER BY t.id FOR UPDATE OF t",
        id);
    for (const auto& row : owned) {
      const int64_t owners =
          w.exec_params1("SELECT count(*) FROM auth.team_members WHERE team_id = $1 AND role = 'owner'",
                         row[0].as<int64_t>())[0]
              .as<int64_t>();
      if (owners <= 1) {
        return RuleConflictError(
            kRuleLastOwner,
            absl::StrCat(username, " is the last owner of team ", row[1].as<std::string>(),
                         "; make someone else owner first"));
      }
    }
    w.exec_params("DELETE FROM auth.namespaces n USING auth.teams t WHERE n.team_id = t.id "
                  "AND t.kind = 'personal' AND t.owner_user_id = $1",
                  id);
    w.exec_params("DELETE FROM auth.teams WHERE kind = 'personal' AND owner_user_id = $1", id);
    w.exec_params("DELETE FROM auth.users WHERE id = $1", id);
    return absl::OkStatus();
  });
}

// ---- teams ----

absl::StatusOr<Team> PgIdentityStore::CreateTeam(absl::string_view name, absl::string_view description,
                                                 int64_t owner_user_id) {
  return pool_.TransactValue<Team>([&](pqxx::work& w) -> absl::StatusOr<Team> {
    int64_t id;
    try {
      id = w.exec_params1("INSERT INTO auth.teams (name, description) VALUES ($1, $2) RETURNING id",
                          std::string(name), std::string(description))[0]
               .as<int64_t>();
    } catch (const pqxx::unique_violation& e) {
      return Conflict(e, {{"teams_name_key", absl::StrCat("a team named ", name, " already exists")}});
    }
    pqxx::result owner = w.exec_params(
        "INSERT INTO auth.team_members (team_id, user_id, role) SELECT $1, id, 'owner' "
        "FROM auth.users WHERE id = $2 RETURNING id",
        id, owner_user_id);
    if (owner.empty()) return absl::NotFoundError(absl::StrCat("user ", owner_user_id, " not found"));
    return LoadTeam(w, id);
  });
}

absl::StatusOr<Team> PgIdentityStore::GetTeam(int64_t id) {
  return pool_.TransactValue<Team>([&](pqxx::work& w) { return LoadTeam(w, id); });
}

absl::StatusOr<Team> PgIdentityStore::FindTeamByName(absl::string_view name) {
  return pool_.TransactValue<Team>([&](pqxx::work& w) -> absl::StatusOr<Team> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kTeamColumns, " FROM auth.teams t WHERE t.name = $1"), std::string(name));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("team ", name, " not found"));
    return TeamOf(r[0]);
  });
}

absl::StatusOr<Page<Team>> PgIdentityStore::ListTeams(const ListOptions& o,
                                                      std::optional<int64_t> member_user_id) {
  return pool_.TransactValue<Page<Team>>([&](pqxx::work& w) -> absl::StatusOr<Page<Team>> {
    const std::string where =
        "WHERE t.kind = 'team' AND ($1::bigint = 0 OR EXISTS (SELECT 1 FROM auth.team_members m "
        "WHERE m.team_id = t.id AND m.user_id = $1::bigint))";
    const int64_t member = member_user_id.value_or(0);
    Page<Team> page;
    page.total = w.exec_params1(absl::StrCat("SELECT count(*) FROM auth.teams t ", where), member)[0]
                     .as<int64_t>();
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kTeamColumns, " FROM auth.teams t ", where,
                     OrderAndPage(o, "t",
                                  {{"name", "t.name"},
                                   {"description", "t.description"},
                                   {"created_at", "t.created_at"},
                                   {"updated_at", "t.updated_at"}})),
        member);
    for (const auto& row : r) page.items.push_back(TeamOf(row));
    return page;
  });
}

absl::StatusOr<Team> PgIdentityStore::UpdateTeam(int64_t id, std::optional<std::string> name,
                                                 std::optional<std::string> description) {
  return pool_.TransactValue<Team>([&](pqxx::work& w) -> absl::StatusOr<Team> {
    pqxx::result cur = w.exec_params("SELECT id FROM auth.teams WHERE id = $1 FOR UPDATE", id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
    try {
      if (name.has_value()) w.exec_params("UPDATE auth.teams SET name = $2 WHERE id = $1", id, *name);
    } catch (const pqxx::unique_violation& e) {
      return Conflict(e, {{"teams_name_key", absl::StrCat("a team named ", *name, " already exists")}});
    }
    if (description.has_value()) {
      w.exec_params("UPDATE auth.teams SET description = $2 WHERE id = $1", id, *description);
    }
    w.exec_params("UPDATE auth.teams SET updated_at = now() WHERE id = $1", id);
    return LoadTeam(w, id);
  });
}

absl::Status PgIdentityStore::DeleteTeam(int64_t id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result cur = w.exec_params("SELECT name FROM auth.teams WHERE id = $1 FOR UPDATE", id);
    if (cur.empty()) return absl::NotFoundError(absl::StrCat("team ", id, " not found"));
    pqxx::result owned =
        w.exec_params("SELECT name FROM auth.namespaces WHERE team_id = $1 ORDER BY name", id);
    if (!owned.empty()) {
      std::vector<std::string> names;
      for (const auto& row : owned) names.push_back(row[0].as<std::string>());
      return RuleConflictError(
          kRuleTeamOwnsNamespaces,
          absl::StrCat("team ", cur[0][0].as<std::string>(), " still owns namespaces (",
                       absl::StrJoin(names, ", "), "); delete them or move them to another team first"));
    }
    w.exec_params("DELETE FROM auth.teams WHERE id = $1", id);
    return absl::OkStatus();
  });
}

// ---- members ----

absl::StatusOr<Page<Member>> PgIdentityStore::ListMembers(int64_t team_id, const ListOptions& o) {
  return pool_.TransactValue<Page<Member>>([&](pqxx::work& w) -> absl::StatusOr<Page<Member>> {
    if (w.exec_params("SELECT 1 FROM auth.teams WHERE id = $1", team_id).empty()) {
      return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
    }
    Page<Member> page;
    page.total = w.exec_params1("SELECT count(*) FROM auth.team_members WHERE team_id = $1", team_id)[0]
                     .as<int64_t>();
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kMemberColumns, kMemberFrom, "WHERE m.team_id = $1",
                     OrderAndPage(o, "m",
                                  {{"username", "u.username"},
                                   {"role", "array_position(ARRAY['viewer','contributor','owner'], m.role)"},
                                   {"created_at", "m.created_at"}})),
        team_id);
    for (const auto& row : r) page.items.push_back(MemberOf(row));
    return page;
  });
}

absl::StatusOr<Member> PgIdentityStore::GetMember(int64_t member_id) {
  return pool_.TransactValue<Member>([&](pqxx::work& w) { return LoadMember(w, member_id); });
}

absl::StatusOr<Member> PgIdentityStore::FindMember(int64_t team_id, int64_t user_id) {
  return pool_.TransactValue<Member>([&](pqxx::work& w) -> absl::StatusOr<Member> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kMemberColumns, kMemberFrom, "WHERE m.team_id = $1 AND m.user_id = $2"),
        team_id, user_id);
    if (r.empty()) return absl::NotFoundError("not a member of the team");
    return MemberOf(r[0]);
  });
}

absl::StatusOr<std::vector<Member>> PgIdentityStore::MembershipsOf(int64_t user_id) {
  return pool_.TransactValue<std::vector<Member>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::vector<Member>> {
        pqxx::result r = w.exec_params(
            absl::StrCat("SELECT ", kMemberColumns, kMemberFrom, "WHERE m.user_id = $1 ORDER BY m.id"),
            user_id);
        std::vector<Member> out;
        for (const auto& row : r) out.push_back(MemberOf(row));
        return out;
      });
}

absl::StatusOr<Member> PgIdentityStore::AddMember(int64_t team_id, int64_t user_id, Role role) {
  return pool_.TransactValue<Member>([&](pqxx::work& w) -> absl::StatusOr<Member> {
    pqxx::result team = w.exec_params("SELECT name FROM auth.teams WHERE id = $1", team_id);
    if (team.empty()) return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
    pqxx::result user = w.exec_params("SELECT username FROM auth.users WHERE id = $1", user_id);
    if (user.empty()) return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
    int64_t id;
    try {
      id = w.exec_params1("INSERT INTO auth.team_members (team_id, user_id, role) VALUES ($1, $2, $3) "
                          "RETURNING id",
                          team_id, user_id, std::string(RoleName(role)))[0]
               .as<int64_t>();
    } catch (const pqxx::unique_violation& e) {
      return Conflict(e, {{"team_members_team_user_key",
                           absl::StrCat(user[0][0].as<std::string>(), " is already a member of team ",
                                        team[0][0].as<std::string>())}});
    }
    return LoadMember(w, id);
  });
}

absl::StatusOr<Member> PgIdentityStore::UpdateMemberRole(int64_t member_id, Role role) {
  return pool_.TransactValue<Member>([&](pqxx::work& w) -> absl::StatusOr<Member> {
    absl::StatusOr<Member> m = LoadMember(w, member_id);
    if (!m.ok()) return m.status();
    pqxx::result team =
        w.exec_params("SELECT name FROM auth.teams WHERE id = $1 FOR UPDATE", m->team_id);
    if (m->role == Role::kOwner && role != Role::kOwner) {
      const int64_t owners =
          w.exec_params1("SELECT count(*) FROM auth.team_members WHERE team_id = $1 AND role = 'owner'",
                         m->team_id)[0]
              .as<int64_t>();
      if (owners <= 1) {
        return RuleConflictError(kRuleLastOwner, absl::StrCat(m->username, " is the last owner of team ",
                                                          team[0][0].as<std::string>(),
                                                          " and cannot be demoted"));
      }
    }
    w.exec_params("UPDATE auth.team_members SET role = $2, updated_at = now() WHERE id = $1", member_id,
                  std::string(RoleName(role)));
    return LoadMember(w, member_id);
  });
}

absl::Status PgIdentityStore::RemoveMember(int64_t member_id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    absl::StatusOr<Member> m = LoadMember(w, member_id);
    if (!m.ok()) return m.status();
    pqxx::result team =
        w.exec_params("SELECT name FROM auth.teams WHERE id = $1 FOR UPDATE", m->team_id);
    if (m->role == Role::kOwner) {
      const int64_t owners =
          w.exec_params1("SELECT count(*) FROM auth.team_members WHERE team_id = $1 AND role = 'owner'",
                         m->team_id)[0]
              .as<int64_t>();
      if (owners <= 1) {
        return RuleConflictError(kRuleLastOwner, absl::StrCat(m->username, " is the last owner of team ",
                                                          team[0][0].as<std::string>(),
                                                          " and cannot be removed"));
      }
    }
    w.exec_params("DELETE FROM auth.team_members WHERE id = $1", member_id);
    return absl::OkStatus();
  });
}

// ---- namespaces ----

absl::StatusOr<Namespace> PgIdentityStore::CreateNamespace(absl::string_view name,
                                                           absl::string_view description,
                                                           int64_t team_id, Visibility visibility) {
  return pool_.TransactValue<Namespace>([&](pqxx::work& w) -> absl::StatusOr<Namespace> {
    if (w.exec_params("SELECT 1 FROM auth.teams WHERE id = $1", team_id).empty()) {
      return absl::NotFoundError(absl::StrCat("team ", team_id, " not found"));
    }
    int64_t id;
    try {
      id = w.exec_params1("INSERT INTO auth.namespaces (name, description, team_id, visibility) "
                          "VALUES ($1, $2, $3, $4) RETURNING id",
                          std::string(name), std::string(description), team_id,
                          std::string(VisibilityName(visibility)))[0]
               .as<int64_t>();
    } catch (const pqxx::unique_violation& e) {
      return Conflict(e, {{"namespaces_name_key", absl::StrCat("namespace ", name, " already exists")}});
    }
    return LoadNamespace(w, id);
  });
}

absl::StatusOr<std::pair<Namespace, bool>> PgIdentityStore::EnsureNamespace(absl::string_view name) {
  using Result = std::pair<Namespace, bool>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    pqxx::result created = w.exec_params(
        "INSERT INTO auth.namespaces (name, team_id, visibility, kind) "
        "SELECT $1, id, 'private', 'team' FROM auth.teams WHERE kind = 'global' "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        std::string(name));
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kNamespaceColumns, kNamespaceFrom, "WHERE n.name = $1"), std::string(name));
    if (r.empty()) return absl::InternalError("the global team is missing (migrations not applied?)");
    return Result(NamespaceOf(r[0]), !created.empty());
  });
}

absl::StatusOr<Namespace> PgIdentityStore::GetNamespace(int64_t id) {
  return pool_.TransactValue<Namespace>([&](pqxx::work& w) { return LoadNamespace(w, id); });
}

absl::StatusOr<Namespace> PgIdentityStore::FindNamespaceByName(absl::string_view name) {
  return pool_.TransactValue<Namespace>([&](pqxx::work& w) -> absl::StatusOr<Namespace> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kNamespaceColumns, kNamespaceFrom, "WHERE n.name = $1"), std::string(name));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("namespace ", name, " not found"));
    return NamespaceOf(r[0]);
  });
}

absl::StatusOr<Page<Namespace>> PgIdentityStore::ListNamespaces(const ListOptions& o,
                                                                const NamespaceFilter& filter) {
  return pool_.TransactValue<Page<Namespace>>([&](pqxx::work& w) -> absl::StatusOr<Page<Namespace>> {
    const std::string where =
        "WHERE ($1::bigint = 0 OR n.team_id = $1::bigint) AND ($2::bigint = 0 OR n.visibility <> 'private' OR EXISTS "
        "(SELECT 1 FROM auth.team_members m WHERE m.team_id = n.team_id AND m.user_id = $2::bigint))";
    const int64_t team = filter.team_id.value_or(0);
    const int64_t user = filter.visible_to_user.value_or(0);
    Page<Namespace> page;
    page.total = w.exec_params1(absl::StrCat("SELECT count(*) FROM auth.namespaces n ", where), team,
                                user)[0]
                     .as<int64_t>();
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kNamespaceColumns, kNamespaceFrom, where,
                     OrderAndPage(o, "n",
                                  {{"name", "n.name"},
                                   {"description", "n.description"},
                                   {"visibility", "n.visibility"},
                                   {"created_at", "n.created_at"},
                                   {"updated_at", "n.updated_at"}})),
        team, user);
    for (const auto& row : r) page.items.push_back(NamespaceOf(row));
    return page;
  });
}

absl::StatusOr<Namespace> PgIdentityStore::UpdateNamespace(int64_t id, const NamespacePatch& patch) {
  return pool_.TransactValue<Namespace>([&](pqxx::work& w) -> absl::StatusOr<Namespace> {
    if (w.exec_params("SELECT 1 FROM auth.namespaces WHERE id = $1 FOR UPDATE", id).empty()) {
      return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
    }
    if (patch.team_id.has_value()) {
      if (w.exec_params("SELECT 1 FROM auth.teams WHERE id = $1", *patch.team_id).empty()) {
        return absl::NotFoundError(absl::StrCat("team ", *patch.team_id, " not found"));
      }
      w.exec_params("UPDATE auth.namespaces SET team_id = $2 WHERE id = $1", id, *patch.team_id);
    }
    if (patch.description.has_value()) {
      w.exec_params("UPDATE auth.namespaces SET description = $2 WHERE id = $1", id, *patch.description);
    }
    if (patch.visibility.has_value()) {
      w.exec_params("UPDATE auth.namespaces SET visibility = $2 WHERE id = $1", id,
                    std::string(VisibilityName(*patch.visibility)));
    }
    w.exec_params("UPDATE auth.namespaces SET updated_at = now() WHERE id = $1", id);
    return LoadNamespace(w, id);
  });
}

absl::Status PgIdentityStore::DeleteNamespace(int64_t id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    if (w.exec_params("DELETE FROM auth.namespaces WHERE id = $1 RETURNING id", id).empty()) {
      return absl::NotFoundError(absl::StrCat("namespace ", id, " not found"));
    }
    return absl::OkStatus();
  });
}

// ---- application tokens ----

absl::StatusOr<ApplicationToken> PgIdentityStore::CreateToken(const NewToken& token, int max_per_user) {
  return pool_.TransactValue<ApplicationToken>([&](pqxx::work& w) -> absl::StatusOr<ApplicationToken> {
    pqxx::result user =
        w.exec_params("SELECT username FROM auth.users WHERE id = $1 FOR UPDATE", token.user_id);
    if (user.empty()) return absl::NotFoundError(absl::StrCat("user ", token.user_id, " not found"));
    const std::string username = user[0][0].as<std::string>();
    if (!w.exec_params("SELECT 1 FROM auth.application_tokens WHERE user_id = $1 AND application = $2",
                       token.user_id, token.application)
             .empty()) {
      return absl::AlreadyExistsError(
          absl::StrCat(username, " already has a token for application ", token.application));
    }
    const int64_t count =
        w.exec_params1("SELECT count(*) FROM auth.application_tokens WHERE user_id = $1", token.user_id)[0]
            .as<int64_t>();
    if (count >= max_per_user) {
      return RuleConflictError(kRuleTokenLimit, absl::StrCat(
          username, " already has ", count, " application tokens (the maximum is ", max_per_user,
          "); revoke one first"));
    }
    return InsertToken(w, token, username);
  });
}

absl::StatusOr<std::vector<ApplicationToken>> PgIdentityStore::ListTokens(int64_t user_id) {
  return pool_.TransactValue<std::vector<ApplicationToken>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::vector<ApplicationToken>> {
        if (w.exec_params("SELECT 1 FROM auth.users WHERE id = $1", user_id).empty()) {
          return absl::NotFoundError(absl::StrCat("user ", user_id, " not found"));
        }
        pqxx::result r = w.exec_params(
            "SELECT id, user_id, application, (extract(epoch from created_at) * 1000000)::bigint "
            "FROM auth.application_tokens WHERE user_id = $1 ORDER BY id",
            user_id);
        std::vector<ApplicationToken> out;
        for (const auto& row : r) out.push_back(TokenOf(row));
        return out;
      });
}

absl::StatusOr<ApplicationToken> PgIdentityStore::GetToken(int64_t id) {
  return pool_.TransactValue<ApplicationToken>([&](pqxx::work& w) -> absl::StatusOr<ApplicationToken> {
    pqxx::result r = w.exec_params(
        "SELECT id, user_id, application, (extract(epoch from created_at) * 1000000)::bigint "
        "FROM auth.application_tokens WHERE id = $1",
        id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("application token ", id, " not found"));
    return TokenOf(r[0]);
  });
}

absl::Status PgIdentityStore::DeleteToken(int64_t id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    if (w.exec_params("DELETE FROM auth.application_tokens WHERE id = $1 RETURNING id", id).empty()) {
      return absl::NotFoundError(absl::StrCat("application token ", id, " not found"));
    }
    return absl::OkStatus();
  });
}

}  // namespace portunus::auth
