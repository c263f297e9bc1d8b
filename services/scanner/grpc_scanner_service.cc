#include "services/scanner/grpc_scanner_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/grpc_handler.h"
#include "services/common/request_context.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::scanner {
namespace {

v1::ScanStatus ToProto(ScanStatus s) {
  switch (s) {
    case ScanStatus::kNone:
      return v1::SCAN_STATUS_NONE;
    case ScanStatus::kWorking:
      return v1::SCAN_STATUS_WORKING;
    case ScanStatus::kDone:
      return v1::SCAN_STATUS_DONE;
    case ScanStatus::kFailed:
      return v1::SCAN_STATUS_FAILED;
  }
  return v1::SCAN_STATUS_NONE;
}

absl::StatusOr<Severity> FromProto(int s, absl::string_view field) {
  if (s < 0 || s >= kSeverityCount) return InvalidFieldError(field, "unknown severity");
  return static_cast<Severity>(s);
}

}  // namespace

absl::Status RequireAdminCaller(const grpc::ServerContextBase& ctx, CallerAuthenticator& authenticator,
                                absl::Duration timeout, const std::string& request_id, absl::string_view what) {
  CallerCredentials credentials{MetadataValue(ctx, kAuthorizationMetadata), MetadataValue(ctx, kPortusAuthMetadata)};
  absl::StatusOr<Caller> caller = authenticator.Authenticate(credentials, timeout, request_id);
  if (!caller.ok()) return caller.status();
  return RequireAdmin(*caller, what);
}

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

void ToProto(const ScanSummary& s, v1::ScanSummary* out) {
  out->set_digest(s.digest);
  out->set_status(ToProto(s.status));
  out->set_error(s.error);
  v1::SeverityCounts* c = out->mutable_counts();
  c->set_unknown(s.counts[0]);
  c->set_negligible(s.counts[1]);
  c->set_low(s.counts[2]);
  c->set_medium(s.counts[3]);
  c->set_high(s.counts[4]);
  c->set_critical(s.counts[5]);
  int64_t total = 0;
  for (int64_t n : s.counts) total += n;
  c->set_total(total);
  out->set_package_count(s.package_count);
  out->set_os(s.os_name);
  out->set_ecosystem(s.ecosystem);
  out->set_scanner_version(s.scanner_version);
  out->set_feed_generation(s.feed_generation);
  out->set_feed_versions(s.feed_versions);
  out->set_scanned_at(Rfc3339(s.scanned_at));
  out->set_matched_at(Rfc3339(s.matched_at));
}

void ToProto(const FeedSource& s, v1::FeedSource* out) {
  out->set_name(s.name);
  out->set_format(std::string(FeedFormatName(s.format)));
  out->set_location(s.location);
  out->set_updated_at(Rfc3339(s.updated));
  out->set_vulnerabilities(s.vulnerabilities);
  out->set_affected(s.affected);
  out->set_last_error(s.last_error);
  out->set_last_attempt_at(Rfc3339(s.last_attempt));
}

