#include "services/scanner/image_scanner.h"

#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/common/status_macros.h"
#include "services/scanner/distro.h"
#include "services/scanner/image_files.h"
#include "services/scanner/inventory.h"

namespace portunus::scanner {
namespace {

SeverityCounts CountFindings(const std::vector<Finding>& findings) {
  SeverityCounts c{};
  for (const Finding& f : findings) ++c[static_cast<size_t>(f.severity)];
  return c;
}

void SortFindings(std::vector<Finding>* findings) {
  std::sort(findings->begin(), findings->end(), [](const Finding& a, const Finding& b) {
    return std::make_tuple(-static_cast<int>(a.severity), a.vuln_id, a.package, a.arch, a.installed_version) <
           std::make_tuple(-static_cast<int>(b.severity), b.vuln_id, b.package, b.arch, b.installed_version);
  });
}

}  // namespace

absl::StatusOr<AdvisoryCache::Entry> AdvisoryCache::Get(const std::string& ecosystem) {
  PORTUNUS_ASSIGN_OR_RETURN(const int64_t generation, store_.Generation());
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) {
    indexes_.clear();
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<FeedSource> sources, store_.ListSources());
    std::vector<std::string> versions;
    for (const FeedSource& s : sources) {
      if (s.updated == absl::InfinitePast()) continue;
      versions.push_back(absl::StrCat(s.name, "@", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", s.updated, absl::UTCTimeZone())));
    }
    feed_versions_ = absl::StrJoin(versions, ", ");
    generation_ = generation;
  }
  Entry e;
  e.generation = generation_;
  e.feed_versions = feed_versions_;
  auto it = indexes_.find(ecosystem);
  if (it != indexes_.end()) {
    e.index = it->second;
    return e;
  }
  auto index = std::make_shared<AdvisoryIndex>();
  if (!ecosystem.empty()) {
    PORTUNUS_ASSIGN_OR_RETURN(AdvisoryIndex loaded, store_.LoadIndex({ecosystem}));
    *index = std::move(loaded);
  }
  indexes_[ecosystem] = index;
  e.index = std::move(index);
  return e;
}

absl::StatusOr<ManifestRecord> ImageScanner::Inventory(const std::string& repository,
                                                       const std::string& digest,
                                                       const ParsedManifest& manifest,
                                                       const std::string& platform) {
  std::vector<LayerContent> layers;
  layers.reserve(manifest.layers.size());
  for (const Descriptor& layer : manifest.layers) {
    absl::StatusOr<LayerContent> content = store_.GetLayer(layer.digest);
    if (absl::IsNotFound(content.status())) {
      content = ReadLayerFromSource(blobs_, repository, layer.digest, options_.limits);
      if (!content.ok()) {
        return absl::Status(content.status().code(),
                            absl::StrCat("layer ", layer.digest, ": ", content.status().message()));
      }
      PORTUNUS_RETURN_IF_ERROR(store_.PutLayer(layer.digest, *content));
    }
    if (!content.ok()) return content.status();
    layers.push_back(*std::move(content));
  }
  std::vector<const LayerContent*> ptrs;
  for (const LayerContent& l : layers) ptrs.push_back(&l);
  absl::StatusOr<scanner::Inventory> inv = BuildInventory(ImageFiles::Merge(ptrs), rpm_);
  if (!inv.ok()) return inv.status();

  ManifestRecord record;
  record.digest = digest;
  record.media_type = manifest.media_type;
  record.repository = repository;
  record.platform = platform;
  for (const Descriptor& layer : manifest.layers) record.layers.push_back(layer.digest);
  record.os = inv->os;
  record.ecosystem = EcosystemForOs(inv->os);
  record.packages = std::move(inv->packages);
  record.databases = std::move(inv->databases);
  record.inventoried_at = clock_.Now();
  PORTUNUS_RETURN_IF_ERROR(store_.PutManifest(record));
  return record;
}

absl::StatusOr<std::vector<Finding>> ImageScanner::MatchAndStore(const ManifestRecord& record,
                                                                 bool full_scan) {
  PORTUNUS_ASSIGN_OR_RETURN(AdvisoryCache::Entry advisories, advisories_.Get(record.ecosystem));
  scanner::Inventory inv;
  inv.os = record.os;
  inv.packages = record.packages;
  MatchResult match = Match(inv, *advisories.index);

  ScanSummary s;
  s.digest = record.digest;
  s.status = ScanStatus::kDone;
  s.counts = CountFindings(match.findings);
  s.package_count = static_cast<int64_t>(record.packages.size());
  s.ecosystem = record.ecosystem;
  s.os_name = record.os.pretty_name.empty() ? record.os.id : record.os.pretty_name;
  s.scanner_version = options_.scanner_version;
  s.feed_generation = advisories.generation;
  s.feed_versions = advisories.feed_versions;
  s.matched_at = clock_.Now();
  s.scanned_at = s.matched_at;
  if (!full_scan) {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScanSummary> old, store_.GetSummaries({record.digest}));
    if (!old.empty() && old[0].scanned_at != absl::InfinitePast()) s.scanned_at = old[0].scanned_at;
  }
  PORTUNUS_RETURN_IF_ERROR(store_.PutResult(s, match.findings));
  return std::move(match.findings);
}

