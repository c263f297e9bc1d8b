#include "services/scanner/harbor_adapter.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/registry_client.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"
#include "services/scanner/advisory.h"

namespace portunus::scanner {
namespace {

using nlohmann::json;

constexpr char kHarborVulnReportMime11[] = "application/vnd.security.vulnerability.report; version=1.1";
constexpr char kScanPrefix[] = "/api/v1/scan/";
constexpr char kReportSuffix[] = "/report";
constexpr int64_t kReportPage = 1000;

const std::vector<std::string>& ConsumedMimeTypes() {
  static const auto* const kTypes = new std::vector<std::string>{
      kMediaTypeOciManifest, kMediaTypeDockerManifest, kMediaTypeOciIndex, kMediaTypeDockerManifestList};
  return *kTypes;
}

HttpResponse Error(int status, absl::string_view message, absl::string_view field = "") {
  json e = {{"message", std::string(message)}};
  if (!field.empty()) e["field"] = std::string(field);
  return HttpResponse(status, kHarborErrorMime, json{{"error", e}}.dump());
}

HttpResponse ErrorFor(const absl::Status& s) {
  const std::string field = ErrorField(s);
  if (!field.empty()) return Error(422, s.message(), field);
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return Error(400, s.message());
    case absl::StatusCode::kUnimplemented:
      return Error(501, s.message());
    case absl::StatusCode::kNotFound:
      return Error(404, s.message());
    default:
      LogError("harbor adapter: internal error", {{"error", s}});
      return Error(500, "internal error");
  }
}

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", t, absl::UTCTimeZone()); }

// A string member of `obj` at `path`: "" when absent or null; InvalidFieldError when not a string.
absl::StatusOr<std::string> StringField(const json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidFieldError(path, "must be a string");
  return it->get<std::string>();
}

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Constant-time comparison of secrets.
bool SecretEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The report MIME type to answer for an Accept header; "" when none we produce is acceptable.
std::string ReportMimeFor(absl::string_view accept) {
  if (accept.empty()) return kHarborVulnReportMime;
  for (absl::string_view item : absl::StrSplit(accept, ',')) {
    std::vector<std::string> parts = absl::StrSplit(item, ';');
    std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    std::string version;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string p = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[i]));
      if (absl::StartsWith(p, "version=")) version = p.substr(8);
    }
    if (type == "application/vnd.scanner.adapter.vuln.report.harbor+json" && (version.empty() || version == "1.0")) {
      return kHarborVulnReportMime;
    }
    if (type == "application/vnd.security.vulnerability.report" && (version.empty() || version == "1.1")) {
      return kHarborVulnReportMime11;
    }
    if (type == "*/*" || type == "application/*" || type == "application/json") return kHarborVulnReportMime;
  }
  return "";
}

}  // namespace

void BindHarborAdapterConfig(ConfigBinder* b, HarborAdapterConfig* c) {
  b->String("scanner.harbor_adapter.listen", &c->listen, "",
            "serve the Harbor Scanner Adapter API v1.2 on this host:port (\"\" = off)");
  b->String("scanner.harbor_adapter.token", &c->token, "",
            "bearer token Harbor must send (its scanner registration's \"Bearer\" credential); \"\" = none")
      .Secret();
  b->String("scanner.harbor_adapter.tls_cert_file", &c->tls_cert_file, "",
            "PEM certificate chain: serve the adapter over HTTPS (with tls_key_file)");
  b->String("scanner.harbor_adapter.tls_key_file", &c->tls_key_file, "", "PEM private key for tls_cert_file");
  b->Bool("scanner.harbor_adapter.registry_tls_verify", &c->registry_tls_verify, true,
          "verify the TLS certificate of the registry Harbor names in a scan request");
  b->String("scanner.harbor_adapter.registry_ca_file", &c->registry_ca_file, "",
            "extra CA bundle for the registries Harbor names (\"\" = the system's)");
  b->Int("scanner.harbor_adapter.workers", &c->workers, 2, "Harbor scans run at once").Range(1, 64);
  b->Duration("scanner.harbor_adapter.refresh_after", &c->refresh_after, absl::Seconds(5),
              "Refresh-After sent with 302 while a scan runs")
      .Range(1000, 3600000);
  b->Int("scanner.harbor_adapter.max_scans", &c->max_scans, 10000,
         "scan ids remembered (the oldest finished ones are forgotten first)")
      .Range(10, 10000000);
}

