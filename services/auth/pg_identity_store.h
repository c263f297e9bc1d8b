// PgIdentityStore: IdentityStore over PostgreSQL (schema `auth`, migrations/0001_identity.sql).
// Multi-row invariants are kept under locks inside each transaction: an advisory lock for
// "last enabled admin" and bootstrap, row locks (FOR UPDATE) on the team for "last owner" and
// on the account for the token limit. Unique-name conflicts come back as kAlreadyExists naming
// the taken name. Thread-safe (the pool is).
#pragma once

#include "services/auth/identity_store.h"
#include "services/common/pg_pool.h"

namespace portunus::auth {

class PgIdentityStore final : public IdentityStore {
 public:
  // The pool must outlive the store.
  explicit PgIdentityStore(PgPool& pool) : pool_(pool) {}

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
  PgPool& pool_;
};

}  // namespace portunus::auth
