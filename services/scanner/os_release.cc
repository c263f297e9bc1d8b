#include "services/scanner/os_release.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Unquotes a value the way a POSIX shell would for the subset os-release allows.
absl::StatusOr<std::string> Unquote(absl::string_view v) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    const char c = v[i];
    if (c == '"') {
      ++i;
      bool closed = false;
      while (i < v.size()) {
        if (v[i] == '"') {
          closed = true;
          ++i;
          break;
        }
        if (v[i] == '\\' && i + 1 < v.size() &&
            (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == '$' || v[i + 1] == '`')) {
          out += v[i + 1];
          i += 2;
          continue;
        }
        out += v[i++];
      }
      if (!closed) return absl::InvalidArgumentError("unterminated double quote");
    } else if (c == '\'') {
      const size_t end = v.find('\'', i + 1);
      if (end == absl::string_view::npos) {
        return absl::InvalidArgumentError("unterminated single quote");
      }
      out.append(v.data() + i + 1, end - i - 1);
      i = end + 1;
    } else if (c == '\\' && i + 1 < v.size()) {
      out += v[i + 1];
      i += 2;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<OsRelease> ParseOsRelease(absl::string_view content) {
  if (content.size() > kMaxOsReleaseSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("os-release is ", content.size(), " bytes, more than the ",
                     kMaxOsReleaseSize, " allowed"));
  }
  if (content.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("os-release holds a NUL byte: not a text file");
  }
  OsRelease os;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(content, '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("os-release line ", line_no, ": expected KEY=VALUE"));
    }
    absl::string_view key = line.substr(0, eq);
    for (char c : key) {
      if (!IsKeyChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("os-release line ", line_no, ": invalid key"));
      }
    }
    absl::StatusOr<std::string> value = Unquote(line.substr(eq + 1));
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("os-release line ", line_no, ": ", value.status().message()));
    }
    if (key == "ID") {
      os.id = absl::AsciiStrToLower(*value);
    } else if (key == "ID_LIKE") {
      os.id_like.clear();
      for (absl::string_view id : absl::StrSplit(*value, ' ', absl::SkipEmpty())) {
        os.id_like.push_back(absl::AsciiStrToLower(id));
      }
    } else if (key == "VERSION_ID") {
      os.version_id = *std::move(value);
    } else if (key == "VERSION_CODENAME") {
      os.version_codename = absl::AsciiStrToLower(*value);
    } else if (key == "NAME") {
      os.name = *std::move(value);
    } else if (key == "PRETTY_NAME") {
      os.pretty_name = *std::move(value);
    }
  }
  if (os.id.empty()) return absl::InvalidArgumentError("os-release has no ID");
  return os;
}

}  // namespace portunus::scanner
