#include "services/auth/authorizer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace portunus::auth {

Authorizer::Authorizer(PolicyOptions options, AccessSource& source)
    : options_(options), source_(source) {}

absl::StatusOr<std::vector<ScopeDecision>> Authorizer::Authorize(
    const Principal& principal, const std::vector<ScopeRequest>& scopes) {
  FactsQuery query;
  if (principal.is_account()) query.user_id = principal.user_id;
  for (const ScopeRequest& s : scopes) {
    if (absl::StartsWith(s.type, "repository")) query.namespaces.push_back(NamespaceOfRepository(s.name));
  }
  PORTUNUS_ASSIGN_OR_RETURN(std::shared_ptr<const AccessSnapshot> facts, source_.Facts(query));
  const Subject subject = SubjectFor(principal, *facts);
  std::vector<ScopeDecision> decisions;
  decisions.reserve(scopes.size());
  for (const ScopeRequest& s : scopes) decisions.push_back(Decide(options_, subject, s, *facts));
  return decisions;
}

absl::StatusOr<Authorizer::Pullable> Authorizer::ListPullableNamespaces(const Principal& principal) {
  FactsQuery query;
  if (principal.is_account()) query.user_id = principal.user_id;
  query.all_namespaces = true;
  PORTUNUS_ASSIGN_OR_RETURN(std::shared_ptr<const AccessSnapshot> facts, source_.Facts(query));
  const Subject subject = SubjectFor(principal, *facts);
  Pullable result;
  if (principal.is_anonymous() && !options_.anonymous_browsing) return result;
  if (principal.is_internal() || (subject.exists && subject.enabled && subject.principal.admin)) {
    result.all = true;
    result.global = true;
    return result;
  }
  for (const auto& [name, ns] : facts->namespaces()) {
    if (!AccessToNamespace(options_, subject, ns, *facts).pull) continue;
    if (ns.kind == Kind::kGlobal) {
      result.global = true;
    } else {
      result.names.push_back(name);
    }
  }
  std::sort(result.names.begin(), result.names.end());
  return result;
}

absl::StatusOr<NamespaceAccess> Authorizer::AccessTo(const Principal& principal,
                                                     absl::string_view ns_name) {
  FactsQuery query;
  if (principal.is_account()) query.user_id = principal.user_id;
  query.namespaces.emplace_back(ns_name);
  PORTUNUS_ASSIGN_OR_RETURN(std::shared_ptr<const AccessSnapshot> facts, source_.Facts(query));
  const NamespaceFacts* ns = facts->FindNamespace(ns_name);
  if (ns == nullptr) return absl::NotFoundError(absl::StrCat("namespace ", ns_name, " not found"));
  return AccessToNamespace(options_, SubjectFor(principal, *facts), *ns, *facts);
}

absl::StatusOr<Principal> Authorizer::PrincipalForAccount(absl::string_view account) {
  if (account.empty()) return Principal::Anonymous();
  if (account == kInternalPrincipalName) return Principal::Internal();
  FactsQuery query;
  query.username = std::string(account);
  PORTUNUS_ASSIGN_OR_RETURN(std::shared_ptr<const AccessSnapshot> facts, source_.Facts(query));
  const UserFacts* user = facts->FindUserByName(account);
  if (user == nullptr) return absl::NotFoundError(absl::StrCat("account ", account, " not found"));
  if (user->bot) return Principal::Bot(user->id, user->username);
  return Principal::User(user->id, user->username, user->admin);
}

void Authorizer::PermissionsChanged() {
  const uint64_t g = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  std::vector<std::function<void(uint64_t)>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    listeners = listeners_;
  }
  for (const auto& l : listeners) l(g);
}

void Authorizer::OnPermissionsChanged(std::function<void(uint64_t)> listener) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.push_back(std::move(listener));
}

}  // namespace portunus::auth