absl::Status ImageScanner::Scan(const std::string& repository, const std::string& digest) {
  PORTUNUS_ASSIGN_OR_RETURN(FetchedManifest fetched, manifests_.FetchManifest(repository, digest));
  if (IsValidDigest(digest) && absl::StartsWith(digest, "sha256:") && Sha256Digest(fetched.body) != digest) {
    return absl::InvalidArgumentError(absl::StrCat("manifest content does not match its digest ", digest));
  }
  absl::StatusOr<ParsedManifest> manifest = ParseManifest(fetched.media_type, fetched.body);
  if (!manifest.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest ", digest, ": ", manifest.status().message()));
  }
  if (manifest->kind == ParsedManifest::Kind::kImage) {
    PORTUNUS_ASSIGN_OR_RETURN(ManifestRecord record, Inventory(repository, digest, *manifest, ""));
    return MatchAndStore(record, /*full_scan=*/true).status();
  }

  // An index: every linux platform image (attestations and other artifacts are skipped).
  ManifestRecord index;
  index.digest = digest;
  index.media_type = manifest->media_type;
  index.repository = repository;
  int scanned = 0;
  for (const Descriptor& child : manifest->manifests) {
    if (child.media_type != kOciManifest && child.media_type != kDockerManifest) continue;
    if (!child.os.empty() && child.os != "linux") continue;
    if (++scanned > options_.max_platforms) break;
    PORTUNUS_ASSIGN_OR_RETURN(FetchedManifest sub, manifests_.FetchManifest(repository, child.digest));
    if (Sha256Digest(sub.body) != child.digest && absl::StartsWith(child.digest, "sha256:")) {
      return absl::InvalidArgumentError(absl::StrCat("manifest content does not match its digest ", child.digest));
    }
    absl::StatusOr<ParsedManifest> parsed = ParseManifest(sub.media_type, sub.body);
    if (!parsed.ok()) {
      if (absl::StrContains(parsed.status().message(), "not a container image")) continue;
      return absl::InvalidArgumentError(absl::StrCat("manifest ", child.digest, ": ", parsed.status().message()));
    }
    if (parsed->kind != ParsedManifest::Kind::kImage) continue;  // nested indexes are not followed
    const std::string platform = absl::StrCat(child.os.empty() ? "linux" : child.os, "/", child.architecture,
                                              child.variant.empty() ? "" : "/", child.variant);
    PORTUNUS_ASSIGN_OR_RETURN(ManifestRecord record, Inventory(repository, child.digest, *parsed, platform));
    PORTUNUS_RETURN_IF_ERROR(MatchAndStore(record, /*full_scan=*/true).status());
    index.children.push_back(child.digest);
  }
  if (index.children.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("index ", digest, " has no linux container image"));
  }
  index.inventoried_at = clock_.Now();
  PORTUNUS_RETURN_IF_ERROR(store_.PutManifest(index));
  return AggregateIndex(digest);
}

