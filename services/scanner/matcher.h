// Matching: which of an image's packages are affected by which vulnerabilities. A distro
// package is matched only against advisories of its own distribution release (distro.h), by
// source package and by binary name, comparing the installed (binary) version with the
// advisory's ranges under the package manager's own version rules.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "services/scanner/advisory.h"
#include "services/scanner/inventory.h"

namespace portunus::scanner {

// One vulnerable package.
struct Finding {
  std::string vuln_id;
  Severity severity = Severity::kUnknown;
  std::string package;            // binary package name
  std::string installed_version;
  std::string fixed_version;      // "" when no fix is known
  std::string source_package;
  PackageFormat format = PackageFormat::kDpkg;
  std::string arch;

  bool operator==(const Finding& o) const {
    return vuln_id == o.vuln_id && severity == o.severity && package == o.package &&
           installed_version == o.installed_version && fixed_version == o.fixed_version &&
           source_package == o.source_package && format == o.format && arch == o.arch;
  }
};

// The advisories of some ecosystems, indexed by (ecosystem, package), plus vulnerability
// severities and aliases. Build once, then read from any number of threads.
class AdvisoryIndex {
 public:
  void Add(Affected a);
  // Records what the matcher needs to know about a vulnerability besides its affected entries.
  void AddVulnerability(const std::string& id, Severity severity, std::vector<std::string> aliases);
  // nullptr when nothing is known for that package.
  const std::vector<Affected>* Find(absl::string_view ecosystem, absl::string_view package) const;
  Severity SeverityOf(absl::string_view id) const;
  const std::vector<std::string>* AliasesOf(absl::string_view id) const;
  size_t affected_count() const { return affected_count_; }

 private:
  absl::flat_hash_map<std::string, std::vector<Affected>> by_package_;  // "eco\npkg"
  struct VulnInfo {
    Severity severity = Severity::kUnknown;
    std::vector<std::string> aliases;
  };
  absl::flat_hash_map<std::string, VulnInfo> vulns_;
  size_t affected_count_ = 0;
};

struct MatchResult {
  std::string ecosystem;  // the key the image was matched under; "" when the OS is unknown
  std::vector<Finding> findings;  // sorted by severity (highest first), then id, then package
};

// Matches every package of `inventory` whose version scheme is the ecosystem's. One finding per
// (vulnerability, package, installed version): when several feeds agree, a known fix and a known
// severity win. A non-CVE advisory (DSA-..., UBUNTU-CVE-...) is dropped for a package when every
// CVE it aliases is already reported for that package. Severity: the feed's per-package rating,
// else the vulnerability's, else Unknown. Pure and thread-safe.
MatchResult Match(const Inventory& inventory, const AdvisoryIndex& index);

}  // namespace portunus::scanner