absl::StatusOr<HarborScanRequest> ParseHarborScanRequest(absl::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("request body is not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError("request body must be a JSON object");
  HarborScanRequest out;

  auto reg = j.find("registry");
  if (reg == j.end() || reg->is_null()) return InvalidFieldError("registry", "is required");
  if (!reg->is_object()) return InvalidFieldError("registry", "must be an object");
  PORTUNUS_ASSIGN_OR_RETURN(out.registry_url, StringField(*reg, "url", "registry.url"));
  if (out.registry_url.empty()) return InvalidFieldError("registry.url", "is required");
  {
    const std::string lower = absl::AsciiStrToLower(out.registry_url);
    const bool http = absl::StartsWith(lower, "http://"), https = absl::StartsWith(lower, "https://");
    const size_t host_at = http ? 7 : 8;
    if ((!http && !https) || out.registry_url.size() <= host_at || out.registry_url[host_at] == '/' ||
        HasControl(out.registry_url) || absl::StrContains(out.registry_url, ' ') ||
        absl::StrContains(out.registry_url, '?') || absl::StrContains(out.registry_url, '#') ||
        out.registry_url.size() > 2048) {
      return InvalidFieldError("registry.url", "must be an http(s) URL of a Docker Registry v2 API");
    }
    while (absl::EndsWith(out.registry_url, "/")) out.registry_url.pop_back();
  }
  PORTUNUS_ASSIGN_OR_RETURN(out.authorization, StringField(*reg, "authorization", "registry.authorization"));
  if (!out.authorization.empty()) {
    const std::string lower = absl::AsciiStrToLower(out.authorization);
    if ((!absl::StartsWith(lower, "basic ") && !absl::StartsWith(lower, "bearer ")) ||
        HasControl(out.authorization) || out.authorization.size() > 16384) {
      return InvalidFieldError("registry.authorization", "must be \"Basic <credentials>\" or \"Bearer <token>\"");
    }
  }

  auto art = j.find("artifact");
  if (art == j.end() || art->is_null()) return InvalidFieldError("artifact", "is required");
  if (!art->is_object()) return InvalidFieldError("artifact", "must be an object");
  PORTUNUS_ASSIGN_OR_RETURN(out.repository, StringField(*art, "repository", "artifact.repository"));
  if (out.repository.empty()) return InvalidFieldError("artifact.repository", "is required");
  if (!IsValidRepositoryName(out.repository)) {
    return InvalidFieldError("artifact.repository", "must be a repository name such as library/mongo");
  }
  PORTUNUS_ASSIGN_OR_RETURN(out.digest, StringField(*art, "digest", "artifact.digest"));
  if (out.digest.empty()) return InvalidFieldError("artifact.digest", "is required");
  if (!IsValidDigest(out.digest)) {
    return InvalidFieldError("artifact.digest", "must be \"sha256:\" followed by 64 lower-case hex digits");
  }
  PORTUNUS_ASSIGN_OR_RETURN(out.tag, StringField(*art, "tag", "artifact.tag"));
  if (!out.tag.empty() && !IsValidTag(out.tag)) return InvalidFieldError("artifact.tag", "is not a valid tag");
  PORTUNUS_ASSIGN_OR_RETURN(out.mime_type, StringField(*art, "mime_type", "artifact.mime_type"));
  if (!out.mime_type.empty()) {
    const std::vector<std::string>& ok = ConsumedMimeTypes();
    if (std::find(ok.begin(), ok.end(), out.mime_type) == ok.end()) {
      return absl::UnimplementedError(absl::StrCat("artifact.mime_type \"", out.mime_type.substr(0, 200),
                                                   "\" cannot be scanned: only container image manifests"));
    }
  }

  auto caps = j.find("enabled_capabilities");
  if (caps != j.end() && !caps->is_null()) {
    if (!caps->is_array()) return InvalidFieldError("enabled_capabilities", "must be an array");
    bool vulnerability = caps->empty();
    for (size_t i = 0; i < caps->size(); ++i) {
      const json& c = (*caps)[i];
      const std::string path = absl::StrCat("enabled_capabilities[", i, "].type");
      if (!c.is_object()) return InvalidFieldError(absl::StrCat("enabled_capabilities[", i, "]"), "must be an object");
      PORTUNUS_ASSIGN_OR_RETURN(std::string type, StringField(c, "type", path));
      if (type.empty()) return InvalidFieldError(path, "is required");
      if (type == "vulnerability") vulnerability = true;
    }
    if (!vulnerability) return absl::UnimplementedError("this scanner has only the vulnerability capability");
  }
  return out;
}

HarborAdapter::HarborAdapter(Options options, HarborScanRunner& runner, ScannerApi& api, WorkerPool& workers,
                             Clock& clock)
    : options_(std::move(options)), runner_(runner), api_(api), workers_(workers), clock_(clock) {}

std::string HarborAdapter::NewId() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          (static_cast<uint64_t>(std::random_device{}()) << 32)};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
           static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
           static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

