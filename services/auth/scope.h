// Docker registry token scopes (distribution docs/spec/auth/scope.md): parsing the `scope`
// parameters of a token request into resource scopes, and formatting them back.
//
//   scope         := resourcescope [ ' ' resourcescope ]*
//   resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*
//   resourcetype  := /[a-z0-9]+/ [ '(' /[a-z0-9]+/ ')' ]
//   resourcename  := [ hostname '/' ] component [ '/' component ]*
//   action        := /[a-z]*/            (and "*", which every registry understands)
//
// The type ends at the first ':' and the actions start after the last ':', so a name may carry a
// `host:port/` prefix. A resource class (`repository(plugin)`) is dropped: the token names the
// plain type, which is what the registry matches. Scopes with the same type and name are merged
// and actions are deduplicated, keeping the order in which they were first asked for.
//
// Everything here is pure and thread-safe. The parser is the first code that sees hostile input
// from the token endpoint: it bounds every size, and its error messages quote the offending scope
// escaped and truncated, never raw bytes.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace portunus::auth {

// One resource and the actions asked for (or granted) on it.
struct ResourceScope {
  std::string type;                  // "repository", "registry"
  std::string name;                  // "team/app", "catalog", "localhost:5000/team/app"
  std::vector<std::string> actions;  // "pull", "push", "delete", "*"; no duplicates

  bool operator==(const ResourceScope& other) const {
    return type == other.type && name == other.name && actions == other.actions;
  }
  bool operator!=(const ResourceScope& other) const { return !(*this == other); }
};

// Bounds on what one token request may ask for.
inline constexpr size_t kMaxScopeNameLength = 255;     // distribution's NameTotalLengthMax
inline constexpr size_t kMaxScopeTextLength = 1024;    // one resource scope, as sent
inline constexpr size_t kMaxScopesPerRequest = 64;     // resource scopes before merging
inline constexpr size_t kMaxActionsPerScope = 16;      // distinct actions of one scope

// Parses one resource scope ("repository:team/app:pull,push"). Empty actions ("a:b:" or
// "a:b:pull,,push") are ignored, so the result may have no actions.
// kInvalidArgument naming the (escaped, truncated) scope when it does not follow the grammar
// or exceeds the bounds above.
absl::StatusOr<ResourceScope> ParseScope(absl::string_view text);

// Parses the `scope` values of one request: each value may hold several resource scopes
// separated by spaces (GET repeats `scope`; the OAuth POST sends one space-separated value).
// Empty values are ignored. Same type+name scopes are merged, in order of first appearance.
// kInvalidArgument naming the first malformed scope, or when more than kMaxScopesPerRequest
// resource scopes are given.
absl::StatusOr<std::vector<ResourceScope>> ParseScopeList(const std::vector<std::string>& values);

// Merges scopes of the same type and name (union of actions, first-seen order).
std::vector<ResourceScope> MergeScopes(const std::vector<ResourceScope>& scopes);

// "repository:team/app:pull,push".
std::string FormatScope(const ResourceScope& scope);
// Space-separated FormatScope of each scope (the OAuth response's `scope`).
std::string FormatScopes(const std::vector<ResourceScope>& scopes);

// The actions of `granted` that a request for `requested` allows, in `granted`'s order and
// without duplicates: an action is kept when it was asked for by name, or when "*" was asked
// for and the action is a concrete one ("*" itself is kept only when "*" was asked for).
// This is the last guard before signing: a token never grants more than was asked.
std::vector<std::string> LimitToRequested(const std::vector<std::string>& requested,
                                          const std::vector<std::string>& granted);

// True when `name` follows the resource name grammar above (and its length bound).
bool IsValidResourceName(absl::string_view name);

// `text` made safe to quote in an error message or log line: non-printable and non-ASCII bytes
// C-escaped, and cut to about 100 characters.
std::string QuoteForError(absl::string_view text);

}  // namespace portunus::auth
