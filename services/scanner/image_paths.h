// Which paths inside an image the scanner cares about, and how tar entry names map onto them.
// Only these files are ever kept from a layer: everything else is streamed past.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace portunus::scanner {

// Normalises a tar entry name to a relative path without "." or ".." components, clamped at
// the root as a container runtime would ("./etc//os-release" -> "etc/os-release",
// "/a/../../etc" -> "etc"); a trailing '/' is dropped. "" for the root itself.
std::string NormalizeImagePath(absl::string_view name);

// Number of components of a normalised path ("" has 0).
int PathDepth(absl::string_view path);

// The directory part of a normalised path ("a/b" -> "a", "a" -> "").
absl::string_view PathDirname(absl::string_view path);

// True for the files the scanner reads: etc/os-release, usr/lib/os-release,
// var/lib/dpkg/status, var/lib/dpkg/status.d/<name>, lib/apk/db/installed, and the rpm database
// files (rpmdb.sqlite, rpmdb.sqlite-wal, rpmdb.sqlite-shm, Packages.db, Packages) under
// var/lib/rpm and usr/lib/sysimage/rpm.
bool IsInterestingFile(absl::string_view path);

// True for a directory on the way to an interesting file ("var", "var/lib", "var/lib/rpm",
// "var/lib/dpkg/status.d", ...): replacing it by a file or symlink, deleting it or making it
// opaque changes what the scanner sees.
bool IsInterestingAncestor(absl::string_view path);

}  // namespace portunus::scanner
