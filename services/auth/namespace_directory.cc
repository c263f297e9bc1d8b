#include "services/auth/namespace_directory.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/access_facts.h"
#include "services/auth/validation.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

NamespaceFacts FactsOf(const Namespace& ns) {
  return NamespaceFacts{ns.id, ns.name, ns.visibility, ns.kind, ns.team_id, ns.personal_owner_id};
}

// The team a namespace may be created in or moved to, for field `field`.
absl::StatusOr<Team> TargetTeam(IdentityStore& store, absl::string_view field, absl::string_view ref) {
  if (ref.empty()) return InvalidFieldError(field, "must name a team");
  absl::StatusOr<Team> team = ResolveTeam(store, ref);
  if (absl::IsNotFound(team.status())) {
    return InvalidFieldError(field, IsValidUtf8(ref) && ref.size() <= kMaxNameLength
                                        ? absl::StrCat("team ", ref, " does not exist")
                                        : std::string("no such team"));
  }
  if (!team.ok()) return team.status();
  if (team->hidden()) {
    return InvalidFieldError(field, absl::StrCat("team ", team->name, " is a hidden ",
                                                 KindName(team->kind),
                                                 " team; namespaces belong to regular teams"));
  }
  return team;
}

}  // namespace

NamespaceDirectory::NamespaceDirectory(Options options, IdentityStore& store, ChangeSync& sync)
    : options_(options), store_(store), sync_(sync) {}

absl::StatusOr<std::optional<Role>> NamespaceDirectory::RoleIn(const Principal& actor, int64_t team_id) {
  if (!actor.is_account()) return std::optional<Role>();
  absl::StatusOr<Member> m = store_.FindMember(team_id, actor.user_id);
  if (absl::IsNotFound(m.status())) return std::optional<Role>();
  if (!m.ok()) return m.status();
  return std::optional<Role>(m->role);
}

absl::StatusOr<std::vector<NamespaceDirectory::View>> NamespaceDirectory::Decorate(
    const Principal& actor, std::vector<Namespace> list) {
  AccessSnapshot facts;
  if (actor.is_account()) {
    facts.PutUser(UserFacts{actor.user_id, actor.name, actor.admin, true,
                            actor.kind == Principal::Kind::kBot});
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<Member> memberships, store_.MembershipsOf(actor.user_id));
    for (const Member& m : memberships) facts.PutMembership(MembershipFacts{m.team_id, m.user_id, m.role});
  }
  const Subject subject = SubjectFor(actor, facts);
  std::vector<View> views;
  views.reserve(list.size());
  for (Namespace& ns : list) {
    facts.PutTeam(TeamFacts{ns.team_id, ns.team_name, ns.kind});
    const NamespaceFacts nf = FactsOf(ns);
    const NamespaceAccess access = AccessToNamespace(options_.policy, subject, nf, facts);
    Permissions p;
    p.pull = access.pull;
    p.push = access.push;
    p.del = access.del;
    p.role = access.role;
    const bool owner = access.role == Role::kOwner;
    if (subject.principal.admin) {
      p.manage = true;
      p.change_visibility = !ns.global();
    } else if (!ns.global()) {
      p.manage = owner && options_.manage_namespace;
      p.change_visibility = owner && options_.change_visibility;
    }
    views.push_back(View{std::move(ns), p});
  }
  return views;
}

absl::StatusOr<NamespaceDirectory::View> NamespaceDirectory::DecorateOne(const Principal& actor,
                                                                         Namespace ns) {
  std::vector<Namespace> one;
  one.push_back(std::move(ns));
  PORTUNUS_ASSIGN_OR_RETURN(std::vector<View> views, Decorate(actor, std::move(one)));
  return std::move(views.front());
}

absl::StatusOr<Page<NamespaceDirectory::View>> NamespaceDirectory::List(const Principal& actor,
                                                                        const ListParams& params) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(ListOptions options, MakeListOptions(params, IsNamespaceSortAttr));
  NamespaceFilter filter;
  if (!actor.admin) filter.visible_to_user = actor.user_id;
  PORTUNUS_ASSIGN_OR_RETURN(Page<Namespace> page, store_.ListNamespaces(options, filter));
  Page<View> out;
  out.total = page.total;
  PORTUNUS_ASSIGN_OR_RETURN(out.items, Decorate(actor, std::move(page.items)));
  return out;
}

