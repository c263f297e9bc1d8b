// FakeIdentityStore: IdentityStore in memory, for domain tests. It keeps the same invariants as
// PgIdentityStore (both pass identity_store_contract_test.cc) and starts, like a migrated
// database, with the global team and the global namespace. FailNextCall() makes the next call
// of any method return a given status (outage tests).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "services/auth/identity_store.h"
#include "services/common/clock.h"

namespace portunus::auth {

// Thread-safe.
class FakeIdentityStore final : public IdentityStore {
 public:
  explicit FakeIdentityStore(Clock& clock = RealClock::Get());

  // The next call (any method) returns `status` and changes nothing.
  void FailNextCall(absl::Status status);
  // Number of calls so far (to check that a path made no store call).
  int calls() const;
  // The failure count of an account (lockout tests).
  int FailedAttemptsForTest(int64_t user_id) const;

  absl::StatusOr<std::optional<LoginRecord>> FindLogin(absl::string_view username) override;
  absl::StatusOr<std::optional<LoginRecord>> FindTokenOwner(absl::string_view digest) override;
  absl::StatusOr<bool> RecordLoginFailure(int64_t user_id, absl::Time now, int max_attempts,
                                          absl::Duration lock_for) override;
  absl::Status ResetLoginFailures(int64_t user_id) override;

  absl::StatusOr<User> CreateUser(const NewUser& user) override;
  absl::StatusOr<std::pair<User, ApplicationToken>> Bootstrap(const NewUser& admin,
                                                              const NewToken& token) override;
  absl::StatusOr<User> GetUser(int64_t id) override;
  absl::StatusOr<User> FindUserByName(absl::string_view username) override;
  absl::StatusOr<Page<User>> ListUsers(const ListOptions& options) override;
  absl::StatusOr<int64_t> CountUsers() override;
  absl::StatusOr<User> UpdateUser(int64_t id, const UserPatch& patch) override;
  absl::Status DeleteUser(int64_t id) override;

  absl::StatusOr<Team> CreateTeam(absl::string_view name, absl::string_view description,
                                  int64_t owner_user_id) override;
  absl::StatusOr<Team> GetTeam(int64_t id) override;
  absl::StatusOr<Team> FindTeamByName(absl::string_view name) override;
  absl::StatusOr<Page<Team>> ListTeams(const ListOptions& options,
                                       std::optional<int64_t> member_user_id) override;
  absl::StatusOr<Team> UpdateTeam(int64_t id, std::optional<std::string> name,
                                  std::optional<std::string> description) override;
  absl::Status DeleteTeam(int64_t id) override;

  absl::StatusOr<Page<Member>> ListMembers(int64_t team_id, const ListOptions& options) override;
  absl::StatusOr<Member> GetMember(int64_t member_id) override;
  absl::StatusOr<Member> FindMember(int64_t team_id, int64_t user_id) override;
  absl::StatusOr<std::vector<Member>> MembershipsOf(int64_t user_id) override;
  absl::StatusOr<Member> AddMember(int64_t team_id, int64_t user_id, Role role) override;
  absl::StatusOr<Member> UpdateMemberRole(int64_t member_id, Role role) override;
  absl::Status RemoveMember(int64_t member_id) override;

  absl::StatusOr<Namespace> CreateNamespace(absl::string_view name, absl::string_view description,
                                            int64_t team_id, Visibility visibility) override;
  absl::StatusOr<std::pair<Namespace, bool>> EnsureNamespace(absl::string_view name) override;
  absl::StatusOr<Namespace> GetNamespace(int64_t id) override;
  absl::StatusOr<Namespace> FindNamespaceByName(absl::string_view name) override;
  absl::StatusOr<Page<Namespace>> ListNamespaces(const ListOptions& options,
                                                 const NamespaceFilter& filter) override;
  absl::StatusOr<Namespace> UpdateNamespace(int64_t id, const NamespacePatch& patch) override;
  absl::Status DeleteNamespace(int64_t id) override;

  absl::StatusOr<ApplicationToken> CreateToken(const NewToken& token, int max_per_user) override;
  absl::StatusOr<std::vector<ApplicationToken>> ListTokens(int64_t user_id) override;
  absl::StatusOr<ApplicationToken> GetToken(int64_t id) override;
  absl::Status DeleteToken(int64_t id) override;

 private:
  struct UserRow {
    User user;
    std::optional<std::string> password_hash;
    int failed_attempts = 0;
  };
  struct MemberRow {
    int64_t id;
    int64_t team_id;
    int64_t user_id;
    Role role;
    absl::Time created_at;
    absl::Time updated_at;
  };
  struct TokenRow {
    ApplicationToken token;
    std::string digest;
  };

  absl::Status Enter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  User FillUser(const UserRow& row) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Team FillTeam(const Team& team) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Member FillMember(const MemberRow& row) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Namespace FillNamespace(const Namespace& ns) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  LoginRecord LoginOf(const UserRow& row) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckNewUser(const NewUser& user) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  User InsertUser(const NewUser& user) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t EnabledAdminsExcept(int64_t user_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t OwnersOf(int64_t team_id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool EmailTaken(absl::string_view email, int64_t except_user) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock& clock_;
  mutable absl::Mutex mu_;
  std::optional<absl::Status> fail_next_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 100;
  int64_t global_team_id_ = 0;
  std::map<int64_t, UserRow> users_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, Team> teams_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, MemberRow> members_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, Namespace> namespaces_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, TokenRow> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
