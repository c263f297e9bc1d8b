#include "services/scanner/image_paths.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {
namespace {

constexpr absl::string_view kFixedFiles[] = {
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
};
constexpr absl::string_view kRpmDirs[] = {"var/lib/rpm", "usr/lib/sysimage/rpm"};
constexpr absl::string_view kRpmFiles[] = {"rpmdb.sqlite", "rpmdb.sqlite-wal", "rpmdb.sqlite-shm",
                                           "Packages.db", "Packages"};
constexpr absl::string_view kStatusD = "var/lib/dpkg/status.d";
constexpr absl::string_view kAncestors[] = {
    "etc", "usr", "usr/lib", "usr/lib/sysimage", "usr/lib/sysimage/rpm", "var", "var/lib",
    "var/lib/dpkg", "var/lib/dpkg/status.d", "var/lib/rpm", "lib", "lib/apk", "lib/apk/db",
};

}  // namespace

std::string NormalizeImagePath(absl::string_view name) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(name, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrJoin(parts, "/");
}

int PathDepth(absl::string_view path) {
  if (path.empty()) return 0;
  int depth = 1;
  for (char c : path) depth += c == '/';
  return depth;
}

absl::string_view PathDirname(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view() : path.substr(0, slash);
}

bool IsInterestingFile(absl::string_view path) {
  for (absl::string_view f : kFixedFiles) {
    if (path == f) return true;
  }
  absl::string_view dir = PathDirname(path);
  absl::string_view base = path.substr(dir.empty() ? 0 : dir.size() + 1);
  if (dir == kStatusD) return !base.empty();
  for (absl::string_view d : kRpmDirs) {
    if (dir == d) {
      for (absl::string_view f : kRpmFiles) {
        if (base == f) return true;
      }
    }
  }
  return false;
}

bool IsInterestingAncestor(absl::string_view path) {
  for (absl::string_view a : kAncestors) {
    if (path == a) return true;
  }
  return false;
}

}  // namespace portunus::scanner
