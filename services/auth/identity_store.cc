#include "services/auth/identity_store.h"

namespace portunus::auth {

bool IsUserSortAttr(absl::string_view a) {
  return a == "username" || a == "email" || a == "display_name" || a == "admin" || a == "enabled" ||
         a == "bot" || a == "created_at" || a == "updated_at";
}
bool IsTeamSortAttr(absl::string_view a) {
  return a == "name" || a == "description" || a == "created_at" || a == "updated_at";
}
bool IsMemberSortAttr(absl::string_view a) { return a == "username" || a == "role" || a == "created_at"; }
bool IsNamespaceSortAttr(absl::string_view a) {
  return a == "name" || a == "description" || a == "visibility" || a == "created_at" ||
         a == "updated_at";
}


}  // namespace portunus::auth
