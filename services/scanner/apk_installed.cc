#include "services/scanner/apk_installed.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {
namespace {

struct Entry {
  int first_line = 0;
  std::string name, version, arch, origin;
};

bool IsValidApkName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status Finish(const Entry& e, std::vector<Package>* out) {
  if (e.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("apk installed db line ", e.first_line, ": package has no P: (name)"));
  }
  if (!IsValidApkName(e.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("apk installed db line ", e.first_line, ": invalid package name"));
  }
  if (e.version.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("apk installed db: package ", e.name, " has no V: (version)"));
  }
  if (!IsValidApkVersion(e.version)) {
    return absl::InvalidArgumentError(absl::StrCat("apk installed db: package ", e.name,
                                                   ": invalid version \"", e.version, "\""));
  }
  if (!e.origin.empty() && !IsValidApkName(e.origin)) {
    return absl::InvalidArgumentError(
        absl::StrCat("apk installed db: package ", e.name, ": invalid origin"));
  }
  if (out->size() >= kMaxApkPackages) {
    return absl::InvalidArgumentError(
        absl::StrCat("apk installed db lists more than ", kMaxApkPackages, " packages"));
  }
  Package p;
  p.format = PackageFormat::kApk;
  p.name = e.name;
  p.version = e.version;
  p.arch = e.arch;
  p.source_name = e.origin.empty() ? e.name : e.origin;
  p.source_version = e.version;
  out->push_back(std::move(p));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Package>> ParseApkInstalled(absl::string_view content) {
  if (content.size() > kMaxApkInstalledSize) {
    return absl::InvalidArgumentError(absl::StrCat("apk installed db is ", content.size(),
                                                   " bytes, more than the ",
                                                   kMaxApkInstalledSize, " allowed"));
  }
  if (content.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("apk installed db holds a NUL byte: not a text file");
  }
  std::vector<Package> out;
  Entry cur;
  bool in_entry = false;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (in_entry) {
        absl::Status s = Finish(cur, &out);
        if (!s.ok()) return s;
      }
      cur = Entry{};
      in_entry = false;
      continue;
    }
    if (line.size() < 2 || line[1] != ':' || !absl::ascii_isalpha(static_cast<unsigned char>(line[0]))) {
      return absl::InvalidArgumentError(
          absl::StrCat("apk installed db line ", line_no, ": expected \"K:value\""));
    }
    if (!in_entry) {
      in_entry = true;
      cur.first_line = line_no;
    }
    absl::string_view value = line.substr(2);
    switch (line[0]) {
      case 'P':
        cur.name = std::string(value);
        break;
      case 'V':
        cur.version = std::string(value);
        break;
      case 'A':
        cur.arch = std::string(value);
        break;
      case 'o':
        cur.origin = std::string(value);
        break;
      default:
        break;
    }
  }
  if (in_entry) {
    absl::Status s = Finish(cur, &out);
    if (!s.ok()) return s;
  }
  return out;
}

}  // namespace portunus::scanner