absl::StatusOr<Page<NamespaceDirectory::View>> NamespaceDirectory::ListForTeam(
    const Principal& actor, absl::string_view team_ref, const ListParams& params) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Team team, ResolveTeam(store_, team_ref));
  if (!actor.admin) {
    PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, RoleIn(actor, team.id));
    if (!role.has_value()) {
      return absl::PermissionDeniedError(
          absl::StrCat(actor.name, " is not a member of team ", team.name));
    }
  }
  PORTUNUS_ASSIGN_OR_RETURN(ListOptions options, MakeListOptions(params, IsNamespaceSortAttr));
  NamespaceFilter filter;
  filter.team_id = team.id;
  PORTUNUS_ASSIGN_OR_RETURN(Page<Namespace> page, store_.ListNamespaces(options, filter));
  Page<View> out;
  out.total = page.total;
  PORTUNUS_ASSIGN_OR_RETURN(out.items, Decorate(actor, std::move(page.items)));
  return out;
}

absl::StatusOr<NamespaceDirectory::View> NamespaceDirectory::Create(const Principal& actor,
                                                                    const CreateInput& in) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_RETURN_IF_ERROR(ValidateName("name", in.name));
  PORTUNUS_RETURN_IF_ERROR(ValidateDescription("description", in.description));
  std::optional<Visibility> visibility;
  if (in.visibility.has_value()) {
    visibility = ParseVisibility(*in.visibility);
    if (!visibility.has_value()) {
      return InvalidFieldError("visibility", "must be private, protected or public");
    }
  }
  PORTUNUS_ASSIGN_OR_RETURN(Team team, TargetTeam(store_, "team", in.team));
  if (!actor.admin) {
    if (!options_.create_namespace) {
      return absl::PermissionDeniedError(
          "only administrators may create namespaces (user_permission.create_namespace is "
          "disabled)");
    }
    PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, RoleIn(actor, team.id));
    if (role != Role::kOwner && role != Role::kContributor) {
      return absl::PermissionDeniedError(absl::StrCat(
          "creating a namespace in team ", team.name, " needs the owner or contributor role; ",
          actor.name,
          role.has_value() ? absl::StrCat(" is a ", RoleName(*role)) : std::string(" is not a member")));
    }
    if (visibility.has_value() && *visibility != Visibility::kPrivate &&
        !(options_.change_visibility && role == Role::kOwner)) {
      return absl::PermissionDeniedError(
          absl::StrCat("only administrators and owners of team ", team.name,
                       " may make a namespace ", VisibilityName(*visibility),
                       options_.change_visibility ? ""
                                                  : " (user_permission.change_visibility is disabled)"));
    }
  }
  PORTUNUS_ASSIGN_OR_RETURN(
      Namespace ns, store_.CreateNamespace(in.name, in.description, team.id,
                                           visibility.value_or(Visibility::kPrivate)));
  sync_.AwaitCatchUp();
  return DecorateOne(actor, std::move(ns));
}

absl::StatusOr<NamespaceDirectory::View> NamespaceDirectory::Get(const Principal& actor,
                                                                 absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Namespace ns, ResolveNamespace(store_, ref));
  PORTUNUS_ASSIGN_OR_RETURN(View view, DecorateOne(actor, std::move(ns)));
  if (!view.permissions.pull) {
    // The same words a registry pull would get.
    AccessSnapshot facts;
    facts.PutUser(UserFacts{actor.user_id, actor.name, actor.admin, true,
                            actor.kind == Principal::Kind::kBot});
    facts.PutTeam(TeamFacts{view.ns.team_id, view.ns.team_name, view.ns.kind});
    const NamespaceAccess a =
        AccessToNamespace(options_.policy, SubjectFor(actor, facts), FactsOf(view.ns), facts);
    return absl::PermissionDeniedError(a.pull_reason);
  }
  return view;
}