absl::Status ImageScanner::AggregateIndex(const std::string& index_digest) {
  PORTUNUS_ASSIGN_OR_RETURN(ManifestRecord index, store_.GetManifest(index_digest));
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Finding> merged;
  std::set<std::tuple<std::string, std::string, std::string>> packages;
  ScanSummary s;
  s.digest = index_digest;
  s.status = ScanStatus::kDone;
  s.scanned_at = absl::InfinitePast();
  s.matched_at = absl::InfinitePast();
  for (const std::string& child : index.children) {
    PORTUNUS_ASSIGN_OR_RETURN(ManifestRecord record, store_.GetManifest(child));
    for (const Package& p : record.packages) packages.emplace(p.name, p.version, p.arch);
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<Finding> findings, store_.GetFindings(child));
    for (Finding& f : findings) {
      merged.emplace(std::make_tuple(f.vuln_id, f.package, f.arch, f.installed_version), std::move(f));
    }
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScanSummary> cs, store_.GetSummaries({child}));
    if (!cs.empty()) {
      s.ecosystem = s.ecosystem.empty() ? cs[0].ecosystem : s.ecosystem;
      s.os_name = s.os_name.empty() ? cs[0].os_name : s.os_name;
      s.scanner_version = cs[0].scanner_version;
      s.feed_generation = std::max(s.feed_generation, cs[0].feed_generation);
      s.feed_versions = cs[0].feed_versions;
      s.scanned_at = std::max(s.scanned_at, cs[0].scanned_at);
      s.matched_at = std::max(s.matched_at, cs[0].matched_at);
    }
  }
  std::vector<Finding> findings;
  for (auto& [key, f] : merged) findings.push_back(std::move(f));
  SortFindings(&findings);
  s.counts = CountFindings(findings);
  s.package_count = static_cast<int64_t>(packages.size());
  return store_.PutResult(s, findings);
}

absl::StatusOr<std::vector<std::string>> ImageScanner::Rematch(const ManifestRecord& record) {
  absl::StatusOr<std::vector<Finding>> before = store_.GetFindings(record.digest);
  if (!before.ok() && !absl::IsNotFound(before.status())) return before.status();
  std::set<std::string> old_ids;
  if (before.ok()) {
    for (const Finding& f : *before) old_ids.insert(f.vuln_id);
  }
  PORTUNUS_ASSIGN_OR_RETURN(std::vector<Finding> after, MatchAndStore(record, /*full_scan=*/false));
  std::set<std::string> gained;
  for (const Finding& f : after) {
    if (!old_ids.count(f.vuln_id)) gained.insert(f.vuln_id);
  }
  return std::vector<std::string>(gained.begin(), gained.end());
}

absl::StatusOr<std::vector<RematchChange>> ImageScanner::RematchAll() {
  std::vector<RematchChange> changes;
  std::set<std::string> indexes;
  int64_t generation = 0;
  std::string after;
  for (;;) {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ManifestRecord> page, store_.ListImageManifests(after, 200));
    if (page.empty()) break;
    for (const ManifestRecord& record : page) {
      PORTUNUS_ASSIGN_OR_RETURN(std::vector<std::string> gained, Rematch(record));
      PORTUNUS_ASSIGN_OR_RETURN(std::vector<std::string> parents, store_.IndexesContaining(record.digest));
      indexes.insert(parents.begin(), parents.end());
      if (!gained.empty()) changes.push_back({record.digest, std::move(gained)});
    }
    after = page.back().digest;
  }
  // An index gains what its platform images gained.
  std::map<std::string, std::set<std::string>> index_gains;
  for (const RematchChange& c : changes) {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<std::string> parents, store_.IndexesContaining(c.digest));
    for (const std::string& p : parents) index_gains[p].insert(c.gained.begin(), c.gained.end());
  }
  for (const std::string& index : indexes) PORTUNUS_RETURN_IF_ERROR(AggregateIndex(index));
  for (auto& [digest, ids] : index_gains) {
    changes.push_back({digest, std::vector<std::string>(ids.begin(), ids.end())});
  }
  PORTUNUS_ASSIGN_OR_RETURN(AdvisoryCache::Entry e, advisories_.Get(""));
  generation = e.generation;
  PORTUNUS_RETURN_IF_ERROR(store_.RecordRematchChanges(generation, changes));
  return changes;
}

}  // namespace portunus::scanner