void HarborAdapter::Handle(HttpRequest&& req, HttpResponder respond) {
  auto with_id = [&req](HttpResponse r) {
    r.SetHeader("X-Request-Id", req.request_id);
    return r;
  };
  if (!options_.token.empty()) {
    const std::string auth = req.Header("authorization");
    const bool bearer = auth.size() > 7 && absl::EqualsIgnoreCase(auth.substr(0, 7), "bearer ");
    if (!bearer || !SecretEquals(absl::StripAsciiWhitespace(auth.substr(7)), options_.token)) {
      HttpResponse r = Error(401, auth.empty() ? "authentication required" : "invalid credentials");
      r.SetHeader("WWW-Authenticate", "Bearer");
      return respond(with_id(std::move(r)));
    }
  }
  const std::string& path = req.path;
  auto method_not_allowed = [&](const char* allow) {
    HttpResponse r = Error(405, absl::StrCat("method ", req.method, " not allowed on ", path));
    r.SetHeader("Allow", allow);
    return respond(with_id(std::move(r)));
  };
  if (path == "/api/v1/metadata") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET");
    workers_.Schedule([this, respond, rid = req.request_id] {
      HttpResponse r = Metadata();
      r.SetHeader("X-Request-Id", rid);
      respond(std::move(r));
    });
    return;
  }
  if (path == "/api/v1/scan") {
    if (req.method != "POST") return method_not_allowed("POST");
    return respond(with_id(AcceptScan(req)));
  }
  if (absl::StartsWith(path, kScanPrefix) && absl::EndsWith(path, kReportSuffix) &&
      path.size() > sizeof(kScanPrefix) - 1 + sizeof(kReportSuffix) - 1) {
    std::string id = path.substr(sizeof(kScanPrefix) - 1, path.size() - (sizeof(kScanPrefix) - 1) -
                                                              (sizeof(kReportSuffix) - 1));
    if (req.method != "GET") return method_not_allowed("GET");
    const std::string mime = ReportMimeFor(req.Header("accept"));
    if (mime.empty()) {
      return respond(with_id(Error(501, absl::StrCat("reports are produced as ", kHarborVulnReportMime, " or ",
                                                     kHarborVulnReportMime11))));
    }
    std::string decoded;
    if (!PercentDecode(id, false, &decoded) || decoded.find('/') != std::string::npos) decoded.clear();
    Report(decoded, req.request_id, [respond, mime, rid = req.request_id](HttpResponse r) {
      if (r.status == 200) r.SetHeader("Content-Type", mime);
      r.SetHeader("X-Request-Id", rid);
      respond(std::move(r));
    });
    return;
  }
  respond(with_id(Error(404, absl::StrCat("no such endpoint: ", path.substr(0, 200)))));
}

HttpResponse HarborAdapter::Metadata() const {
  json props = {{"harbor.scanner-adapter/scanner-type", "os-package-vulnerability"},
                {"org.portunus.package-types", "dpkg,apk,rpm"}};
  absl::StatusOr<VulnDbStatus> st = api_.Status();
  if (st.ok()) {
    absl::Time latest = absl::InfinitePast();
    for (const FeedSource& s : st->sources) latest = std::max(latest, s.updated);
    if (latest != absl::InfinitePast()) {
      props["harbor.scanner-adapter/vulnerability-database-updated-at"] = Rfc3339(latest);
    }
    props["org.portunus.vulnerability-database-generation"] = std::to_string(st->generation);
  } else {
    LogWarn("harbor adapter: vulnerability database status unavailable", {{"error", st.status()}});
  }
  json meta = {
      {"scanner", {{"name", "Portunus"}, {"vendor", "Portunus"}, {"version", options_.scanner_version}}},
      {"capabilities",
       json::array({{{"type", "vulnerability"},
                     {"consumes_mime_types", ConsumedMimeTypes()},
                     {"produces_mime_types", {kHarborVulnReportMime, kHarborVulnReportMime11}}}})},
      {"properties", props}};
  return HttpResponse(200, kHarborMetadataMime, meta.dump());
}

HttpResponse HarborAdapter::AcceptScan(const HttpRequest& req) {
  absl::StatusOr<HarborScanRequest> parsed = ParseHarborScanRequest(req.body);
  if (!parsed.ok()) return ErrorFor(parsed.status());
  const std::string id = NewId();
  {
    absl::MutexLock lock(&mu_);
    // Forget the oldest finished scans beyond max_scans (a running one is never forgotten).
    while (scans_.size() >= options_.max_scans && !order_.empty()) {
      auto it = scans_.find(order_.front());
      if (it != scans_.end() && (it->second.state == State::kQueued || it->second.state == State::kRunning)) break;
      if (it != scans_.end()) scans_.erase(it);
      order_.pop_front();
    }
    if (scans_.size() >= options_.max_scans) {
      return Error(503, "too many scans in progress; retry later");
    }
    Entry e;
    e.request = *std::move(parsed);
    e.accepted_at = clock_.Now();
    scans_.emplace(id, std::move(e));
    order_.push_back(id);
  }
  LogInfo("harbor scan accepted", {{"id", id}, {"request_id", req.request_id}});
  workers_.Schedule([this, id] { RunScan(id); });
  return HttpResponse(202, kHarborScanResponseMime, json{{"id", id}}.dump());
}

