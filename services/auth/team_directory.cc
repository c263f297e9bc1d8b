#include "services/auth/team_directory.h"

#include "absl/strings/str_cat.h"
#include "services/auth/validation.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

absl::Status ValidateTeamName(absl::string_view field, absl::string_view name) {
  PORTUNUS_RETURN_IF_ERROR(ValidateLabel(field, name));
  if (name == kGlobalTeamName) return InvalidFieldError(field, "is reserved");
  if (ParseId(name) != 0) {
    return InvalidFieldError(field, "must not be a number (numbers address teams by id)");
  }
  return absl::OkStatus();
}

absl::Status HiddenTeam(const Team& team, absl::string_view what) {
  return RuleConflictError(kRuleHiddenTeam, absl::StrCat(
      "team ", team.name, " is a hidden ", KindName(team.kind), " team and ", what));
}

}  // namespace

TeamDirectory::TeamDirectory(Options options, IdentityStore& store, ChangeSync& sync)
    : options_(options), store_(store), sync_(sync) {}

absl::StatusOr<std::optional<Role>> TeamDirectory::RoleOf(const Principal& actor, const Team& team) {
  if (!actor.is_account()) return std::optional<Role>();
  absl::StatusOr<Member> m = store_.FindMember(team.id, actor.user_id);
  if (absl::IsNotFound(m.status())) return std::optional<Role>();
  if (!m.ok()) return m.status();
  return std::optional<Role>(m->role);
}

absl::StatusOr<absl::flat_hash_map<int64_t, Role>> TeamDirectory::RolesOf(const Principal& actor) {
  absl::flat_hash_map<int64_t, Role> roles;
  if (!actor.is_account()) return roles;
  PORTUNUS_ASSIGN_OR_RETURN(std::vector<Member> memberships, store_.MembershipsOf(actor.user_id));
  for (const Member& m : memberships) roles[m.team_id] = m.role;
  return roles;
}

absl::Status TeamDirectory::CheckRead(const Principal& actor, const Team& team) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  if (actor.admin) return absl::OkStatus();
  PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, RoleOf(actor, team));
  if (!role.has_value()) {
    return absl::PermissionDeniedError(
        absl::StrCat(actor.name, " is not a member of team ", team.name));
  }
  return absl::OkStatus();
}

absl::Status TeamDirectory::CheckManage(const Principal& actor, const Team& team,
                                        absl::string_view what) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  if (actor.admin) return absl::OkStatus();
  if (!options_.manage_team) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only administrators may ", what, " (user_permission.manage_team is disabled)"));
  }
  PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, RoleOf(actor, team));
  if (role != Role::kOwner) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only owners of team ", team.name, " and administrators may ", what, "; ", actor.name,
        role.has_value() ? absl::StrCat(" is a ", RoleName(*role)) : std::string(" is not a member")));
  }
  return absl::OkStatus();
}

absl::StatusOr<Page<Team>> TeamDirectory::List(const Principal& actor, const ListParams& params) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(ListOptions options, MakeListOptions(params, IsTeamSortAttr));
  return store_.ListTeams(options, actor.admin ? std::nullopt : std::optional<int64_t>(actor.user_id));
}

absl::StatusOr<Team> TeamDirectory::Create(const Principal& actor, absl::string_view name,
                                           absl::string_view description) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  if (actor.kind == Principal::Kind::kBot) return absl::PermissionDeniedError("bots may not create teams");
  if (!actor.admin && !options_.create_team) {
    return absl::PermissionDeniedError(
        "only administrators may create teams (user_permission.create_team is disabled)");
  }
  PORTUNUS_RETURN_IF_ERROR(ValidateTeamName("name", name));
  PORTUNUS_RETURN_IF_ERROR(ValidateDescription("description", description));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, store_.CreateTeam(name, description, actor.user_id));
  sync_.AwaitCatchUp();
  return team;
}

absl::StatusOr<Team> TeamDirectory::Get(const Principal& actor, absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckRead(actor, team));
  return team;
}

absl::StatusOr<Team> TeamDirectory::Update(const Principal& actor, absl::string_view ref,
                                           std::optional<std::string> name,
                                           std::optional<std::string> description) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckManage(actor, team, "change the team"));
  if (team.hidden()) return HiddenTeam(team, "cannot be changed");
  if (name.has_value()) {
    PORTUNUS_RETURN_IF_ERROR(ValidateTeamName("name", *name));
    if (*name == team.name) name.reset();
  }
  if (description.has_value()) PORTUNUS_RETURN_IF_ERROR(ValidateDescription("description", *description));
  PORTUNUS_ASSIGN_OR_RETURN(Team updated, store_.UpdateTeam(team.id, name, description));
  sync_.AwaitCatchUp();
  return updated;
}

