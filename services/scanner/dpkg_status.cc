#include "services/scanner/dpkg_status.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {
namespace {

struct Stanza {
  int first_line = 0;
  std::string package, version, arch, source, status;
  bool has_status = false;
};

// Applies the installed rule and turns a stanza into a package (or nothing).
absl::Status Finish(const Stanza& s, const DpkgParseOptions& options, std::vector<Package>* out) {
  if (s.has_status) {
    std::vector<absl::string_view> words =
        absl::StrSplit(s.status, ' ', absl::SkipEmpty());
    if (words.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dpkg status line ", s.first_line, ": Status must be three words, got \"", s.status, "\""));
    }
    const bool wanted = words[0] == "install" || words[0] == "hold";
    if (!wanted || words[1] != "ok" || words[2] != "installed") return absl::OkStatus();
  } else if (!options.distroless) {
    return absl::OkStatus();  // dpkg writes Status for every package; without it, not installed
  }
  if (s.package.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("dpkg status line ", s.first_line, ": installed package has no Package field"));
  }
  for (char c : s.package) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.' &&
        c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(
          "dpkg status line ", s.first_line, ": invalid package name \"", s.package, "\""));
    }
  }
  if (s.version.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("dpkg status line ", s.first_line,
                                                   ": package ", s.package, " has no Version"));
  }
  absl::StatusOr<DpkgVersion> version = ParseDpkgVersion(s.version);
  if (!version.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("dpkg status: package ", s.package,
                                                   ": invalid version \"", s.version,
                                                   "\": ", version.status().message()));
  }
  if (out->size() >= kMaxDpkgPackages) {
    return absl::InvalidArgumentError(
        absl::StrCat("dpkg status lists more than ", kMaxDpkgPackages, " packages"));
  }
  Package p;
  p.format = PackageFormat::kDpkg;
  p.name = s.package;
  p.version = std::string(absl::StripAsciiWhitespace(s.version));
  p.arch = s.arch;
  p.source_name = p.name;
  p.source_version = p.version;
  if (!s.source.empty()) {
    // "Source: name" or "Source: name (version)".
    absl::string_view src = s.source;
    const size_t paren = src.find('(');
    if (paren == absl::string_view::npos) {
      p.source_name = std::string(absl::StripAsciiWhitespace(src));
    } else {
      const size_t close = src.find(')', paren);
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "dpkg status: package ", s.package, ": unterminated version in Source: ", s.source));
      }
      p.source_name = std::string(absl::StripAsciiWhitespace(src.substr(0, paren)));
      std::string src_version(absl::StripAsciiWhitespace(src.substr(paren + 1, close - paren - 1)));
      if (!ParseDpkgVersion(src_version).ok()) {
        return absl::InvalidArgumentError(absl::StrCat("dpkg status: package ", s.package,
                                                       ": invalid source version \"",
                                                       src_version, "\""));
      }
      p.source_version = std::move(src_version);
    }
    if (p.source_name.empty() || p.source_name.find(' ') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("dpkg status: package ", s.package, ": invalid Source: ", s.source));
    }
  }
  out->push_back(std::move(p));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Package>> ParseDpkgStatus(absl::string_view content,
                                                     const DpkgParseOptions& options) {
  if (content.size() > kMaxDpkgStatusSize) {
    return absl::InvalidArgumentError(absl::StrCat("dpkg status is ", content.size(),
                                                   " bytes, more than the ", kMaxDpkgStatusSize,
                                                   " allowed"));
  }
  if (content.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("dpkg status holds a NUL byte: not a text file");
  }
  std::vector<Package> out;
  Stanza cur;
  bool in_stanza = false;
  std::string* last_field = nullptr;  // the field a continuation line belongs to (if kept)
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (absl::StripAsciiWhitespace(line).empty()) {
      if (in_stanza) {
        absl::Status s = Finish(cur, options, &out);
        if (!s.ok()) return s;
      }
      cur = Stanza{};
      in_stanza = false;
      last_field = nullptr;
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!in_stanza) {
        return absl::InvalidArgumentError(absl::StrCat(
            "dpkg status line ", line_no, ": continuation line outside of a field"));
      }
      // Continuations only matter for fields we keep; Description and Conffiles are skipped.
      if (last_field != nullptr) absl::StrAppend(last_field, " ", absl::StripAsciiWhitespace(line));
      continue;
    }
    if (line[0] == '#') continue;  // deb822 comment
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("dpkg status line ", line_no, ": expected \"Field: value\""));
    }
    if (!in_stanza) {
      in_stanza = true;
      cur.first_line = line_no;
    }
    absl::string_view name = line.substr(0, colon);
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    last_field = nullptr;
    if (absl::EqualsIgnoreCase(name, "Package")) {
      cur.package = std::move(value);
      last_field = &cur.package;
    } else if (absl::EqualsIgnoreCase(name, "Version")) {
      cur.version = std::move(value);
      last_field = &cur.version;
    } else if (absl::EqualsIgnoreCase(name, "Architecture")) {
      cur.arch = std::move(value);
      last_field = &cur.arch;
    } else if (absl::EqualsIgnoreCase(name, "Source")) {
      cur.source = std::move(value);
      last_field = &cur.source;
    } else if (absl::EqualsIgnoreCase(name, "Status")) {
      cur.status = std::move(value);
      cur.has_status = true;
      last_field = &cur.status;
    }
  }
  if (in_stanza) {
    absl::Status s = Finish(cur, options, &out);
    if (!s.ok()) return s;
  }
  return out;
}

}  // namespace portunus::scanner
