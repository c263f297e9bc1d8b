// The identity model's records (Portus semantics): users and bots, teams and their members,
// namespaces, application tokens. Plain value types shared by the domain directories, the
// storage interface (identity_store.h) and the transport's proto conversion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace portunus::auth {

// A member's role in a team, weakest first (the order is used for comparisons).
enum class Role { kViewer = 0, kContributor = 1, kOwner = 2 };
absl::string_view RoleName(Role role);  // "viewer", "contributor", "owner"
std::optional<Role> ParseRole(absl::string_view text);

// Who may pull from a namespace: team members and admins (private), any authenticated user
// (protected), anyone including anonymous clients (public).
enum class Visibility { kPrivate, kProtected, kPublic };
absl::string_view VisibilityName(Visibility visibility);  // "private", "protected", "public"
std::optional<Visibility> ParseVisibility(absl::string_view text);

// Teams and namespaces come in three kinds. Personal ones belong to one user and are hidden;
// the global ones (one each) hold images whose name has no '/' and belong to all admins.
enum class Kind { kRegular, kPersonal, kGlobal };
absl::string_view KindName(Kind kind);  // "team", "personal", "global"
std::optional<Kind> ParseKind(absl::string_view text);

// The reserved names of the global team and namespace (Portus used the same scheme). Both are
// created by the first migration.
inline constexpr char kGlobalTeamName[] = "portus_global_team";
inline constexpr char kGlobalNamespaceName[] = "portus_global_namespace";

struct User {
  int64_t id = 0;
  std::string username;
  std::optional<std::string> email;         // always set for people; optional for bots
  std::optional<std::string> display_name;
  bool admin = false;
  bool enabled = true;
  bool bot = false;
  std::optional<int64_t> namespace_id;      // personal namespace (people only)
  std::optional<absl::Time> locked_until;   // set while locked out after failed logins
  absl::Time created_at;
  absl::Time updated_at;
};

struct Team {
  int64_t id = 0;
  std::string name;
  std::string description;
  Kind kind = Kind::kRegular;
  std::optional<int64_t> owner_user_id;  // the person a personal team belongs to
  int64_t members_count = 0;
  int64_t namespaces_count = 0;
  absl::Time created_at;
  absl::Time updated_at;
  bool hidden() const { return kind != Kind::kRegular; }
};

struct Member {
  int64_t id = 0;  // the membership's own id (Portus's TeamUser id)
  int64_t team_id = 0;
  int64_t user_id = 0;
  std::string username;
  std::optional<std::string> display_name;
  bool admin = false;  // the member is an admin (always an owner)
  bool bot = false;
  Role role = Role::kViewer;
  absl::Time created_at;
  absl::Time updated_at;
};

struct Namespace {
  int64_t id = 0;
  std::string name;
  std::string description;
  int64_t team_id = 0;
  std::string team_name;
  Visibility visibility = Visibility::kPrivate;
  Kind kind = Kind::kRegular;
  std::optional<int64_t> personal_owner_id;  // personal namespaces: the owning user
  absl::Time created_at;
  absl::Time updated_at;
  bool global() const { return kind == Kind::kGlobal; }
  bool personal() const { return kind == Kind::kPersonal; }
};

struct ApplicationToken {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string application;
  absl::Time created_at;
};

// What a list call returns: one page and the total across pages.
template <typename T>
struct Page {
  std::vector<T> items;
  int64_t total = 0;
};

// Paging and sorting of list calls (Portus API v1: page, per_page, sort_attr, sort_order).
struct ListOptions {
  int64_t page = 1;       // 1-based
  int64_t per_page = 15;  // Portus's default page size
  std::string sort_attr;  // "" = by id; each list validates its own attributes
  bool descending = false;
  int64_t offset() const { return (page - 1) * per_page; }
};

}  // namespace portunus::auth