absl::Status TeamDirectory::Delete(const Principal& actor, absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckManage(actor, team, "delete the team"));
  if (team.hidden()) return HiddenTeam(team, "cannot be deleted");
  PORTUNUS_RETURN_IF_ERROR(store_.DeleteTeam(team.id));
  sync_.AwaitCatchUp();
  return absl::OkStatus();
}

absl::StatusOr<Page<Member>> TeamDirectory::ListMembers(const Principal& actor, absl::string_view ref,
                                                        const ListParams& params) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckRead(actor, team));
  PORTUNUS_ASSIGN_OR_RETURN(ListOptions options, MakeListOptions(params, IsMemberSortAttr));
  return store_.ListMembers(team.id, options);
}

absl::StatusOr<Member> TeamDirectory::ResolveMember(const Team& team, absl::string_view member_ref) {
  if (const int64_t id = ParseId(member_ref); id > 0) {
    absl::StatusOr<Member> m = store_.GetMember(id);
    if (m.ok() && m->team_id == team.id) return m;
    if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
  }
  if (IsValidName(member_ref)) {
    absl::StatusOr<User> user = store_.FindUserByName(member_ref);
    if (user.ok()) {
      absl::StatusOr<Member> m = store_.FindMember(team.id, user->id);
      if (m.ok() || !absl::IsNotFound(m.status())) return m;
    } else if (!absl::IsNotFound(user.status())) {
      return user.status();
    }
  }
  return absl::NotFoundError(absl::StrCat("member ", IsValidName(member_ref) ? member_ref : "",
                                          IsValidName(member_ref) ? " " : "", "not found in team ",
                                          team.name));
}

absl::StatusOr<Member> TeamDirectory::AddMember(const Principal& actor, absl::string_view ref,
                                                absl::string_view user_ref, absl::string_view role) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckManage(actor, team, "add members"));
  if (team.hidden()) return HiddenTeam(team, "takes no members");
  if (user_ref.empty()) return InvalidFieldError("user", "must name a user");
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed.has_value()) return InvalidFieldError("role", "must be viewer, contributor or owner");
  absl::StatusOr<User> user = ResolveUser(store_, user_ref);
  if (absl::IsNotFound(user.status())) {
    return InvalidFieldError("user", IsValidName(user_ref)
                                         ? absl::StrCat("user ", user_ref, " does not exist")
                                         : std::string("no such user"));
  }
  if (!user.ok()) return user.status();
  // An admin in a team is always an owner (Portus).
  const Role effective = user->admin ? Role::kOwner : *parsed;
  PORTUNUS_ASSIGN_OR_RETURN(Member member, store_.AddMember(team.id, user->id, effective));
  sync_.AwaitCatchUp();
  return member;
}

absl::StatusOr<Member> TeamDirectory::UpdateMember(const Principal& actor, absl::string_view ref,
                                                   absl::string_view member_ref,
                                                   absl::string_view role) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckManage(actor, team, "change members"));
  if (team.hidden()) return HiddenTeam(team, "takes no members");
  std::optional<Role> parsed = ParseRole(role);
  if (!parsed.has_value()) return InvalidFieldError("role", "must be viewer, contributor or owner");
  PORTUNUS_ASSIGN_OR_RETURN(Member member, ResolveMember(team, member_ref));
  if (member.admin && *parsed != Role::kOwner) {
    return RuleConflictError(kRuleAdminAlwaysOwner, absl::StrCat(
        member.username, " is an administrator, and administrators are always owners of their teams"));
  }
  PORTUNUS_ASSIGN_OR_RETURN(Member updated, store_.UpdateMemberRole(member.id, *parsed));
  sync_.AwaitCatchUp();
  return updated;
}

absl::Status TeamDirectory::RemoveMember(const Principal& actor, absl::string_view ref,
                                         absl::string_view member_ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(CheckManage(actor, team, "remove members"));
  if (team.hidden()) return HiddenTeam(team, "takes no members");
  PORTUNUS_ASSIGN_OR_RETURN(Member member, ResolveMember(team, member_ref));
  PORTUNUS_RETURN_IF_ERROR(store_.RemoveMember(member.id));
  sync_.AwaitCatchUp();
  return absl::OkStatus();
}

}  // namespace portunus::auth
