#include "services/auth/directory_common.h"

#include "absl/strings/str_cat.h"
#include "services/auth/validation.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {

absl::StatusOr<ListOptions> MakeListOptions(const ListParams& params,
                                            bool (*is_sort_attr)(absl::string_view)) {
  ListOptions o;
  if (params.page < 0) return InvalidFieldError("page", "must be 1 or more");
  if (params.page > 0) o.page = params.page;
  if (params.per_page < 0 || params.per_page > kMaxPerPage) {
    return InvalidFieldError("per_page", absl::StrCat("must be between 1 and ", kMaxPerPage));
  }
  if (params.per_page > 0) o.per_page = params.per_page;
  if (o.page > 1000000000) return InvalidFieldError("page", "is too large");
  if (params.all) {
    o.page = 1;
    o.per_page = 1000000000;
  }
  if (!params.sort_attr.empty() && params.sort_attr != "id" && !is_sort_attr(params.sort_attr)) {
    return InvalidFieldError("sort_attr", "is not a sortable attribute of this list");
  }
  o.sort_attr = params.sort_attr;
  if (params.sort_order == "desc") {
    o.descending = true;
  } else if (!params.sort_order.empty() && params.sort_order != "asc") {
    return InvalidFieldError("sort_order", "must be asc or desc");
  }
  return o;
}

absl::Status RequireAccount(const Principal& actor) {
  if (actor.is_anonymous()) return absl::UnauthenticatedError("authentication required");
  if (actor.is_internal()) {
    return absl::PermissionDeniedError("the internal principal may not manage the identity model");
  }
  return absl::OkStatus();
}

absl::Status RequireAdmin(const Principal& actor, absl::string_view what) {
  if (absl::Status s = RequireAccount(actor); !s.ok()) return s;
  if (!actor.admin) return absl::PermissionDeniedError(absl::StrCat("only administrators may ", what));
  return absl::OkStatus();
}

absl::StatusOr<User> ResolveUser(IdentityStore& store, absl::string_view ref) {
  if (const int64_t id = ParseId(ref); id > 0) {
    absl::StatusOr<User> u = store.GetUser(id);
    if (!absl::IsNotFound(u.status())) return u;
  }
  if (!IsValidName(ref)) return absl::NotFoundError(absl::StrCat("user ", ref, " not found"));
  return store.FindUserByName(ref);
}

absl::StatusOr<Team> ResolveTeam(IdentityStore& store, absl::string_view ref) {
  if (const int64_t id = ParseId(ref); id > 0) {
    absl::StatusOr<Team> t = store.GetTeam(id);
    if (!absl::IsNotFound(t.status())) return t;
  }
  if (ref.empty() || ref.size() > 4 * kMaxNameLength || !IsValidUtf8(ref)) {
    return absl::NotFoundError("team not found");
  }
  return store.FindTeamByName(ref);
}

absl::StatusOr<Namespace> ResolveNamespace(IdentityStore& store, absl::string_view ref) {
  if (const int64_t id = ParseId(ref); id > 0) {
    absl::StatusOr<Namespace> n = store.GetNamespace(id);
    if (!absl::IsNotFound(n.status())) return n;
  }
  if (!IsValidName(ref)) return absl::NotFoundError(absl::StrCat("namespace ", ref, " not found"));
  return store.FindNamespaceByName(ref);
}

}  // namespace portunus::auth
