// TeamDirectory: teams and their members, with Portus's rules (user_permission.create_team and
// .manage_team) and its holes fixed:
//   - any person may create a team (admins only when create_team is disabled) and becomes its
//     owner; bots create nothing;
//   - admins and team owners manage the team and its members (admins only when manage_team is
//     disabled); members and admins may read it;
//   - an admin added to a team is always an owner and cannot be demoted;
//   - the last owner can be neither removed nor demoted;
//   - hidden teams (personal, global) take no members and cannot be changed or deleted;
//   - a team that still owns namespaces cannot be deleted.
// Every method may block (database): call it on a worker thread.
#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/auth/directory_common.h"
#include "services/auth/identity_store.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// Thread-safe. Dependencies must outlive the directory.
class TeamDirectory {
 public:
  struct Options {
    bool create_team = true;  // user_permission.create_team.enabled
    bool manage_team = true;  // user_permission.manage_team.enabled
  };
  TeamDirectory(Options options, IdentityStore& store, ChangeSync& sync);

  // Regular teams: all of them for admins, else the caller's.
  absl::StatusOr<Page<Team>> List(const Principal& actor, const ListParams& params);
  absl::StatusOr<Team> Create(const Principal& actor, absl::string_view name,
                              absl::string_view description);
  absl::StatusOr<Team> Get(const Principal& actor, absl::string_view ref);
  absl::StatusOr<Team> Update(const Principal& actor, absl::string_view ref,
                              std::optional<std::string> name,
                              std::optional<std::string> description);
  absl::Status Delete(const Principal& actor, absl::string_view ref);

  absl::StatusOr<Page<Member>> ListMembers(const Principal& actor, absl::string_view ref,
                                           const ListParams& params);
  // `user_ref` is a username or user id; `role` "viewer", "contributor" or "owner".
  absl::StatusOr<Member> AddMember(const Principal& actor, absl::string_view ref,
                                   absl::string_view user_ref, absl::string_view role);
  // `member_ref` is the membership id or the member's username.
  absl::StatusOr<Member> UpdateMember(const Principal& actor, absl::string_view ref,
                                      absl::string_view member_ref, absl::string_view role);
  absl::Status RemoveMember(const Principal& actor, absl::string_view ref,
                            absl::string_view member_ref);

  // The caller's role in `team`, if any (for the REST `role` field).
  absl::StatusOr<std::optional<Role>> RoleOf(const Principal& actor, const Team& team);
  // The caller's role in each of its teams (team id -> role), in one lookup.
  absl::StatusOr<absl::flat_hash_map<int64_t, Role>> RolesOf(const Principal& actor);

 private:
  // OK when `actor` may read `team` (admin or member).
  absl::Status CheckRead(const Principal& actor, const Team& team);
  // OK when `actor` may change `team` and its members.
  absl::Status CheckManage(const Principal& actor, const Team& team, absl::string_view what);
  absl::StatusOr<Member> ResolveMember(const Team& team, absl::string_view member_ref);

  const Options options_;
  IdentityStore& store_;
  ChangeSync& sync_;
};

}  // namespace portunus::auth
