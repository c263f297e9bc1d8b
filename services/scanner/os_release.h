// Parser for os-release(5) (etc/os-release, usr/lib/os-release): which distribution and
// release an image is, so its packages are matched against that distribution's feed only.
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scanner/package.h"

namespace portunus::scanner {

// os-release files are a few hundred bytes; anything larger is not one.
inline constexpr size_t kMaxOsReleaseSize = 64 * 1024;

// Parses KEY=VALUE lines: values may be unquoted or in single or double quotes (with the shell
// escapes \" \\ \$ \` inside double quotes); blank lines and '#' comments are skipped. Pure and
// thread-safe. kInvalidArgument (naming the line) when the input is larger than
// kMaxOsReleaseSize, holds a NUL byte, has a line that is not KEY=VALUE, an unterminated quote,
// or has no ID.
absl::StatusOr<OsRelease> ParseOsRelease(absl::string_view content);

}  // namespace portunus::scanner
