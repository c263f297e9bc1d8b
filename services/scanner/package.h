// What the scanner learns from an image: the operating system (os-release) and the packages its
// package manager databases say are installed. Plain values, shared by the parsers, the matcher
// and the stores.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/scanner/version_compare.h"

namespace portunus::scanner {

// Which package manager database a package was read from.
enum class PackageFormat { kDpkg, kApk, kRpm };

// "dpkg", "apk", "rpm".
absl::string_view PackageFormatName(PackageFormat format);
// Inverse of PackageFormatName; false for an unknown name.
bool ParsePackageFormat(absl::string_view name, PackageFormat* format);
// How versions of packages of this format are ordered.
VersionScheme SchemeOf(PackageFormat format);

// One installed package.
struct Package {
  PackageFormat format = PackageFormat::kDpkg;
  std::string name;     // binary package name
  std::string version;  // as the package manager prints it: dpkg [epoch:]upstream[-revision],
                        // apk version-rN, rpm [epoch:]version-release
  std::string arch;     // "amd64", "x86_64", "noarch", "" when unknown
  // The source package the binary was built from (dpkg Source:, apk origin, the name in rpm's
  // SOURCERPM); equal to `name` when the database does not say. Distro feeds key advisories
  // by source package.
  std::string source_name;
  // The source package's version (dpkg "Source: name (version)", rpm SOURCERPM's version-release
  // with the binary's epoch); equal to `version` when the database does not say.
  std::string source_version;

  bool operator==(const Package& o) const {
    return format == o.format && name == o.name && version == o.version && arch == o.arch &&
           source_name == o.source_name && source_version == o.source_version;
  }
};

// The fields of os-release(5) the scanner uses.
struct OsRelease {
  std::string id;                    // "debian", "alpine", "rocky" (lower case)
  std::vector<std::string> id_like;  // "rhel fedora" -> {"rhel", "fedora"}
  std::string version_id;            // "12", "3.18.4", "9.3"; "" on rolling releases
  std::string version_codename;      // "bookworm"
  std::string name;                  // "Debian GNU/Linux"
  std::string pretty_name;           // "Debian GNU/Linux 12 (bookworm)"

  bool empty() const { return id.empty(); }
  bool operator==(const OsRelease& o) const {
    return id == o.id && id_like == o.id_like && version_id == o.version_id &&
           version_codename == o.version_codename && name == o.name &&
           pretty_name == o.pretty_name;
  }
};

}  // namespace portunus::scanner