absl::StatusOr<NamespaceDirectory::View> NamespaceDirectory::Update(const Principal& actor,
                                                                    absl::string_view ref,
                                                                    const UpdateInput& in) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Namespace ns, ResolveNamespace(store_, ref));
  PORTUNUS_ASSIGN_OR_RETURN(View current, DecorateOne(actor, ns));
  const Permissions& p = current.permissions;
  if (!p.pull) return absl::PermissionDeniedError(absl::StrCat("namespace ", ns.name, " is not visible to ", actor.name));
  NamespacePatch patch;
  if (in.name.has_value() && *in.name != ns.name) return InvalidFieldError("name", "cannot be changed");
  if (in.description.has_value()) {
    PORTUNUS_RETURN_IF_ERROR(ValidateDescription("description", *in.description));
    if (*in.description != ns.description) {
      if (!p.manage) {
        return absl::PermissionDeniedError(absl::StrCat(
            "only administrators", ns.global() ? "" : absl::StrCat(" and owners of team ", ns.team_name),
            " may change namespace ", ns.name,
            !ns.global() && !options_.manage_namespace ? " (user_permission.manage_namespace is disabled)" : ""));
      }
      patch.description = *in.description;
    }
  }
  if (in.visibility.has_value()) {
    std::optional<Visibility> v = ParseVisibility(*in.visibility);
    if (!v.has_value()) return InvalidFieldError("visibility", "must be private, protected or public");
    if (*v != ns.visibility) {
      if (ns.global()) return InvalidFieldError("visibility", "the global namespace is always public");
      if (!p.change_visibility) {
        return absl::PermissionDeniedError(absl::StrCat(
            "only administrators and owners of team ", ns.team_name,
            " may change the visibility of namespace ", ns.name,
            options_.change_visibility ? "" : " (user_permission.change_visibility is disabled)"));
      }
      patch.visibility = *v;
    }
  }
  if (in.team.has_value()) {
    PORTUNUS_ASSIGN_OR_RETURN(Team team, TargetTeam(store_, "team", *in.team));
    if (team.id != ns.team_id) {
      if (ns.global()) return InvalidFieldError("team", "the global namespace always belongs to the administrators");
      if (ns.personal()) return InvalidFieldError("team", "a personal namespace always belongs to its user");
      if (!p.manage) {
        return absl::PermissionDeniedError(absl::StrCat(
            "only administrators and owners of team ", ns.team_name, " may move namespace ", ns.name,
            options_.manage_namespace ? "" : " (user_permission.manage_namespace is disabled)"));
      }
      if (!actor.admin) {
        PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, RoleIn(actor, team.id));
        if (role != Role::kOwner) {
          return absl::PermissionDeniedError(absl::StrCat(
              "moving namespace ", ns.name, " to team ", team.name, " needs the owner role in ",
              team.name));
        }
      }
      patch.team_id = team.id;
    }
  }
  if (!patch.description.has_value() && !patch.visibility.has_value() && !patch.team_id.has_value()) {
    return current;
  }
  PORTUNUS_ASSIGN_OR_RETURN(Namespace updated, store_.UpdateNamespace(ns.id, patch));
  sync_.AwaitCatchUp();
  return DecorateOne(actor, std::move(updated));
}

absl::Status NamespaceDirectory::Delete(const Principal& actor, absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(Namespace ns, ResolveNamespace(store_, ref));
  PORTUNUS_ASSIGN_OR_RETURN(View current, DecorateOne(actor, ns));
  if (!current.permissions.pull) {
    return absl::PermissionDeniedError(absl::StrCat("namespace ", ns.name, " is not visible to ", actor.name));
  }
  if (!current.permissions.manage) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only administrators", ns.global() ? "" : absl::StrCat(" and owners of team ", ns.team_name),
        " may delete namespace ", ns.name,
        !ns.global() && !options_.manage_namespace ? " (user_permission.manage_namespace is disabled)" : ""));
  }
  if (ns.global()) return RuleConflictError(kRuleGlobalNamespace, "the global namespace cannot be deleted");
  if (ns.personal()) {
    return RuleConflictError(kRulePersonalNamespace, absl::StrCat(
        "namespace ", ns.name, " is a personal namespace and goes only with its user"));
  }
  PORTUNUS_RETURN_IF_ERROR(store_.DeleteNamespace(ns.id));
  sync_.AwaitCatchUp();
  return absl::OkStatus();
}

absl::StatusOr<NamespaceDirectory::Validation> NamespaceDirectory::Validate(const Principal& actor,
                                                                            absl::string_view name) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  Validation v;
  absl::Status s = ValidateName("name", name);
  if (!s.ok()) {
    absl::string_view msg = s.message();
    if (absl::StartsWith(msg, "name: ")) msg.remove_prefix(6);
    v.name_messages.emplace_back(msg);
    return v;
  }
  absl::StatusOr<Namespace> existing = store_.FindNamespaceByName(name);
  if (existing.ok()) {
    v.name_messages.push_back("has already been taken");
    return v;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  v.valid = true;
  return v;
}

absl::StatusOr<std::pair<Namespace, bool>> NamespaceDirectory::Ensure(const Principal& actor,
                                                                      absl::string_view name) {
  if (!actor.is_internal()) {
    return absl::PermissionDeniedError("only the internal principal may adopt registry namespaces");
  }
  PORTUNUS_RETURN_IF_ERROR(ValidateName("name", name));
  PORTUNUS_ASSIGN_OR_RETURN(auto result, store_.EnsureNamespace(name));
  if (result.second) sync_.AwaitCatchUp();
  return result;
}

}  // namespace portunus::auth
