// NamespaceDirectory: namespaces, with Portus's rules (user_permission.create_namespace,
// .manage_namespace, .change_visibility):
//   - admins, and owners or contributors of a team, create namespaces in that team (admins only
//     when create_namespace is disabled); new namespaces are private unless the creator may
//     change visibility;
//   - admins and owners of the namespace's team change its description and team (admins only
//     when manage_namespace is disabled) and its visibility (admins only when change_visibility
//     is disabled); names never change (the registry's repositories carry them);
//   - the global namespace is always public and belongs to the admins; it and personal
//     namespaces cannot be deleted, nor moved to another team;
//   - a namespace is visible to whoever may pull from it (admins, members, any account when it
//     is protected or public); others get kPermissionDenied with the reason;
//   - EnsureNamespace (the catalog adopting a registry namespace) is for the internal principal.
// Every method may block (database): call it on a worker thread.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/auth/access_policy.h"
#include "services/auth/directory_common.h"
#include "services/auth/identity_store.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// Thread-safe. Dependencies must outlive the directory.
class NamespaceDirectory {
 public:
  struct Options {
    bool create_namespace = true;   // user_permission.create_namespace.enabled
    bool manage_namespace = true;   // user_permission.manage_namespace.enabled
    bool change_visibility = true;  // user_permission.change_visibility.enabled
    PolicyOptions policy;           // for the registry permissions shown with each namespace
  };
  // What the caller may do with a namespace.
  struct Permissions {
    bool pull = false;
    bool push = false;
    bool del = false;
    bool manage = false;             // change description/team, delete
    bool change_visibility = false;
    std::optional<Role> role;        // the caller's role in the namespace's team
  };
  struct View {
    Namespace ns;
    Permissions permissions;
  };
  struct CreateInput {
    std::string name;
    std::string team;  // team name or id
    std::string description;
    std::optional<std::string> visibility;
  };
  struct UpdateInput {
    std::optional<std::string> name;  // must equal the current one
    std::optional<std::string> team;
    std::optional<std::string> description;
    std::optional<std::string> visibility;
  };
  // Portus's validate answer: {"valid": false, "messages": {"name": [...]}}.
  struct Validation {
    bool valid = false;
    std::vector<std::string> name_messages;
  };

  NamespaceDirectory(Options options, IdentityStore& store, ChangeSync& sync);

  // Namespaces the caller may see: all for admins.
  absl::StatusOr<Page<View>> List(const Principal& actor, const ListParams& params);
  // The namespaces of one team; admins and the team's members.
  absl::StatusOr<Page<View>> ListForTeam(const Principal& actor, absl::string_view team_ref,
                                         const ListParams& params);
  absl::StatusOr<View> Create(const Principal& actor, const CreateInput& input);
  absl::StatusOr<View> Get(const Principal& actor, absl::string_view ref);
  absl::StatusOr<View> Update(const Principal& actor, absl::string_view ref, const UpdateInput& input);
  absl::Status Delete(const Principal& actor, absl::string_view ref);
  absl::StatusOr<Validation> Validate(const Principal& actor, absl::string_view name);
  // Internal principal only: creates `name` (global team, private) unless it exists.
  absl::StatusOr<std::pair<Namespace, bool>> Ensure(const Principal& actor, absl::string_view name);

 private:
  // The caller's permissions on each namespace (one membership lookup for all of them).
  absl::StatusOr<std::vector<View>> Decorate(const Principal& actor, std::vector<Namespace> list);
  absl::StatusOr<View> DecorateOne(const Principal& actor, Namespace ns);
  absl::StatusOr<std::optional<Role>> RoleIn(const Principal& actor, int64_t team_id);

  const Options options_;
  IdentityStore& store_;
  ChangeSync& sync_;
};

}  // namespace portunus::auth
