// Input validation for the identity model. Every check returns InvalidFieldError naming the
// field the caller sent ("user.username"), so the REST layer answers 422 with that name. None
// of these use std::regex: hand-written matchers run in linear time on hostile input.
#pragma once

#include <string>

#include "services/common/utf8.h"  // IsValidUtf8
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace portunus::auth {

inline constexpr size_t kMaxNameLength = 255;
inline constexpr size_t kMinPasswordLength = 8;
inline constexpr size_t kMaxPasswordLength = 128;
inline constexpr size_t kMaxDescriptionLength = 4096;

// Number of code points in valid UTF-8 `s`.
size_t Utf8Length(absl::string_view s);

// Usernames and namespace names: [a-z0-9]+([._-][a-z0-9]+)*, at most 255 characters.
bool IsValidName(absl::string_view name);
absl::Status ValidateName(absl::string_view field, absl::string_view name);

// A Docker repository name as the registry accepts it: '/'-separated components, each
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, at most 255 characters in all.
bool IsValidRepositoryName(absl::string_view name);

// An e-mail address: one '@', a non-empty local part, a domain with a dot, no spaces or control
// characters, at most 255 characters.
absl::Status ValidateEmail(absl::string_view field, absl::string_view email);

// 8-128 characters of valid UTF-8 without NUL.
absl::Status ValidatePassword(absl::string_view field, absl::string_view password);

// Free text for team names, display names and application names: 1-`max` characters of valid
// UTF-8, no control characters, not blank.
absl::Status ValidateLabel(absl::string_view field, absl::string_view text, size_t max = kMaxNameLength);

// Descriptions: up to kMaxDescriptionLength characters of valid UTF-8; newlines and tabs allowed,
// other control characters not.
absl::Status ValidateDescription(absl::string_view field, absl::string_view text);

// A path or body reference to an object: a positive decimal id or a name. Returns the id when
// `ref` is all digits (and fits), else 0.
int64_t ParseId(absl::string_view ref);

}  // namespace portunus::auth
