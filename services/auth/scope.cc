#include "services/auth/scope.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace portunus::auth {
namespace {

constexpr size_t kQuoteLimit = 100;
constexpr size_t kMaxHostPortDigits = 5;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// component := [a-z0-9]+ ( separator [a-z0-9]+ )*, separator := [_.] | __ | -+
bool IsValidComponent(absl::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  if (n == 0 || !IsLowerAlnum(s[0])) return false;
  while (true) {
    while (i < n && IsLowerAlnum(s[i])) ++i;
    if (i == n) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < n && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (i == n || !IsLowerAlnum(s[i])) return false;
  }
}

// hostcomponent := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsValidHostComponent(absl::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// hostname := hostcomponent ('.' hostcomponent)* [':' port-number]
bool IsValidHostname(absl::string_view s) {
  const size_t colon = s.find(':');
  absl::string_view host = s.substr(0, colon);
  if (colon != absl::string_view::npos) {
    absl::string_view port = s.substr(colon + 1);
    if (port.empty() || port.size() > kMaxHostPortDigits) return false;
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
  }
  for (absl::string_view part : absl::StrSplit(host, '.')) {
    if (!IsValidHostComponent(part)) return false;
  }
  return true;
}

// resourcetype := /[a-z0-9]+/ [ '(' /[a-z0-9]+/ ')' ]; returns the type without its class.
bool ParseType(absl::string_view s, std::string* type) {
  const size_t paren = s.find('(');
  absl::string_view base = s.substr(0, paren);
  if (base.empty() || !std::all_of(base.begin(), base.end(), IsLowerAlnum)) return false;
  if (paren != absl::string_view::npos) {
    absl::string_view cls = s.substr(paren + 1);
    if (cls.size() < 2 || cls.back() != ')') return false;
    cls.remove_suffix(1);
    if (!std::all_of(cls.begin(), cls.end(), IsLowerAlnum)) return false;
  }
  type->assign(base.data(), base.size());
  return true;
}

// action := /[a-z]*/ | "*"
bool IsValidAction(absl::string_view a) {
  if (a == "*") return true;
  return std::all_of(a.begin(), a.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

absl::Status ScopeError(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid scope ", QuoteForError(text), ": ", why));
}

void AddActionOnce(std::vector<std::string>* actions, absl::string_view action) {
  if (std::find(actions->begin(), actions->end(), action) == actions->end()) {
    actions->emplace_back(action);
  }
}

}  // namespace

std::string QuoteForError(absl::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  for (; i < text.size() && out.size() <= kQuoteLimit; ++i) {
    absl::StrAppend(&out, absl::CHexEscape(text.substr(i, 1)));
  }
  if (i < text.size()) out.append("...");
  out.push_back('"');
  return out;
}

bool IsValidResourceName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxScopeNameLength) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  bool all_components = true;
  for (absl::string_view p : parts) all_components = all_components && IsValidComponent(p);
  if (all_components) return true;
  if (parts.size() < 2 || !IsValidHostname(parts[0])) return false;
  for (size_t i = 1; i < parts.size(); ++i) {
    if (!IsValidComponent(parts[i])) return false;
  }
  return true;
}

absl::StatusOr<ResourceScope> ParseScope(absl::string_view text) {
  if (text.empty()) return ScopeError(text, "empty scope");
  if (text.size() > kMaxScopeTextLength) {
    return ScopeError(text, absl::StrCat("longer than ", kMaxScopeTextLength, " bytes"));
  }
  const size_t first = text.find(':');
  const size_t last = text.rfind(':');
  if (first == absl::string_view::npos || first == last) {
    return ScopeError(text, "expected TYPE:NAME:ACTIONS, e.g. repository:team/app:pull");
  }
  ResourceScope scope;
  if (!ParseType(text.substr(0, first), &scope.type)) {
    return ScopeError(text, "the type must be lowercase letters and digits, e.g. repository");
  }
  absl::string_view name = text.substr(first + 1, last - first - 1);
  if (!IsValidResourceName(name)) {
    return ScopeError(text,
                      "the name must be [host[:port]/]component[/component...] with lowercase "
                      "components of at most 255 characters in all");
  }
  scope.name.assign(name.data(), name.size());
  for (absl::string_view action : absl::StrSplit(text.substr(last + 1), ',')) {
    if (action.empty()) continue;
    if (!IsValidAction(action)) {
      return ScopeError(text, "actions must be lowercase words or *, separated by commas");
    }
    AddActionOnce(&scope.actions, action);
    if (scope.actions.size() > kMaxActionsPerScope) {
      return ScopeError(text, absl::StrCat("more than ", kMaxActionsPerScope, " actions"));
    }
  }
  return scope;
}

absl::StatusOr<std::vector<ResourceScope>> ParseScopeList(const std::vector<std::string>& values) {
  std::vector<ResourceScope> scopes;
  for (const std::string& value : values) {
    for (absl::string_view text : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
      if (scopes.size() == kMaxScopesPerRequest) {
        return absl::InvalidArgumentError(
            absl::StrCat("too many scopes: at most ", kMaxScopesPerRequest, " per request"));
      }
      absl::StatusOr<ResourceScope> scope = ParseScope(text);
      if (!scope.ok()) return scope.status();
      scopes.push_back(*std::move(scope));
    }
  }
  return MergeScopes(scopes);
}

std::vector<ResourceScope> MergeScopes(const std::vector<ResourceScope>& scopes) {
  std::vector<ResourceScope> merged;
  absl::flat_hash_map<std::string, size_t> index;  // "type\0name" -> position in merged
  for (const ResourceScope& s : scopes) {
    std::string key = absl::StrCat(s.type, absl::string_view("\0", 1), s.name);
    auto [it, inserted] = index.emplace(std::move(key), merged.size());
    if (inserted) merged.push_back(ResourceScope{s.type, s.name, {}});
    for (const std::string& a : s.actions) AddActionOnce(&merged[it->second].actions, a);
  }
  return merged;
}

std::string FormatScope(const ResourceScope& scope) {
  return absl::StrCat(scope.type, ":", scope.name, ":", absl::StrJoin(scope.actions, ","));
}

std::string FormatScopes(const std::vector<ResourceScope>& scopes) {
  return absl::StrJoin(scopes, " ", [](std::string* out, const ResourceScope& s) {
    out->append(FormatScope(s));
  });
}

std::vector<std::string> LimitToRequested(const std::vector<std::string>& requested,
                                          const std::vector<std::string>& granted) {
  const bool wildcard = std::find(requested.begin(), requested.end(), "*") != requested.end();
  std::vector<std::string> out;
  for (const std::string& a : granted) {
    const bool asked = std::find(requested.begin(), requested.end(), a) != requested.end();
    const bool covered = wildcard && a != "*" && !a.empty() && IsValidAction(a);
    if (asked || covered) AddActionOnce(&out, a);
  }
  return out;
}

}  // namespace portunus::auth
