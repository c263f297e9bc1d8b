#include "services/auth/validation.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Decodes one code point at s[*i]; false on malformed input.
bool NextCodePoint(absl::string_view s, size_t* i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(*i);
  size_t n;
  uint32_t v;
  if (c < 0x80) {
    *cp = c;
    ++*i;
    return true;
  } else if (c >= 0xC2 && c <= 0xDF) {
    n = 1;
    v = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 2;
    v = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 3;
    v = c & 0x07;
  } else {
    return false;
  }
  if (*i + n >= s.size()) return false;  // truncated sequence
  for (size_t k = 1; k <= n; ++k) {
    const unsigned char cc = b(*i + k);
    if ((cc & 0xC0) != 0x80) return false;
    v = (v << 6) | (cc & 0x3F);
  }
  // Overlongs, surrogates and values above U+10FFFF.
  if ((n == 2 && v < 0x800) || (n == 3 && v < 0x10000) || v > 0x10FFFF ||
      (v >= 0xD800 && v <= 0xDFFF)) {
    return false;
  }
  *cp = v;
  *i += n + 1;
  return true;
}

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

}  // namespace

size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  bool prev_sep = true;  // the first character must be alphanumeric
  for (char c : name) {
    if (IsLowerAlnum(c)) {
      prev_sep = false;
    } else if (c == '.' || c == '_' || c == '-') {
      if (prev_sep) return false;
      prev_sep = true;
    } else {
      return false;
    }
  }
  return !prev_sep;
}

absl::Status ValidateName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return InvalidFieldError(field, "must not be empty");
  if (name.size() > kMaxNameLength) {
    return InvalidFieldError(field, absl::StrCat("must be at most ", kMaxNameLength, " characters"));
  }
  if (!IsValidName(name)) {
    return InvalidFieldError(
        field, "must consist of lower-case letters and digits, optionally separated by one of "
               "'.', '_' or '-' ([a-z0-9]+([._-][a-z0-9]+)*)");
  }
  return absl::OkStatus();
}

bool IsValidRepositoryName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  size_t i = 0;
  while (true) {
    // One component: alnum+ ( sep alnum+ )*, sep = '.' | '_' | '__' | '-'+
    if (i >= name.size() || !IsLowerAlnum(name[i])) return false;
    while (i < name.size() && IsLowerAlnum(name[i])) ++i;
    while (i < name.size() && name[i] != '/') {
      const size_t sep_start = i;
      if (name[i] == '.') {
        ++i;
      } else if (name[i] == '_') {
        ++i;
        if (i < name.size() && name[i] == '_') ++i;
      } else if (name[i] == '-') {
        while (i < name.size() && name[i] == '-') ++i;
      } else {
        return false;
      }
      if (i == sep_start || i >= name.size() || !IsLowerAlnum(name[i])) return false;
      while (i < name.size() && IsLowerAlnum(name[i])) ++i;
    }
    if (i == name.size()) return true;
    ++i;  // '/'
  }
}

absl::Status ValidateEmail(absl::string_view field, absl::string_view email) {
  if (email.empty()) return InvalidFieldError(field, "must not be empty");
  if (email.size() > kMaxNameLength) {
    return InvalidFieldError(field, absl::StrCat("must be at most ", kMaxNameLength, " characters"));
  }
  if (!IsValidUtf8(email)) return InvalidFieldError(field, "must be valid UTF-8");
  for (char c : email) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '\\') {
      return InvalidFieldError(field, "is not a valid e-mail address");
    }
  }
  const size_t at = email.find('@');
  if (at == absl::string_view::npos || at == 0 || email.find('@', at + 1) != absl::string_view::npos) {
    return InvalidFieldError(field, "is not a valid e-mail address");
  }
  const absl::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  if (domain.empty() || dot == absl::string_view::npos || dot == 0 || domain.back() == '.' ||
      domain.find("..") != absl::string_view::npos) {
    return InvalidFieldError(field, "is not a valid e-mail address");
  }
  return absl::OkStatus();
}

absl::Status ValidatePassword(absl::string_view field, absl::string_view password) {
  if (!IsValidUtf8(password)) return InvalidFieldError(field, "must be valid UTF-8");
  if (password.find('\0') != absl::string_view::npos) {
    return InvalidFieldError(field, "must not contain NUL characters");
  }
  const size_t n = Utf8Length(password);
  if (n < kMinPasswordLength || n > kMaxPasswordLength) {
    return InvalidFieldError(field, absl::StrCat("must be between ", kMinPasswordLength, " and ",
                                                 kMaxPasswordLength, " characters long"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabel(absl::string_view field, absl::string_view text, size_t max) {
  if (!IsValidUtf8(text)) return InvalidFieldError(field, "must be valid UTF-8");
  if (absl::StripAsciiWhitespace(text).empty()) return InvalidFieldError(field, "must not be blank");
  if (Utf8Length(text) > max) {
    return InvalidFieldError(field, absl::StrCat("must be at most ", max, " characters"));
  }
  size_t i = 0;
  uint32_t cp;
  while (i < text.size()) {
    NextCodePoint(text, &i, &cp);
    if (IsControl(cp)) return InvalidFieldError(field, "must not contain control characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateDescription(absl::string_view field, absl::string_view text) {
  if (!IsValidUtf8(text)) return InvalidFieldError(field, "must be valid UTF-8");
  if (Utf8Length(text) > kMaxDescriptionLength) {
    return InvalidFieldError(field,
                             absl::StrCat("must be at most ", kMaxDescriptionLength, " characters"));
  }
  size_t i = 0;
  uint32_t cp;
  while (i < text.size()) {
    NextCodePoint(text, &i, &cp);
    if (IsControl(cp) && cp != '\n' && cp != '\t' && cp != '\r') {
      return InvalidFieldError(field, "must not contain control characters");
    }
  }
  return absl::OkStatus();
}

int64_t ParseId(absl::string_view ref) {
  if (ref.empty() || ref.size() > 18) return 0;
  for (char c : ref) {
    if (c < '0' || c > '9') return 0;
  }
  int64_t id = 0;
  if (!absl::SimpleAtoi(ref, &id) || id <= 0) return 0;
  return id;
}

}  // namespace portunus::auth
