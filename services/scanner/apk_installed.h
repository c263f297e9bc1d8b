// Parser for apk's database of installed packages, lib/apk/db/installed (Alpine, Wolfi,
// Chainguard): one "K:value" line per field, packages separated by blank lines.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scanner/package.h"

namespace portunus::scanner {

inline constexpr size_t kMaxApkInstalledSize = 64 * 1024 * 1024;
inline constexpr size_t kMaxApkPackages = 200000;

// Returns the packages in file order: P name, V version, A arch, o origin (the source package;
// the name when absent). Every other field (file lists, checksums, dependencies) is skipped.
// Pure and thread-safe. kInvalidArgument (naming the line or package) when the input exceeds
// kMaxApkInstalledSize, holds a NUL byte, has a non-empty line that is not "K:value", a package
// without P or V, a version apk would reject, or more than kMaxApkPackages packages.
absl::StatusOr<std::vector<Package>> ParseApkInstalled(absl::string_view content);

}  // namespace portunus::scanner
