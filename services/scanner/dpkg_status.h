// Parser for dpkg's database of installed packages: var/lib/dpkg/status, and the one-file-per-
// package var/lib/dpkg/status.d/* of distroless images (which carry no Status: field).
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scanner/package.h"

namespace portunus::scanner {

inline constexpr size_t kMaxDpkgStatusSize = 64 * 1024 * 1024;
inline constexpr size_t kMaxDpkgPackages = 200000;

struct DpkgParseOptions {
  // status.d/* files of distroless images: a stanza without a Status: field is installed.
  bool distroless = false;
};

// Parses deb822 stanzas (fields "Name: value", continuation lines starting with a blank,
// stanzas separated by blank lines) and returns the installed packages in file order. A package
// is installed when its Status is "install ok installed" (or "hold ok installed": a held
// package is installed too); half-installed, config-files, unpacked and the like are not.
// Source: "name" or "name (version)" gives the source package. Pure and thread-safe.
// kInvalidArgument (naming the line or package) when the input exceeds kMaxDpkgStatusSize,
// holds a NUL byte, has a line that is neither a field nor a continuation, an installed stanza
// without Package or Version, an invalid version, or more than kMaxDpkgPackages packages.
absl::StatusOr<std::vector<Package>> ParseDpkgStatus(absl::string_view content,
                                                     const DpkgParseOptions& options = {});

}  // namespace portunus::scanner
