#include "services/gateway/scan_annotations.h"

#include <atomic>
#include <mutex>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/gateway/rest.h"

namespace portunus::gateway {
namespace {

namespace sv1 = ::portunus::scanner::v1;
namespace cv1 = ::portunus::catalog::v1;

// A summary whose counts mean something: a finished scan, or a rescan in progress that still
// shows the earlier result.
bool HasResult(const sv1::ScanSummary& s) {
  return s.status() == sv1::SCAN_STATUS_DONE ||
         (s.status() == sv1::SCAN_STATUS_WORKING && !s.scanned_at().empty());
}

void AppendCounts(const sv1::SeverityCounts& c, std::string* out) {
  absl::StrAppend(out, "{\"unknown\":", c.unknown(), ",\"negligible\":", c.negligible(),
                  ",\"low\":", c.low(), ",\"medium\":", c.medium(), ",\"high\":", c.high(),
                  ",\"critical\":", c.critical(), ",\"total\":", c.total(), "}");
}

// Replaces the closing '}' of the object just appended to *out by `,<extra>}`.
void ExtendObject(absl::string_view extra, std::string* out) {
  if (out->empty() || out->back() != '}') return;  // never happens: MessageToJson gives objects
  out->pop_back();
  if (out->back() != '{') out->push_back(',');
  out->append(extra.data(), extra.size());
  out->push_back('}');
}

}  // namespace

ScanInfo ScanInfo::Unavailable() {
  ScanInfo info;
  info.available_ = false;
  return info;
}

void ScanInfo::Add(const sv1::ScanSummary& summary) { (*by_digest_)[summary.digest()] = summary; }

const sv1::ScanSummary* ScanInfo::Find(const std::string& digest) const {
  auto it = by_digest_->find(digest);
  return it == by_digest_->end() ? nullptr : &it->second;
}

void ScanInfo::AppendTagJson(const cv1::Tag& tag, std::string* out) const {
  AppendMessageJson(tag, out);
  const sv1::ScanSummary* s = available_ ? Find(tag.digest()) : nullptr;
  std::string extra = absl::StrCat("\"scanned\":", s ? static_cast<int>(s->status()) : 0,
                                   ",\"vulnerabilities\":");
  if (s != nullptr && HasResult(*s)) {
    AppendCounts(s->counts(), &extra);
  } else {
    extra += "null";
  }
  ExtendObject(extra, out);
}

void ScanInfo::AppendRepositoryCountsJson(const std::vector<std::string>& digests, std::string* out) const {
  if (!available_) {
    out->append("null");
    return;
  }
  sv1::SeverityCounts sum;
  for (const std::string& d : std::set<std::string>(digests.begin(), digests.end())) {
    const sv1::ScanSummary* s = Find(d);
    if (s == nullptr || !HasResult(*s)) continue;
    const sv1::SeverityCounts& c = s->counts();
    sum.set_unknown(sum.unknown() + c.unknown());
    sum.set_negligible(sum.negligible() + c.negligible());
    sum.set_low(sum.low() + c.low());
    sum.set_medium(sum.medium() + c.medium());
    sum.set_high(sum.high() + c.high());
    sum.set_critical(sum.critical() + c.critical());
    sum.set_total(sum.total() + c.total());
  }
  AppendCounts(sum, out);
}

std::string ScanInfo::RepositoryJson(const cv1::Repository& repo, const std::vector<std::string>& digests) const {
  std::string counts;
  AppendRepositoryCountsJson(digests, &counts);
  if (repo.tags_size() == 0) {
    // `digests` (internal: for these counts only) is the last field: printed empty, then cut.
    cv1::Repository shown = repo;
    shown.clear_digests();
    std::string out = MessageToJson(shown);
    constexpr absl::string_view kEmptyDigests = ",\"digests\":[]}";
    if (absl::EndsWith(out, kEmptyDigests)) {
      out.resize(out.size() - kEmptyDigests.size());
      out.push_back('}');
      ExtendObject(absl::StrCat("\"vulnerabilities\":", counts), &out);
      return out;
    }
  }
  // Keep the field order of MessageToJson; only `tags` is replaced by annotated tags.
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(MessageToJson(repo));
  j.erase("digests");  // internal: for these counts only
  j["tags"] = nlohmann::ordered_json::parse(TagsJsonArray(repo.tags()));
  j["vulnerabilities"] = nlohmann::ordered_json::parse(counts);
  return j.dump();
}

void ScanInfo::Mark(HttpResponse* response) const {
  if (!available_) response->SetHeader("X-Portunus-Scanner", "unavailable");
}

void FetchScanInfo(Upstreams& upstreams, const std::shared_ptr<sv1::ScannerService::Stub>& stub,
                   std::vector<std::string> digests, const HttpRequest& from,
                   std::function<void(ScanInfo)> done) {
  std::set<std::string> unique;
  std::vector<std::string> ordered;
  for (std::string& d : digests) {
    if (!d.empty() && unique.insert(d).second) ordered.push_back(std::move(d));
  }
  if (ordered.empty()) return done(ScanInfo());

  std::vector<sv1::GetScanSummariesRequest> calls;
  for (size_t i = 0; i < ordered.size(); i += kMaxSummariesPerCall) {
    sv1::GetScanSummariesRequest rpc;
    for (size_t k = i; k < ordered.size() && k < i + kMaxSummariesPerCall; ++k) rpc.add_digests(ordered[k]);
    calls.push_back(std::move(rpc));
  }
  struct Gather {
    std::mutex mu;
    ScanInfo info;
    absl::Status failure;
    std::atomic<size_t> remaining{0};
    std::function<void(ScanInfo)> done;
  };
  auto g = std::make_shared<Gather>();
  g->remaining = calls.size();
  g->done = std::move(done);
  for (const sv1::GetScanSummariesRequest& rpc : calls) {
    upstreams.Call(*stub, &sv1::ScannerService::Stub::PrepareAsyncGetScanSummaries, rpc, from,
                   [g, rid = from.request_id](absl::Status s, sv1::GetScanSummariesResponse& resp) {
                     {
                       std::lock_guard<std::mutex> lock(g->mu);
                       if (s.ok()) {
                         for (const sv1::ScanSummary& summary : resp.summaries()) g->info.Add(summary);
                       } else if (g->failure.ok()) {
                         g->failure = s;
                       }
                     }
                     if (g->remaining.fetch_sub(1) != 1) return;
                     if (!g->failure.ok()) {
                       LogWarn("scanner unavailable: tags answered without scan results",
                               {{"request_id", rid}, {"error", g->failure}});
                       return g->done(ScanInfo::Unavailable());
                     }
                     g->done(g->info);
                   });
  }
}

}  // namespace portunus::gateway
