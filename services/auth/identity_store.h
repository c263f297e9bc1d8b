// IdentityStore: persistence of the identity model (users, teams, members, namespaces,
// application tokens). The domain (directories, authenticator) decides who may do what; the
// store keeps the data invariants that must hold under concurrency, atomically:
//   - a person comes with a personal team (owner = the person) and a private personal namespace;
//   - there is always at least one enabled administrator;
//   - every regular team keeps at least one owner;
//   - an account has at most N application tokens;
//   - names (usernames, team names, namespace names, e-mails) are unique.
// Implementations: PgIdentityStore (PostgreSQL) and FakeIdentityStore (memory, for domain tests).
// Both pass the same contract tests (identity_store_contract_test.cc). Thread-safe.
//
// Common status codes: kNotFound (no such object), kAlreadyExists (a unique name is taken; the
// message names it), kFailedPrecondition (an invariant above would break: a RuleConflictError
// naming the rule, one of the kRule* below, with a message saying which object), kUnavailable
// (database unreachable; retry).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/auth/model.h"

namespace portunus::auth {

// The rules of the identity model a request can conflict with (RuleConflictError in
// services/common/status_mapping.h: gRPC FAILED_PRECONDITION, REST 409 with "rule" in the body).
inline constexpr char kRuleLastAdmin[] = "last_admin";          // no enabled admin would be left
inline constexpr char kRuleLastOwner[] = "last_owner";          // a team would have no owner
inline constexpr char kRuleTeamOwnsNamespaces[] = "team_owns_namespaces";
inline constexpr char kRuleTokenLimit[] = "token_limit";        // max tokens per account reached
inline constexpr char kRuleHiddenTeam[] = "hidden_team";        // personal/global teams are fixed
inline constexpr char kRuleAdminAlwaysOwner[] = "admin_always_owner";
inline constexpr char kRuleGlobalNamespace[] = "global_namespace";      // never deleted
inline constexpr char kRulePersonalNamespace[] = "personal_namespace";  // goes only with its user

// What logging in needs to know about an account.
struct LoginRecord {
  int64_t id = 0;
  std::string username;
  std::optional<std::string> password_hash;  // none for bots
  bool admin = false;
  bool enabled = true;
  bool bot = false;
  int failed_attempts = 0;
  std::optional<absl::Time> locked_until;
};

// The narrow part of the store the Authenticator uses.
class CredentialStore {
 public:
  virtual ~CredentialStore() = default;
  // The account called `username`, or nullopt.
  virtual absl::StatusOr<std::optional<LoginRecord>> FindLogin(absl::string_view username) = 0;
  // The owner of the application token whose SHA-256 digest is `digest` (raw 32 bytes), or nullopt.
  virtual absl::StatusOr<std::optional<LoginRecord>> FindTokenOwner(absl::string_view digest) = 0;
  // Counts one failed login at `now`. When the count reaches `max_attempts` the account is locked
  // until now + `lock_for` and the count restarts; a failure after an expired lock starts a new
  // count. Returns true when this failure locked the account. kNotFound: no such account.
  virtual absl::StatusOr<bool> RecordLoginFailure(int64_t user_id, absl::Time now, int max_attempts,
                                                  absl::Duration lock_for) = 0;
  // Clears the failure count (after a successful login that followed failures).
  virtual absl::Status ResetLoginFailures(int64_t user_id) = 0;
};

struct NewUser {
  std::string username;
  std::optional<std::string> email;
  std::optional<std::string> display_name;
  std::optional<std::string> password_hash;  // required for people, absent for bots
  bool admin = false;
  bool bot = false;
};

// Fields to change; unset fields stay as they are.
struct UserPatch {
  std::optional<std::string> email;
  std::optional<std::string> display_name;  // "" clears it
  std::optional<std::string> password_hash;
  std::optional<bool> admin;
  std::optional<bool> enabled;
};

struct NamespacePatch {
  std::optional<std::string> description;
  std::optional<int64_t> team_id;
  std::optional<Visibility> visibility;
};

struct NamespaceFilter {
  std::optional<int64_t> team_id;           // only this team's namespaces
  std::optional<int64_t> visible_to_user;   // only those this account may see (member, or
                                            // protected/public); unset: all
};

struct NewToken {
  int64_t user_id = 0;
  std::string application;
  std::string digest;  // raw SHA-256 of the secret
};

class IdentityStore : public CredentialStore {
 public:
  // ---- users ----
  // Creates the account; for a person also the personal team and private namespace named after
  // the username. kAlreadyExists: username, e-mail, or the personal team/namespace name taken.
  virtual absl::StatusOr<User> CreateUser(const NewUser& user) = 0;
  // Creates the first account (an admin) and its first application token in one transaction,
  // only while no account exists. kPermissionDenied: an account already exists.
  virtual absl::StatusOr<std::pair<User, ApplicationToken>> Bootstrap(const NewUser& admin,
                                                                      const NewToken& token) = 0;
  virtual absl::StatusOr<User> GetUser(int64_t id) = 0;
  virtual absl::StatusOr<User> FindUserByName(absl::string_view username) = 0;
  virtual absl::StatusOr<Page<User>> ListUsers(const ListOptions& options) = 0;
  virtual absl::StatusOr<int64_t> CountUsers() = 0;
  // Changes the account. Making it an admin also makes it owner of all its teams.
  // kFailedPrecondition: it would leave no enabled administrator. kAlreadyExists: e-mail taken.
  virtual absl::StatusOr<User> UpdateUser(int64_t id, const UserPatch& patch) = 0;
  // Deletes the account, its personal team and namespace, memberships and tokens.
  // kFailedPrecondition: last enabled administrator, or last owner of a team (named).
  virtual absl::Status DeleteUser(int64_t id) = 0;