grpc::ServerUnaryReactor* GrpcScannerService::EnqueueScan(grpc::CallbackServerContext* ctx,
                                                          const v1::EnqueueScanRequest* req,
                                                          v1::EnqueueScanResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, ctx, req, resp](const std::string& request_id) -> absl::Status {
    PORTUNUS_RETURN_IF_ERROR(
        RequireAdminCaller(*ctx, authenticator_, runtime_.common.rpc_timeout, request_id, "queueing a scan"));
    absl::StatusOr<EnqueueOutcome> out = api_.Enqueue(req->repository(), req->digest(), req->force());
    if (!out.ok()) return out.status();
    resp->set_queued(out->queued);
    resp->set_job_id(out->job_id);
    resp->set_status(ToProto(out->status));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcScannerService::RescanAll(grpc::CallbackServerContext* ctx,
                                                        const v1::RescanAllRequest*,
                                                        v1::RescanAllResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, ctx, resp](const std::string& request_id) -> absl::Status {
    PORTUNUS_RETURN_IF_ERROR(RequireAdminCaller(*ctx, authenticator_, runtime_.common.rpc_timeout, request_id,
                                                "rescanning every image"));
    absl::StatusOr<int64_t> n = api_.RescanAll();
    if (!n.ok()) return n.status();
    resp->set_queued(*n);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcScannerService::GetScanResult(grpc::CallbackServerContext* ctx,
                                                            const v1::GetScanResultRequest* req,
                                                            v1::GetScanResultResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, req, resp](const std::string&) -> absl::Status {
    ResultPageRequest r;
    r.digest = req->digest();
    absl::StatusOr<Severity> min = FromProto(req->min_severity(), "min_severity");
    if (!min.ok()) return min.status();
    r.min_severity = *min;
    for (int s : req->severities()) {
      absl::StatusOr<Severity> sev = FromProto(s, "severities");
      if (!sev.ok()) return sev.status();
      r.severities.push_back(*sev);
    }
    const int32_t page = req->page() == 0 ? 1 : req->page();
    const int32_t per_page = req->per_page() == 0 ? 100 : req->per_page();
    if (page < 1) return InvalidFieldError("page", "must be at least 1");
    r.limit = per_page;
    r.offset = static_cast<int64_t>(page - 1) * per_page;
    absl::StatusOr<DetailedResult> out = api_.GetResult(r, req->include_packages());
    if (!out.ok()) return out.status();
    ToProto(out->page.summary, resp->mutable_summary());
    resp->set_total(out->page.total);
    resp->set_page(page);
    resp->set_per_page(per_page);
    for (const Finding& f : out->page.findings) {
      v1::Vulnerability* v = resp->add_vulnerabilities();
      v->set_id(f.vuln_id);
      v->set_severity(static_cast<v1::Severity>(f.severity));
      v->set_package(f.package);
      v->set_installed_version(f.installed_version);
      v->set_fixed_version(f.fixed_version);
      v->set_source_package(f.source_package);
      v->set_package_type(std::string(PackageFormatName(f.format)));
      v->set_arch(f.arch);
      auto it = out->details.find(f.vuln_id);
      if (it != out->details.end()) {
        v->set_summary(it->second.summary);
        v->set_description(it->second.description);
        for (const std::string& l : it->second.links) v->add_links(l);
        v->set_cvss_vector(it->second.cvss_vector);
        for (const std::string& a : it->second.aliases) v->add_aliases(a);
      }
    }
    for (const Package& p : out->packages) {
      v1::Package* pp = resp->add_packages();
      pp->set_name(p.name);
      pp->set_version(p.version);
      pp->set_arch(p.arch);
      pp->set_source_name(p.source_name);
      pp->set_source_version(p.source_version);
      pp->set_type(std::string(PackageFormatName(p.format)));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcScannerService::GetScanSummaries(grpc::CallbackServerContext* ctx,
                                                               const v1::GetScanSummariesRequest* req,
                                                               v1::GetScanSummariesResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, req, resp](const std::string&) -> absl::Status {
    std::vector<std::string> digests(req->digests().begin(), req->digests().end());
    absl::StatusOr<std::vector<ScanSummary>> out = api_.Summaries(digests);
    if (!out.ok()) return out.status();
    for (const ScanSummary& s : *out) ToProto(s, resp->add_summaries());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcVulnDbService::GetVulnDbStatus(grpc::CallbackServerContext* ctx,
                                                             const v1::GetVulnDbStatusRequest*,
                                                             v1::GetVulnDbStatusResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, resp](const std::string&) -> absl::Status {
    absl::StatusOr<VulnDbStatus> s = api_.Status();
    if (!s.ok()) return s.status();
    for (const FeedSource& src : s->sources) ToProto(src, resp->add_sources());
    resp->set_generation(s->generation);
    resp->set_pending_jobs(s->pending_jobs);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcVulnDbService::ImportVulnDb(grpc::CallbackServerContext* ctx,
                                                          const v1::ImportVulnDbRequest* req,
                                                          v1::ImportVulnDbResponse* resp) {
  return RunOnWorkers(ctx, runtime_, [this, ctx, req, resp](const std::string& request_id) -> absl::Status {
    PORTUNUS_RETURN_IF_ERROR(RequireAdminCaller(*ctx, authenticator_, runtime_.common.rpc_timeout, request_id,
                                                "importing vulnerability data"));
    ImportRequest r;
    r.location = req->location();
    if (!req->format().empty() && !ParseFeedFormat(req->format(), &r.format)) {
      return InvalidFieldError("format", "must be auto, osv, debian or alpine");
    }
    r.source_name = req->source_name();
    r.force = req->force();
    absl::StatusOr<ImportOutcome> out = api_.Import(r);
    if (!out.ok()) return out.status();
    for (const std::string& s : out->summary.sources) resp->add_sources(s);
    resp->set_documents(out->summary.documents);
    resp->set_vulnerabilities(out->summary.vulnerabilities);
    resp->set_affected(out->summary.affected);
    resp->set_withdrawn(out->summary.withdrawn);
    resp->set_skipped(out->summary.skipped);
    resp->set_unchanged(out->summary.unchanged);
    resp->set_generation(out->summary.generation);
    resp->set_seconds(absl::ToDoubleSeconds(out->summary.took));
    resp->set_rematch_queued(out->rematch_queued);
    return absl::OkStatus();
  });
}

}  // namespace portunus::scanner
