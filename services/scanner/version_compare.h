// Version ordering exactly as the package managers themselves order versions, so "is the
// installed version older than the fixed one?" gets the answer dpkg, apk or rpm would give:
//
//   dpkg  lib/dpkg/version.c   [epoch:]upstream[-revision], `~` sorts before everything, even
//                              the end of the string; letters sort before other characters.
//   apk   apk-tools version.c  digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}; suffixes
//                              _alpha < _beta < _pre < _rc < (none) < _cvs < _svn < _git <
//                              _hg < _p; a component with a leading zero compares as a string.
//   rpm   lib/rpmvercmp.c      segments of digits or letters; `~` sorts before everything,
//                              `^` after the base version but before any further segment;
//                              [epoch:]version[-release] with a missing release matching any.
//   semver                     SemVer 2.0.0 precedence (OSV SEMVER ranges), lenient about a
//                              leading "v" and missing minor/patch.
//
// All functions are pure and thread-safe. They never fail: strings a tool would reject are
// still ordered deterministically (as the tool's own comparison would order them where it
// accepts them); use the Is*Valid / Parse* functions to reject input up front.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace portunus::scanner {

// Which ordering a version string follows.
enum class VersionScheme {
  kDpkg,    // Debian, Ubuntu
  kApk,     // Alpine, Wolfi, Chainguard
  kRpm,     // Red Hat family, SUSE, Mariner, Photon, ...
  kSemver,  // OSV SEMVER ranges, and ecosystems whose versions are SemVer
  kGeneric, // unknown ecosystems: dotted numeric/alpha segments, as rpmvercmp
};

// "dpkg", "apk", "rpm", "semver", "generic".
absl::string_view VersionSchemeName(VersionScheme scheme);

// Orders `a` against `b` under `scheme`: negative when a < b, 0 when equal, positive when a > b.
int CompareVersions(VersionScheme scheme, absl::string_view a, absl::string_view b);

// --- dpkg -------------------------------------------------------------------------------

struct DpkgVersion {
  uint32_t epoch = 0;
  std::string upstream;
  std::string revision;  // "" when the version has no '-'
};

// Parses like dpkg's parseversion(): surrounding blanks are ignored; kInvalidArgument for an
// empty version, embedded blanks, a non-numeric or too large epoch, nothing after the epoch
// colon, or an empty revision. dpkg only warns about an upstream part that does not start with
// a digit or holds unusual characters, and so does this parser (it accepts them).
absl::StatusOr<DpkgVersion> ParseDpkgVersion(absl::string_view text);

// dpkg's verrevcmp() on one part (upstream or revision).
int DpkgVerRevCmp(absl::string_view a, absl::string_view b);

// dpkg_version_compare(): epoch, then upstream, then revision.
int CompareDpkg(const DpkgVersion& a, const DpkgVersion& b);

// Parses both and compares; an unparsable string is compared as an upstream version with
// epoch 0 and no revision.
int CompareDpkgVersions(absl::string_view a, absl::string_view b);

// --- apk --------------------------------------------------------------------------------

// apk_version_validate(): true when `version` is a well-formed apk version.
bool IsValidApkVersion(absl::string_view version);

// apk_version_compare(). Invalid versions are ordered as apk-tools orders them (an invalid
// token sorts below any valid continuation; two versions that both turn invalid at the same
// place are equal).
int CompareApkVersions(absl::string_view a, absl::string_view b);

// --- rpm --------------------------------------------------------------------------------

// rpmvercmp() on one part (version or release).
int Rpmvercmp(absl::string_view a, absl::string_view b);

struct RpmEvr {
  std::string epoch;    // digits, "" when absent (compares as "0")
  std::string version;
  std::string release;  // "" when absent
  bool has_release = false;
};

// rpm's EVR split: leading digits followed by ':' are the epoch, the last '-' separates the
// release.
RpmEvr ParseRpmEvr(absl::string_view evr);

// rpmverCmp(): epoch (absent = 0), version, and release only when both sides have one.
int CompareRpmEvr(const RpmEvr& a, const RpmEvr& b);
int CompareRpmVersions(absl::string_view a, absl::string_view b);

// --- semver -----------------------------------------------------------------------------

// SemVer 2.0.0 precedence; build metadata is ignored. A leading "v"/"V" is ignored and a
// missing minor or patch counts as 0. Strings that are not SemVer at all fall back to the
// generic ordering.
int CompareSemver(absl::string_view a, absl::string_view b);

}  // namespace portunus::scanner
