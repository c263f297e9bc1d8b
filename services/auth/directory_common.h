// Helpers shared by the management directories (user_directory.h, team_directory.h,
// namespace_directory.h): caller checks, lookups of path references ("12" or "bob"), paging
// validation, and the read-your-writes barrier.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/auth/identity_store.h"
#include "services/auth/model.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// After a write commits, waits (bounded) until this replica's access cache has applied it, so a
// client that changes something and then asks for a token sees its change. Implemented by the
// change feed; NoChangeSync does nothing (tests, and the cache-off mode).
class ChangeSync {
 public:
  virtual ~ChangeSync() = default;
  virtual void AwaitCatchUp() = 0;
};

class NoChangeSync final : public ChangeSync {
 public:
  void AwaitCatchUp() override {}
};

// The raw paging/sorting parameters of a list request.
struct ListParams {
  int64_t page = 0;      // 0: default (1)
  int64_t per_page = 0;  // 0: default (15)
  std::string sort_attr;
  std::string sort_order;  // "", "asc", "desc"
  bool all = false;        // everything on one page
};

inline constexpr int64_t kMaxPerPage = 500;  // the gateway's bound too

// Validates `params` (InvalidFieldError naming page, per_page, sort_attr or sort_order) and turns
// them into ListOptions. `is_sort_attr` accepts the list's sort attributes besides "id".
absl::StatusOr<ListOptions> MakeListOptions(const ListParams& params,
                                            bool (*is_sort_attr)(absl::string_view));

// kUnauthenticated for the anonymous principal; kPermissionDenied for the internal one (it
// manages nothing); OK for accounts.
absl::Status RequireAccount(const Principal& actor);
// RequireAccount, then kPermissionDenied unless the account is an admin. `what` completes
// "only administrators may ...".
absl::Status RequireAdmin(const Principal& actor, absl::string_view what);

// Lookups of a reference that is an id or a name: a numeric reference is tried as an id first,
// then as a name. kNotFound names the object.
absl::StatusOr<User> ResolveUser(IdentityStore& store, absl::string_view ref);
absl::StatusOr<Team> ResolveTeam(IdentityStore& store, absl::string_view ref);
absl::StatusOr<Namespace> ResolveNamespace(IdentityStore& store, absl::string_view ref);

}  // namespace portunus::auth
