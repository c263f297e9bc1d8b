#include "services/auth/access_policy.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/validation.h"

namespace portunus::auth {
namespace {

constexpr absl::string_view kPull = "pull";
constexpr absl::string_view kPush = "push";
constexpr absl::string_view kDelete = "delete";
constexpr absl::string_view kAll = "*";

struct Verdict {
  bool granted = false;
  std::string reason;  // when denied
};

Verdict Grant() { return Verdict{true, ""}; }
Verdict Deny(std::string reason) { return Verdict{false, std::move(reason)}; }

// Everything needed to decide one action on one namespace.
struct Target {
  std::string ns_name;         // the namespace the repository belongs to
  const NamespaceFacts* ns;    // null: does not exist
  std::optional<Role> role;    // the subject's role in the namespace's team
  absl::string_view team_name; // the namespace's team
};

const std::string& Name(const Subject& s) { return s.principal.name; }

// A deleted or disabled account may do nothing.
std::optional<Verdict> CheckAccount(const Subject& s) {
  if (!s.principal.is_account()) return std::nullopt;
  if (!s.exists) return Deny(absl::StrCat("account ", Name(s), " no longer exists"));
  if (!s.enabled) return Deny(absl::StrCat("account ", Name(s), " is disabled"));
  return std::nullopt;
}

std::string NotMember(const Subject& s, const Target& t) {
  if (t.ns->personal()) {
    return absl::StrCat("namespace ", t.ns_name, " is the personal namespace of ", t.team_name);
  }
  return absl::StrCat(Name(s), " is not a member of team ", t.team_name, ", which owns namespace ",
                      t.ns_name);
}

Verdict Pull(const Subject& s, const Target& t) {
  if (s.principal.is_internal()) return Grant();
  if (auto v = CheckAccount(s)) return *v;
  if (s.principal.admin) return Grant();
  if (t.ns == nullptr) {
    return Deny(absl::StrCat("namespace ", t.ns_name,
                             " does not exist; only administrators may use it"));
  }
  switch (t.ns->visibility) {
    case Visibility::kPublic:
      return Grant();
    case Visibility::kProtected:
      if (s.principal.is_anonymous()) {
        return Deny(absl::StrCat("namespace ", t.ns_name,
                                 " is protected: only signed-in users may pull from it"));
      }
      return Grant();
    case Visibility::kPrivate:
      if (t.role.has_value()) return Grant();
      if (t.ns->personal()) {
        return Deny(absl::StrCat("namespace ", t.ns_name, " is the private personal namespace of ",
                                 t.team_name));
      }
      if (s.principal.is_anonymous()) {
        return Deny(absl::StrCat("namespace ", t.ns_name,
                                 " is private and anonymous users are not members of team ",
                                 t.team_name));
      }
      return Deny(absl::StrCat("namespace ", t.ns_name, " is private and ", Name(s),
                               " is not a member of team ", t.team_name));
  }
  return Deny("unknown visibility");
}

Verdict Push(const PolicyOptions& o, const Subject& s, const Target& t) {
  if (s.principal.is_anonymous()) return Deny("anonymous users may not push; sign in first");
  // The internal principal is Portus's special `portus` user, granted every privilege: the
  // catalog pushes a manifest back under the sibling tags of a single-tag delete.
  if (s.principal.is_internal()) return Grant();
  if (auto v = CheckAccount(s)) return *v;
  if (t.ns != nullptr && t.ns->global()) {
    if (s.principal.admin) return Grant();
    return Deny("only administrators may push to the global namespace (images without a "
                "namespace)");
  }
  if (t.ns == nullptr) {
    if (s.principal.admin) return Grant();
    return Deny(absl::StrCat("namespace ", t.ns_name,
                             " does not exist; only administrators may push to a namespace that "
                             "does not exist yet"));
  }
  if (s.principal.admin) return Grant();
  switch (o.push_policy) {
    case PushPolicy::kAdminOnly:
      return Deny("only administrators may push (user_permission.push_images.policy is admin-only)");
    case PushPolicy::kAllowPersonal:
      if (t.ns->personal() && t.ns->personal_owner_id == s.principal.user_id) return Grant();
      if (s.principal.kind == Principal::Kind::kBot) {
        return Deny("bots have no personal namespace, and only personal namespaces take pushes "
                    "(user_permission.push_images.policy is allow-personal)");
      }
      return Deny(absl::StrCat(Name(s), " may only push to their personal namespace ", Name(s),
                               " (user_permission.push_images.policy is allow-personal)"));
    case PushPolicy::kAllowTeams:
      if (t.role == Role::kOwner || t.role == Role::kContributor) return Grant();
      if (t.role == Role::kViewer) {
        return Deny(absl::StrCat(Name(s), " is a viewer of team ", t.team_name,
                                 "; pushing to namespace ", t.ns_name,
                                 " needs the contributor or owner role"));
      }
      return Deny(NotMember(s, t));
  }
  return Deny("unknown push policy");
}

Verdict Delete(const PolicyOptions& o, const Subject& s, const Target& t) {
  if (!o.delete_enabled) return Deny("deleting images is disabled (delete.enabled is false)");
  if (s.principal.is_anonymous()) return Deny("anonymous users may not delete");
  if (s.principal.is_internal()) return Grant();
  if (auto v = CheckAccount(s)) return *v;
  if (s.principal.admin) return Grant();
  if (t.ns == nullptr) {
    return Deny(absl::StrCat("namespace ", t.ns_name,
                             " does not exist; only administrators may use it"));
  }
  if (t.ns->global()) return Deny("only administrators may delete from the global namespace");
  if (t.role == Role::kOwner) return Grant();
  if (t.role == Role::kContributor) {
    if (o.delete_contributors) return Grant();
    return Deny(absl::StrCat(Name(s), " is a contributor of team ", t.team_name,
                             "; only owners may delete (delete.contributors is false)"));
  }
  if (t.role == Role::kViewer) {
    return Deny(absl::StrCat(Name(s), " is a viewer of team ", t.team_name,
                             "; deleting from namespace ", t.ns_name, " needs the ",
                             o.delete_contributors ? "contributor or owner" : "owner", " role"));
  }
  return Deny(NotMember(s, t));
}

Verdict DecideAction(const PolicyOptions& o, const Subject& s, const Target& t,
                     absl::string_view action) {
  if (action == kPull) return Pull(s, t);
  if (action == kPush) return Push(o, s, t);
  if (action == kDelete) return Delete(o, s, t);
  return Deny(absl::StrCat("unknown action \"", action, "\""));
}

void DenyAll(ScopeDecision* d, const std::string& reason) {
  absl::flat_hash_set<std::string> seen;
  for (const std::string& a : d->requested.actions) {
    if (seen.insert(a).second) d->denied.push_back(Denial{a, reason});
  }
}

bool IsRepositoryType(absl::string_view type) {
  // scope.md: "repository(plugin)" is a repository with a resource class.
  return type == "repository" || (absl::StartsWith(type, "repository(") && absl::EndsWith(type, ")"));
}

}  // namespace

absl::string_view PushPolicyName(PushPolicy policy) {
  switch (policy) {
    case PushPolicy::kAllowTeams:
      return "allow-teams";
    case PushPolicy::kAllowPersonal:
      return "allow-personal";
    case PushPolicy::kAdminOnly:
      return "admin-only";
  }
  return "allow-teams";
}

std::optional<PushPolicy> ParsePushPolicy(absl::string_view text) {
  if (text == "allow-teams") return PushPolicy::kAllowTeams;
  if (text == "allow-personal") return PushPolicy::kAllowPersonal;
  if (text == "admin-only") return PushPolicy::kAdminOnly;
  return std::nullopt;
}

Subject SubjectFor(const Principal& principal, const AccessSnapshot& facts) {
  Subject s{principal, true, true};
  if (!principal.is_account()) {
    s.principal.admin = false;  // only accounts can be admins
    return s;
  }
  const UserFacts* user = principal.user_id != 0 ? facts.FindUser(principal.user_id) : nullptr;
  if (user == nullptr) {
    s.exists = false;
    s.principal.admin = false;
    return s;
  }
  s.principal.name = user->username;
  s.principal.admin = user->admin && !user->bot;
  s.principal.kind = user->bot ? Principal::Kind::kBot : Principal::Kind::kUser;
  s.enabled = user->enabled;
  return s;
}

std::string NamespaceOfRepository(absl::string_view repository) {
  const size_t slash = repository.find('/');
  if (slash == absl::string_view::npos) return kGlobalNamespaceName;
  return std::string(repository.substr(0, slash));
}

ScopeDecision DecideRepository(const PolicyOptions& options, const Subject& subject,
                               const ScopeRequest& scope, const NamespaceFacts* ns,
                               std::optional<Role> role, absl::string_view team_name) {
  ScopeDecision d{scope, {}, {}};
  Target t{ns != nullptr ? ns->name : NamespaceOfRepository(scope.name), ns, role, team_name};
  absl::flat_hash_set<std::string> seen;
  const auto decide = [&](absl::string_view action) {
    if (!seen.insert(std::string(action)).second) return;
    Verdict v = DecideAction(options, subject, t, action);
    if (v.granted) {
      d.granted.emplace_back(action);
    } else {
      d.denied.push_back(Denial{std::string(action), std::move(v.reason)});
    }
  };
  for (const std::string& action : scope.actions) {
    if (action == kAll) {
      for (absl::string_view a : {kPull, kPush, kDelete}) decide(a);
    } else {
      decide(action);
    }
  }
  return d;
}

ScopeDecision Decide(const PolicyOptions& options, const Subject& subject, const ScopeRequest& scope,
                     const AccessSnapshot& facts) {
  if (IsRepositoryType(scope.type)) {
    if (!IsValidRepositoryName(scope.name)) {
      ScopeDecision d{scope, {}, {}};
      DenyAll(&d, absl::StrCat("\"", scope.name, "\" is not a valid repository name"));
      return d;
    }
    const std::string ns_name = NamespaceOfRepository(scope.name);
    const NamespaceFacts* ns = facts.FindNamespace(ns_name);
    std::optional<Role> role;
    absl::string_view team_name;
    if (ns != nullptr) {
      if (subject.principal.is_account() && subject.exists) {
        role = facts.RoleOf(ns->team_id, subject.principal.user_id);
      }
      if (const TeamFacts* team = facts.FindTeam(ns->team_id)) team_name = team->name;
    }
    return DecideRepository(options, subject, scope, ns, role, team_name);
  }
  ScopeDecision d{scope, {}, {}};
  if (scope.type == "registry") {
    if (scope.name != "catalog") {
      DenyAll(&d, absl::StrCat("unknown registry resource \"", scope.name, "\""));
      return d;
    }
    absl::flat_hash_set<std::string> seen;
    for (const std::string& action : scope.actions) {
      if (!seen.insert(action).second) continue;
      if (action != kAll) {
        d.denied.push_back(Denial{action, "the registry catalog only supports the action \"*\""});
        continue;
      }
      if (auto v = CheckAccount(subject)) {
        d.denied.push_back(Denial{action, v->reason});
      } else if (subject.principal.is_internal() || subject.principal.admin) {
        d.granted.push_back(action);
      } else {
        d.denied.push_back(Denial{action, "the registry catalog is available to administrators only"});
      }
    }
    return d;
  }
  DenyAll(&d, absl::StrCat("unknown resource type \"", scope.type, "\""));
  return d;
}

NamespaceAccess AccessToNamespace(const PolicyOptions& options, const Subject& subject,
                                  const NamespaceFacts& ns, const AccessSnapshot& facts) {
  NamespaceAccess a;
  if (subject.principal.is_account() && subject.exists) {
    a.role = facts.RoleOf(ns.team_id, subject.principal.user_id);
  }
  const TeamFacts* team = facts.FindTeam(ns.team_id);
  Target t{ns.name, &ns, a.role, team != nullptr ? absl::string_view(team->name) : ""};
  Verdict pull = Pull(subject, t);
  Verdict push = Push(options, subject, t);
  Verdict del = Delete(options, subject, t);
  a.pull = pull.granted;
  a.push = push.granted;
  a.del = del.granted;
  a.pull_reason = std::move(pull.reason);
  a.push_reason = std::move(push.reason);
  a.delete_reason = std::move(del.reason);
  return a;
}

}  // namespace portunus::auth
