// Turns an image's interesting files into its inventory: the operating system (os-release)
// and every package its package databases list (dpkg, distroless status.d, apk, rpm).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/scanner/image_files.h"
#include "services/scanner/package.h"
#include "services/scanner/rpm_database.h"

namespace portunus::scanner {

struct Inventory {
  OsRelease os;  // empty when the image has no os-release
  std::vector<Package> packages;
  // The databases read, e.g. "var/lib/dpkg/status" or "usr/lib/sysimage/rpm/rpmdb.sqlite".
  std::vector<std::string> databases;
};

// Reads the OS from etc/os-release (falling back to usr/lib/os-release) and the packages of
// every package database present; rpm databases are looked for in usr/lib/sysimage/rpm, then
// var/lib/rpm, each in librpm's order rpmdb.sqlite, Packages.db, Packages. `rpm` may be null
// when the image is known to hold no rpm database. Thread-safe. kInvalidArgument naming the file
// when a database or os-release that the image does contain cannot be parsed; kFailedPrecondition
// when an rpm database is present but no rpm reader was given; kInternal from the rpm reader's
// temporary copy.
absl::StatusOr<Inventory> BuildInventory(const ImageFiles& files, const RpmDatabaseReader* rpm);

}  // namespace portunus::scanner
