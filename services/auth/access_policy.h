// The registry access policy: Portus's matrix of who may pull, push and delete, as pure
// functions of the facts (no I/O), so the whole matrix is unit-tested without a database.
//
// Rules (Portus semantics, with its holes fixed):
//   pull    public: anyone (anonymous included); protected: any authenticated account;
//           private: members of the owning team of any role; admins and the internal principal
//           everywhere.
//   push    never anonymous; always the internal principal (Portus's `portus` user has every
//           privilege; the catalog puts manifests back after a single-tag delete). Global
//           namespace and namespaces that do not exist yet: admins only. Otherwise by user_permission.push_images.policy: allow-teams (owners and
//           contributors), allow-personal (only one's own personal namespace), admin-only;
//           admins may always push.
//   delete  nobody when delete.enabled is false; else admins, the internal principal, team
//           owners, and contributors when delete.contributors is true.
//   *       pull+push+delete, each decided as above (the grant is the allowed subset).
//   registry:catalog:*  admins and the internal principal only.
// Unknown types, names and actions are never granted. Every denied action carries a reason in
// plain words.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/auth/access_facts.h"
#include "services/auth/model.h"
#include "services/auth/principal.h"
#include "services/auth/scope.h"

namespace portunus::auth {

// user_permission.push_images.policy
enum class PushPolicy { kAllowTeams, kAllowPersonal, kAdminOnly };
absl::string_view PushPolicyName(PushPolicy policy);  // "allow-teams", ...
std::optional<PushPolicy> ParsePushPolicy(absl::string_view text);

struct PolicyOptions {
  PushPolicy push_policy = PushPolicy::kAllowTeams;
  bool delete_enabled = false;       // delete.enabled (Portus's default: off)
  bool delete_contributors = false;  // delete.contributors
  bool anonymous_browsing = true;    // anonymous_browsing.enabled: anonymous listings
};

// One requested scope, Docker token syntax: type:name:actions (scope.h parses them).
using ScopeRequest = ResourceScope;

struct Denial {
  std::string action;
  std::string reason;
};

struct ScopeDecision {
  ScopeRequest requested;
  std::vector<std::string> granted;  // never more than requested; "*" expanded for repositories
  std::vector<Denial> denied;
};

// The principal as the facts describe it right now.
struct Subject {
  Principal principal;
  bool exists = true;   // false: the account was deleted
  bool enabled = true;  // false: the account is disabled
};

// Builds the subject of `principal` from `facts` (admin and bot flags as they are now).
Subject SubjectFor(const Principal& principal, const AccessSnapshot& facts);

// "library/app/x" -> "library"; names without '/' belong to the global namespace.
std::string NamespaceOfRepository(absl::string_view repository);

// Decides one repository scope. `ns` is null when the namespace does not exist; `role` is the
// subject's role in the namespace's team, if any; `team_name` names that team for reasons.
ScopeDecision DecideRepository(const PolicyOptions& options, const Subject& subject,
                               const ScopeRequest& scope, const NamespaceFacts* ns,
                               std::optional<Role> role, absl::string_view team_name);

// Decides any scope, looking the facts up in `facts`.
ScopeDecision Decide(const PolicyOptions& options, const Subject& subject, const ScopeRequest& scope,
                     const AccessSnapshot& facts);

// What `subject` may do with a namespace, for listings and the REST `permissions` field.
struct NamespaceAccess {
  bool pull = false;
  bool push = false;
  bool del = false;
  std::optional<Role> role;
  // Why each denied action is denied ("" when granted).
  std::string pull_reason;
  std::string push_reason;
  std::string delete_reason;
};
NamespaceAccess AccessToNamespace(const PolicyOptions& options, const Subject& subject,
                                  const NamespaceFacts& ns, const AccessSnapshot& facts);

}  // namespace portunus::auth
