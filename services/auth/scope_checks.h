// Invariants of the scope parser, shared by the randomized hostile-input test
// (scope_hostile_test.cc) and the libFuzzer target (scope_fuzz.cc). Header-only and test-only:
// nothing in the service includes it.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/scope.h"

namespace portunus::auth {

// Returns "" when ParseScopeList(values) behaved, else what went wrong. `granted` is an
// arbitrary grant a policy might return, used to check LimitToRequested.
inline std::string CheckScopeInvariants(const std::vector<std::string>& values,
                                        const std::vector<std::string>& granted) {
  std::string joined;
  for (const std::string& v : values) absl::StrAppend(&joined, v, "\n");
  absl::StatusOr<std::vector<ResourceScope>> parsed = ParseScopeList(values);
  if (!parsed.ok()) {
    if (parsed.status().code() != absl::StatusCode::kInvalidArgument) {
      return absl::StrCat("unexpected code: ", parsed.status().ToString());
    }
    const absl::string_view m = parsed.status().message();
    if (m.size() > 400) return "error message too long";
    for (char c : m) {
      if (c < 0x20 || c > 0x7e) return "error message has a non-printable byte";
    }
    return "";
  }
  if (parsed->size() > kMaxScopesPerRequest) return "too many scopes accepted";
  for (size_t i = 0; i < parsed->size(); ++i) {
    const ResourceScope& s = (*parsed)[i];
    if (s.type.empty()) return "empty type";
    for (char c : s.type) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "bad type character";
    }
    if (!IsValidResourceName(s.name)) return "invalid name accepted: " + s.name;
    if (!absl::StrContains(joined, s.name)) return "name not in the input";
    if (s.actions.size() > kMaxActionsPerScope) return "too many actions";
    for (size_t a = 0; a < s.actions.size(); ++a) {
      const std::string& act = s.actions[a];
      if (act.empty()) return "empty action";
      if (act != "*") {
        for (char c : act) {
          if (c < 'a' || c > 'z') return "bad action character";
        }
      }
      if (!absl::StrContains(joined, act)) return "action not in the input: " + act;
      for (size_t b = 0; b < a; ++b) {
        if (s.actions[b] == act) return "duplicate action";
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if ((*parsed)[j].type == s.type && (*parsed)[j].name == s.name) return "not merged";
    }
    absl::StatusOr<ResourceScope> again = ParseScope(FormatScope(s));
    if (!s.actions.empty() && (!again.ok() || *again != s)) return "does not round-trip";
    for (const std::string& g : LimitToRequested(s.actions, granted)) {
      bool asked = false, wildcard = false;
      for (const std::string& a : s.actions) {
        asked = asked || a == g;
        wildcard = wildcard || a == "*";
      }
      if (!asked && !(wildcard && g != "*" && !g.empty())) return "granted more than asked";
      for (char c : g) {
        if (!asked && (c < 'a' || c > 'z')) return "granted a malformed action";
      }
    }
  }
  return "";
}

}  // namespace portunus::auth