void HarborAdapter::Stop() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
}

void HarborAdapter::RunScan(const std::string& id) {
  HarborScanRequest request;
  {
    absl::MutexLock lock(&mu_);
    auto it = scans_.find(id);
    if (it == scans_.end()) return;
    if (stopping_) {
      it->second.state = State::kFailed;
      it->second.error = "the scanner is shutting down";
      return;
    }
    it->second.state = State::kRunning;
    request = it->second.request;
  }
  absl::Status s = runner_.Scan(request);
  absl::MutexLock lock(&mu_);
  auto it = scans_.find(id);
  if (it == scans_.end()) return;
  it->second.state = s.ok() ? State::kDone : State::kFailed;
  if (!s.ok()) {
    it->second.error = std::string(s.message());
    LogWarn("harbor scan failed", {{"id", id}, {"repository", request.repository},
                                   {"digest", request.digest}, {"error", s}});
  }
  it->second.request.authorization.clear();  // credentials are not kept beyond the scan
}

void HarborAdapter::Report(const std::string& id, const std::string& request_id, HttpResponder respond) {
  Entry entry;
  {
    absl::MutexLock lock(&mu_);
    auto it = id.empty() ? scans_.end() : scans_.find(id);
    if (it == scans_.end()) return respond(Error(404, "no scan request with this id"));
    entry = it->second;
  }
  if (entry.state == State::kQueued || entry.state == State::kRunning) {
    HttpResponse r(302);
    r.SetHeader("Refresh-After", std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(options_.refresh_after))));
    return respond(std::move(r));
  }
  if (entry.state == State::kFailed) return respond(Error(500, absl::StrCat("scan failed: ", entry.error)));
  workers_.Schedule([this, entry, request_id, respond] { respond(BuildReport(entry, request_id)); });
}

HttpResponse HarborAdapter::BuildReport(const Entry& entry, const std::string&) {
  const HarborScanRequest& a = entry.request;
  json vulns = json::array();
  Severity worst = Severity::kUnknown;
  absl::Time generated = clock_.Now();
  ResultPageRequest page;
  page.digest = a.digest;
  page.limit = kReportPage;
  for (;;) {
    absl::StatusOr<DetailedResult> r = api_.GetResult(page, /*include_packages=*/false);
    if (!r.ok()) {
      if (absl::IsNotFound(r.status())) return Error(500, "the scan stored no result");
      return ErrorFor(r.status());
    }
    if (page.offset == 0 && r->page.summary.matched_at != absl::InfinitePast()) {
      generated = r->page.summary.matched_at;
    }
    for (const Finding& f : r->page.findings) {
      worst = std::max(worst, f.severity);
      json v = {{"id", f.vuln_id},
                {"package", f.package},
                {"version", f.installed_version},
                {"fix_version", f.fixed_version},
                {"severity", std::string(SeverityName(f.severity))},
                {"description", ""},
                {"links", json::array()}};
      auto d = r->details.find(f.vuln_id);
      if (d != r->details.end()) {
        v["description"] = d->second.description.empty() ? d->second.summary : d->second.description;
        v["links"] = d->second.links;
        if (!d->second.cvss_vector.empty()) v["preferred_cvss"] = {{"vector_v3", d->second.cvss_vector}};
      }
      v["vendor_attributes"] = {{"source_package", f.source_package}, {"arch", f.arch}};
      vulns.push_back(std::move(v));
    }
    page.offset += static_cast<int64_t>(r->page.findings.size());
    if (r->page.findings.empty() || page.offset >= r->page.total) break;
  }
  json artifact = {{"repository", a.repository}, {"digest", a.digest}};
  if (!a.tag.empty()) artifact["tag"] = a.tag;
  if (!a.mime_type.empty()) artifact["mime_type"] = a.mime_type;
  json report = {{"generated_at", Rfc3339(generated)},
                 {"artifact", artifact},
                 {"scanner", {{"name", "Portunus"}, {"vendor", "Portunus"}, {"version", options_.scanner_version}}},
                 {"severity", std::string(SeverityName(worst))},
                 {"vulnerabilities", std::move(vulns)}};
  return HttpResponse(200, kHarborVulnReportMime, report.dump());
}

}  // namespace portunus::scanner
