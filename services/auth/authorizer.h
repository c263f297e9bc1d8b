// Authorizer: "what may this principal do with these scopes?" — the decision the token endpoint,
// the catalog's listings and `explain` ask for. It combines the pure policy (access_policy.h)
// with facts from an AccessSource: the in-memory AccessCache (no I/O; safe on event threads) or
// PgAccessSource (reads the database per call).
//
// It also keeps the permissions generation: a counter bumped whenever anything that can change a
// decision changed (on this replica's view), so callers that reuse earlier results (issued
// tokens) can drop them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/access_facts.h"
#include "services/auth/access_policy.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// Thread-safe. The source must outlive the authorizer.
class Authorizer {
 public:
  Authorizer(PolicyOptions options, AccessSource& source);

  // One decision per scope, in order. The principal's admin and bot flags are taken from the
  // current facts, not from the argument, so a demoted or disabled account loses its rights at
  // once (every action is then denied with the reason). kUnavailable: facts unreadable right now.
  absl::StatusOr<std::vector<ScopeDecision>> Authorize(const Principal& principal,
                                                       const std::vector<ScopeRequest>& scopes);

  struct Pullable {
    bool all = false;                // admins and the internal principal: every namespace
    bool global = false;             // repositories without '/' may be pulled
    std::vector<std::string> names;  // otherwise exactly these namespaces (sorted)
  };
  // The namespaces whose repositories `principal` may pull. Anonymous principals get nothing
  // when anonymous_browsing is off. kUnavailable: facts unreadable right now.
  absl::StatusOr<Pullable> ListPullableNamespaces(const Principal& principal);

  // What `principal` may do with one namespace (REST `permissions`). kNotFound: no such namespace.
  absl::StatusOr<NamespaceAccess> AccessTo(const Principal& principal, absl::string_view ns_name);

  // The principal an account name stands for, as Authenticate would yield it: "" is anonymous,
  // "portunus" the internal principal, else the user or bot. kNotFound: no such account.
  absl::StatusOr<Principal> PrincipalForAccount(absl::string_view account);

  // True when decisions may block (the database source): run them on worker threads.
  bool blocking() const { return source_.blocking(); }
  const PolicyOptions& options() const { return options_; }

  // The permissions generation (see above). Starts at 1.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Bumps the generation and calls every listener with the new value. Called by the change feed
  // after it applied changes, and after a full reload.
  void PermissionsChanged();
  // Registers `listener`, called (on the feed's thread) after every bump. Never unregistered:
  // listeners must live as long as the authorizer.
  void OnPermissionsChanged(std::function<void(uint64_t generation)> listener);

 private:
  const PolicyOptions options_;
  AccessSource& source_;
  std::atomic<uint64_t> generation_{1};
  absl::Mutex listeners_mu_;
  std::vector<std::function<void(uint64_t)>> listeners_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace portunus::auth