  // ---- teams ----
  // Creates a regular team with `owner_user_id` as its first owner. kAlreadyExists: name taken.
  virtual absl::StatusOr<Team> CreateTeam(absl::string_view name, absl::string_view description,
                                          int64_t owner_user_id) = 0;
  virtual absl::StatusOr<Team> GetTeam(int64_t id) = 0;
  virtual absl::StatusOr<Team> FindTeamByName(absl::string_view name) = 0;
  // Regular teams (hidden ones never), all of them or those `member_user_id` belongs to.
  virtual absl::StatusOr<Page<Team>> ListTeams(const ListOptions& options,
                                               std::optional<int64_t> member_user_id) = 0;
  virtual absl::StatusOr<Team> UpdateTeam(int64_t id, std::optional<std::string> name,
                                          std::optional<std::string> description) = 0;
  // kFailedPrecondition: the team still owns namespaces (named).
  virtual absl::Status DeleteTeam(int64_t id) = 0;

  // ---- members ----
  virtual absl::StatusOr<Page<Member>> ListMembers(int64_t team_id, const ListOptions& options) = 0;
  virtual absl::StatusOr<Member> GetMember(int64_t member_id) = 0;
  // kNotFound when the account is not a member.
  virtual absl::StatusOr<Member> FindMember(int64_t team_id, int64_t user_id) = 0;
  // Every membership of the account (hidden teams included).
  virtual absl::StatusOr<std::vector<Member>> MembershipsOf(int64_t user_id) = 0;
  // kAlreadyExists: already a member.
  virtual absl::StatusOr<Member> AddMember(int64_t team_id, int64_t user_id, Role role) = 0;
  // kFailedPrecondition: the team would have no owner left.
  virtual absl::StatusOr<Member> UpdateMemberRole(int64_t member_id, Role role) = 0;
  // kFailedPrecondition: the team would have no owner left.
  virtual absl::Status RemoveMember(int64_t member_id) = 0;

  // ---- namespaces ----
  // kAlreadyExists: name taken.
  virtual absl::StatusOr<Namespace> CreateNamespace(absl::string_view name,
                                                    absl::string_view description, int64_t team_id,
                                                    Visibility visibility) = 0;
  // Creates `name` (owned by the global team, private) unless it exists. Returns the namespace
  // and whether this call created it.
  virtual absl::StatusOr<std::pair<Namespace, bool>> EnsureNamespace(absl::string_view name) = 0;
  virtual absl::StatusOr<Namespace> GetNamespace(int64_t id) = 0;
  virtual absl::StatusOr<Namespace> FindNamespaceByName(absl::string_view name) = 0;
  virtual absl::StatusOr<Page<Namespace>> ListNamespaces(const ListOptions& options,
                                                         const NamespaceFilter& filter) = 0;
  virtual absl::StatusOr<Namespace> UpdateNamespace(int64_t id, const NamespacePatch& patch) = 0;
  virtual absl::Status DeleteNamespace(int64_t id) = 0;

  // ---- application tokens ----
  // kFailedPrecondition: the account already has `max_per_user` tokens.
  // kAlreadyExists: the account has a token for this application.
  virtual absl::StatusOr<ApplicationToken> CreateToken(const NewToken& token,
                                                       int max_per_user) = 0;
  virtual absl::StatusOr<std::vector<ApplicationToken>> ListTokens(int64_t user_id) = 0;
  virtual absl::StatusOr<ApplicationToken> GetToken(int64_t id) = 0;
  virtual absl::Status DeleteToken(int64_t id) = 0;
};

// Sort attributes each list accepts (besides "id", the default).
bool IsUserSortAttr(absl::string_view attr);
bool IsTeamSortAttr(absl::string_view attr);
bool IsMemberSortAttr(absl::string_view attr);
bool IsNamespaceSortAttr(absl::string_view attr);

}  // namespace portunus::auth
