#include "services/scanner/matcher.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/scanner/distro.h"

namespace portunus::scanner {
namespace {

std::string Key(absl::string_view ecosystem, absl::string_view package) {
  return absl::StrCat(ecosystem, "\n", package);
}

}  // namespace

void AdvisoryIndex::Add(Affected a) {
  std::string key = Key(a.ecosystem, a.package);
  by_package_[key].push_back(std::move(a));
  ++affected_count_;
}

void AdvisoryIndex::AddVulnerability(const std::string& id, Severity severity,
                                     std::vector<std::string> aliases) {
  VulnInfo& v = vulns_[id];
  if (severity != Severity::kUnknown) v.severity = severity;
  if (!aliases.empty()) v.aliases = std::move(aliases);
}

const std::vector<Affected>* AdvisoryIndex::Find(absl::string_view ecosystem,
                                                 absl::string_view package) const {
  auto it = by_package_.find(Key(ecosystem, package));
  return it == by_package_.end() ? nullptr : &it->second;
}

Severity AdvisoryIndex::SeverityOf(absl::string_view id) const {
  auto it = vulns_.find(id);
  return it == vulns_.end() ? Severity::kUnknown : it->second.severity;
}

const std::vector<std::string>* AdvisoryIndex::AliasesOf(absl::string_view id) const {
  auto it = vulns_.find(id);
  return it == vulns_.end() ? nullptr : &it->second.aliases;
}

MatchResult Match(const Inventory& inventory, const AdvisoryIndex& index) {
  MatchResult result;
  result.ecosystem = EcosystemForOs(inventory.os);
  if (result.ecosystem.empty()) return result;
  const VersionScheme eco_scheme = SchemeForEcosystem(result.ecosystem, VersionScheme::kGeneric);

  // (vuln, package, arch, version) -> finding
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Finding> found;
  for (const Package& p : inventory.packages) {
    if (SchemeOf(p.format) != eco_scheme) continue;
    std::vector<const std::vector<Affected>*> candidates;
    if (const auto* by_source = index.Find(result.ecosystem, p.source_name)) candidates.push_back(by_source);
    if (p.name != p.source_name) {
      if (const auto* by_name = index.Find(result.ecosystem, p.name)) candidates.push_back(by_name);
    }
    for (const std::vector<Affected>* list : candidates) {
      for (const Affected& a : *list) {
        AffectedVerdict v = EvaluateAffected(a, p.version);
        if (!v.affected) continue;
        Severity sev = a.severity != Severity::kUnknown ? a.severity : index.SeverityOf(a.vuln_id);
        auto key = std::make_tuple(a.vuln_id, p.name, p.arch, p.version);
        auto it = found.find(key);
        if (it == found.end()) {
          found.emplace(key, Finding{a.vuln_id, sev, p.name, p.version, v.fixed_version,
                                     p.source_name, p.format, p.arch});
          continue;
        }
        // Several feeds (or entries) agree: keep a known fix and a known severity.
        Finding& f = it->second;
        if (f.fixed_version.empty()) f.fixed_version = v.fixed_version;
        if (f.severity == Severity::kUnknown) f.severity = sev;
      }
    }
  }

  // Drop advisories whose CVEs are all reported for the same package already.
  std::set<std::tuple<std::string, std::string, std::string>> reported;  // package, version, id
  for (const auto& [key, f] : found) reported.emplace(f.package, f.installed_version, f.vuln_id);
  for (auto& [key, f] : found) {
    if (absl::StartsWith(f.vuln_id, "CVE-")) {
      result.findings.push_back(std::move(f));
      continue;
    }
    const std::vector<std::string>* aliases = index.AliasesOf(f.vuln_id);
    bool covered = false;
    if (aliases != nullptr) {
      int cves = 0, present = 0;
      for (const std::string& alias : *aliases) {
        if (!absl::StartsWith(alias, "CVE-")) continue;
        ++cves;
        present += reported.count({f.package, f.installed_version, alias}) ? 1 : 0;
      }
      covered = cves > 0 && cves == present;
    }
    if (!covered) result.findings.push_back(std::move(f));
  }
  std::sort(result.findings.begin(), result.findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.vuln_id != b.vuln_id) return a.vuln_id < b.vuln_id;
    if (a.package != b.package) return a.package < b.package;
    return a.arch < b.arch;
  });
  return result;
}

}  // namespace portunus::scanner
