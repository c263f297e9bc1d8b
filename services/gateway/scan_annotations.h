// Portus's vulnerability fields on the catalog's answers (issue 7): every tag the REST API
// returns gains `scanned` and `vulnerabilities`, every repository `vulnerabilities`, taken from
// ScannerService.GetScanSummaries in one batched call per answer (never one call per tag).
//
//   scanned          Portus's integer: 0 not scanned, 1 work in progress, 2 done; Portunus adds
//                    3 for a scan that failed. 0 as well when the scanner cannot be asked.
//   vulnerabilities  counts by severity {"unknown","negligible","low","medium","high",
//                    "critical","total"} of the tag's manifest when a result exists (done, or
//                    being rescanned with an earlier result), else null; null too when the
//                    scanner is disabled or unreachable (Portus: "null if the feature is not
//                    enabled"). The details are at GET /api/v1/tags/:id/vulnerabilities.
//   repository.vulnerabilities  the same counts summed over the distinct manifests of its
//                    tags that have a result; null when the scanner cannot be asked.
//
// A scanner that is down, disabled (UNIMPLEMENTED), slow (deadline) or failing never fails the
// catalog answer: it is logged and the answer carries scanned 0 / null plus the response header
// `X-Portunus-Scanner: unavailable`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "portunus/catalog/v1/catalog.pb.h"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/http_server.h"
#include "services/gateway/upstream.h"

namespace portunus::gateway {

// Digests per GetScanSummaries call (the RPC's own limit).
constexpr size_t kMaxSummariesPerCall = 1000;

// What the scanner said about a set of manifest digests. Copyable, immutable.
class ScanInfo {
 public:
  // The scanner could not be asked: every tag answers scanned 0, vulnerabilities null.
  static ScanInfo Unavailable();
  ScanInfo() = default;  // available, knows nothing (no digest asked)
  void Add(const ::portunus::scanner::v1::ScanSummary& summary);

  bool available() const { return available_; }
  // nullptr when the digest is unknown (not asked, or never scanned).
  const ::portunus::scanner::v1::ScanSummary* Find(const std::string& digest) const;

  // Appends `tag`'s JSON (MessageToJson) with "scanned" and "vulnerabilities" added.
  void AppendTagJson(const ::portunus::catalog::v1::Tag& tag, std::string* out) const;
  template <class Tags>
  std::string TagsJsonArray(const Tags& tags) const {
    std::string out = "[";
    bool first = true;
    for (const auto& t : tags) {
      if (!first) out.push_back(',');
      first = false;
      AppendTagJson(t, &out);
    }
    out.push_back(']');
    return out;
  }
  // Appends the counts of the distinct `digests` that have a result, or null (unavailable).
  void AppendRepositoryCountsJson(const std::vector<std::string>& digests, std::string* out) const;
  // `repo`'s JSON with its `tags` annotated and "vulnerabilities" over `digests` added.
  std::string RepositoryJson(const ::portunus::catalog::v1::Repository& repo,
                             const std::vector<std::string>& digests) const;
  // Sets X-Portunus-Scanner: unavailable when !available().
  void Mark(HttpResponse* response) const;

 private:
  bool available_ = true;
  std::shared_ptr<std::unordered_map<std::string, ::portunus::scanner::v1::ScanSummary>> by_digest_ =
      std::make_shared<std::unordered_map<std::string, ::portunus::scanner::v1::ScanSummary>>();
};

// Asks the scanner about `digests` (deduplicated; one call per kMaxSummariesPerCall, made in
// parallel) on behalf of `from`, then runs done(ScanInfo) exactly once, on the CQ thread or
// inline (no digest: inline, without a call). Any failure gives ScanInfo::Unavailable(), logged.
void FetchScanInfo(Upstreams& upstreams,
                   const std::shared_ptr<::portunus::scanner::v1::ScannerService::Stub>& stub,
                   std::vector<std::string> digests, const HttpRequest& from,
                   std::function<void(ScanInfo)> done);

}  // namespace portunus::gateway
