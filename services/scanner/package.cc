#include "services/scanner/package.h"

namespace portunus::scanner {

absl::string_view PackageFormatName(PackageFormat format) {
  switch (format) {
    case PackageFormat::kDpkg:
      return "dpkg";
    case PackageFormat::kApk:
      return "apk";
    case PackageFormat::kRpm:
      return "rpm";
  }
  return "dpkg";
}

bool ParsePackageFormat(absl::string_view name, PackageFormat* format) {
  if (name == "dpkg") {
    *format = PackageFormat::kDpkg;
  } else if (name == "apk") {
    *format = PackageFormat::kApk;
  } else if (name == "rpm") {
    *format = PackageFormat::kRpm;
  } else {
    return false;
  }
  return true;
}

VersionScheme SchemeOf(PackageFormat format) {
  switch (format) {
    case PackageFormat::kDpkg:
      return VersionScheme::kDpkg;
    case PackageFormat::kApk:
      return VersionScheme::kApk;
    case PackageFormat::kRpm:
      return VersionScheme::kRpm;
  }
  return VersionScheme::kGeneric;
}

}  // namespace portunus::scanner
