#include "services/scanner/scanner_api.h"

#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"
#include "services/scanner/image_manifest.h"

namespace portunus::scanner {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsValidComponent(absl::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    // A separator: '.', '_', '__' or a run of '-', between alphanumerics.
    size_t j = i;
    if (c[i] == '.') {
      j = i + 1;
    } else if (c[i] == '_') {
      j = i + 1;
      if (j < c.size() && c[j] == '_') ++j;
    } else if (c[i] == '-') {
      while (j < c.size() && c[j] == '-') ++j;
    } else {
      return false;
    }
    if (j >= c.size() || !IsLowerAlnum(c[j])) return false;
    i = j;
  }
  return true;
}

}  // namespace

bool IsValidRepository(absl::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    if (!IsValidComponent(name.substr(start, slash == absl::string_view::npos ? absl::string_view::npos
                                                                               : slash - start))) {
      return false;
    }
    if (slash == absl::string_view::npos) return true;
    start = slash + 1;
  }
}

absl::StatusOr<EnqueueOutcome> ScannerApi::Enqueue(const std::string& repository, const std::string& digest,
                                                   bool force) {
  if (!IsValidRepository(repository)) {
    return InvalidFieldError("repository", "must be a registry repository name such as \"team/app\"");
  }
  if (!IsValidDigest(digest)) {
    return InvalidFieldError("digest", "must be \"sha256:\" followed by 64 lower-case hex digits");
  }
  EnqueueOutcome out;
  if (!force) {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ScanSummary> current, scans_.GetSummaries({digest}));
    if (!current.empty() && current[0].status == ScanStatus::kDone &&
        current[0].scanner_version == options_.scanner_version) {
      out.status = ScanStatus::kDone;
      return out;  // a current result exists: a digest's content never changes
    }
  }
  PORTUNUS_ASSIGN_OR_RETURN(out.job_id, scans_.EnqueueScan(repository, digest, force, absl::InfinitePast()));
  out.queued = true;
  out.status = ScanStatus::kWorking;
  return out;
}

absl::StatusOr<int64_t> ScannerApi::RescanAll() { return scans_.EnqueueRescanAll(); }

absl::StatusOr<DetailedResult> ScannerApi::GetResult(const ResultPageRequest& request, bool include_packages) {
  if (!IsValidDigest(request.digest)) {
    return InvalidFieldError("digest", "must be \"sha256:\" followed by 64 lower-case hex digits");
  }
  if (request.limit < 1 || request.limit > 1000) return InvalidFieldError("per_page", "must be between 1 and 1000");
  if (request.offset < 0) return InvalidFieldError("page", "must be at least 1");
  DetailedResult out;
  PORTUNUS_ASSIGN_OR_RETURN(out.page, scans_.GetResults(request));
  std::vector<std::string> ids;
  for (const Finding& f : out.page.findings) ids.push_back(f.vuln_id);
  if (!ids.empty()) {
    PORTUNUS_ASSIGN_OR_RETURN(out.details, advisories_.GetVulnerabilities(ids));
  }
  if (include_packages) {
    absl::StatusOr<ManifestRecord> m = scans_.GetManifest(request.digest);
    if (m.ok()) {
      std::vector<std::string> digests = m->children.empty() ? std::vector<std::string>{m->digest} : m->children;
      std::set<std::tuple<std::string, std::string, std::string>> seen;
      for (const std::string& d : digests) {
        absl::StatusOr<ManifestRecord> r = d == m->digest ? m : scans_.GetManifest(d);
        if (!r.ok()) continue;
        for (const Package& p : r->packages) {
          if (seen.emplace(p.name, p.version, p.arch).second) out.packages.push_back(p);
        }
      }
    } else if (!absl::IsNotFound(m.status())) {
      return m.status();
    }
  }
  return out;
}

absl::StatusOr<std::vector<ScanSummary>> ScannerApi::Summaries(const std::vector<std::string>& digests) {
  if (digests.size() > kMaxSummaryDigests) {
    return InvalidFieldError("digests", absl::StrCat("at most ", kMaxSummaryDigests, " per call"));
  }
  for (const std::string& d : digests) {
    if (!IsValidDigest(d)) return InvalidFieldError("digests", absl::StrCat("\"", d.substr(0, 80), "\" is not a digest"));
  }
  if (digests.empty()) return std::vector<ScanSummary>();
  return scans_.GetSummaries(digests);
}

absl::StatusOr<VulnDbStatus> ScannerApi::Status() {
  VulnDbStatus s;
  PORTUNUS_ASSIGN_OR_RETURN(s.sources, advisories_.ListSources());
  PORTUNUS_ASSIGN_OR_RETURN(s.generation, advisories_.Generation());
  PORTUNUS_ASSIGN_OR_RETURN(s.pending_jobs, scans_.PendingJobs());
  return s;
}

absl::StatusOr<ImportOutcome> ScannerApi::Import(const ImportRequest& request, const ImportProgressFn& progress) {
  if (importer_ == nullptr) return absl::FailedPreconditionError("imports are not configured on this scanner");
  if (request.location.empty()) return InvalidFieldError("location", "a path or an http(s) URL is required");
  std::lock_guard<std::mutex> lock(import_mu_);
  ImportOutcome out;
  PORTUNUS_ASSIGN_OR_RETURN(out.summary, importer_->Import(request, progress));
  if (!out.summary.unchanged) {
    PORTUNUS_RETURN_IF_ERROR(scans_.EnqueueRematch().status());
    out.rematch_queued = true;
  }
  return out;
}

}  // namespace portunus::scanner
