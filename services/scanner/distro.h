// Ecosystem keys: the one name under which an image's distribution release and a feed's
// advisories for that release meet, so packages are matched only against their own
// distribution's data. Keys are "<distro>:<release>" in lower case: "debian:12", "ubuntu:22.04",
// "alpine:3.18", "rocky:9", "almalinux:9", "rhel:9", "opensuse-leap:15.5", "sles:15.5",
// "photon:5.0", "mariner:2.0", "azurelinux:3.0", "amzn:2023", "ol:9", "fedora:39", "wolfi",
// "chainguard"; language ecosystems keep OSV's own name lower-cased ("npm", "pypi", "go").
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "services/scanner/package.h"
#include "services/scanner/version_compare.h"

namespace portunus::scanner {

// The key of the distribution release an image runs, from its os-release; "" when the image
// has no os-release. Distributions not in the list above get "<ID>:<VERSION_ID>".
std::string EcosystemForOs(const OsRelease& os);

// The key for an OSV "ecosystem" value ("Debian:12" -> "debian:12", "Alpine:v3.18" ->
// "alpine:3.18", "Ubuntu:22.04:LTS" -> "ubuntu:22.04", "Rocky Linux:9" -> "rocky:9",
// "Red Hat:enterprise_linux:9::appstream" -> "rhel:9", "SUSE:Linux Enterprise Server 15 SP5" ->
// "sles:15.5", "openSUSE:Leap 15.5" -> "opensuse-leap:15.5", "npm" -> "npm"). "" for values
// the scanner cannot use (Ubuntu Pro streams, Debian releases without a number).
std::string EcosystemForOsv(absl::string_view ecosystem);

// Debian release codename -> number ("bookworm" -> "12"); "" when unknown.
std::string DebianReleaseNumber(absl::string_view codename);

// How versions are ordered in an ecosystem key ("debian:12" -> dpkg, "alpine:3.18" -> apk,
// "rocky:9" -> rpm, anything else -> `fallback`).
VersionScheme SchemeForEcosystem(absl::string_view key, VersionScheme fallback);

}  // namespace portunus::scanner
