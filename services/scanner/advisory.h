// The vulnerability data model shared by the feed parsers, the matcher and the stores: a
// vulnerability (one per id) and the packages it affects in one ecosystem each, with OSV-style
// version ranges (introduced / fixed / last_affected events).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/scanner/version_compare.h"

namespace portunus::scanner {

// Harbor/Clair's scale. The numeric order is the severity order.
enum class Severity { kUnknown = 0, kNegligible = 1, kLow = 2, kMedium = 3, kHigh = 4, kCritical = 5 };
inline constexpr int kSeverityCount = 6;

// "Unknown", "Negligible", "Low", "Medium", "High", "Critical".
absl::string_view SeverityName(Severity s);
// Case-insensitive; also accepts the words feeds use: "unimportant" (Negligible), "moderate"
// (Medium), "important" (High), "none" (Negligible). False for anything else.
bool ParseSeverity(absl::string_view text, Severity* s);

// CVSS v3.0/v3.1 base score of a vector ("CVSS:3.1/AV:N/AC:L/..."), per the FIRST
// specification (with its Roundup); nullopt when the vector is not a complete v3 base vector.
std::optional<double> CvssV3BaseScore(absl::string_view vector);
// The qualitative rating of a CVSS v3 score (0 = Negligible, as "None").
Severity SeverityFromCvss(double score);

struct Vulnerability {
  std::string id;  // "CVE-2023-5678", "DSA-5532-1", "GHSA-xxxx-xxxx-xxxx"
  std::string summary;
  std::string description;
  Severity severity = Severity::kUnknown;  // when no affected entry says otherwise
  std::string cvss_vector;                 // "CVSS:3.1/..." when known
  std::vector<std::string> aliases;        // other ids of the same issue
  std::vector<std::string> links;
  absl::Time published = absl::InfinitePast();
  absl::Time modified = absl::InfinitePast();

  bool operator==(const Vulnerability& o) const {
    return id == o.id && summary == o.summary && description == o.description &&
           severity == o.severity && cvss_vector == o.cvss_vector && aliases == o.aliases &&
           links == o.links && published == o.published && modified == o.modified;
  }
};

// One OSV range event.
struct RangeEvent {
  enum class Kind { kIntroduced, kFixed, kLastAffected, kLimit };
  Kind kind = Kind::kIntroduced;
  std::string version;  // "0" for kIntroduced means "from the very first version"
  bool operator==(const RangeEvent& o) const { return kind == o.kind && version == o.version; }
};

// A vulnerable range: the events of one OSV range, in any order.
using AffectedRange = std::vector<RangeEvent>;

// A package one vulnerability affects in one ecosystem.
struct Affected {
  std::string vuln_id;
  std::string source;     // the feed it came from: "debian-security-tracker", "osv", ...
  std::string ecosystem;  // normalised key (distro.h): "debian:12", "alpine:3.18", "npm"
  std::string package;    // distro feeds: the source package
  VersionScheme scheme = VersionScheme::kGeneric;
  std::vector<AffectedRange> ranges;  // none and no versions: every version is affected
  std::vector<std::string> versions;  // versions listed as affected one by one
  Severity severity = Severity::kUnknown;  // the feed's own rating for this package, if any

  bool operator==(const Affected& o) const {
    return vuln_id == o.vuln_id && source == o.source && ecosystem == o.ecosystem &&
           package == o.package && scheme == o.scheme && ranges == o.ranges &&
           versions == o.versions && severity == o.severity;
  }
};

// Whether `version` is affected, and the version that fixes it ("" when none is known: an
// unfixed vulnerability). Follows the OSV evaluation rules: per range, events sorted by
// version; introduced makes the versions from there affected, fixed and last_affected end it.
struct AffectedVerdict {
  bool affected = false;
  std::string fixed_version;
};
AffectedVerdict EvaluateAffected(const Affected& a, absl::string_view version);

// Everything a feed file holds.
struct FeedData {
  std::vector<Vulnerability> vulnerabilities;
  std::vector<Affected> affected;
  // OSV records marked withdrawn: their stored data is removed.
  std::vector<std::string> withdrawn;
  int64_t skipped = 0;  // entries ignored (unknown releases, GIT ranges, not-affected markers)
};

}  // namespace portunus::scanner
