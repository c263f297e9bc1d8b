// Vulnerability routes (issue 7), Portus's API over the scanner (portunus.scanner.v1) and, for
// tag ids, the catalog (portunus.catalog.v1):
//   POST /api/v1/vulnerabilities           rescan every image (admin): 202 {"queued": n}
//   POST /api/v1/vulnerabilities/:tag_id   rescan the tag's manifest (admin): 202
//   GET  /api/v1/tags/:id/vulnerabilities  the tag's vulnerabilities, paged (page, per_page),
//                                          filtered by ?severity=high,critical
// The caller's credentials travel with every call: the catalog answers 404 for a tag the caller
// may not pull (so the vulnerabilities of a hidden tag are never shown), and the scanner decides
// that only administrators may queue scans (401 without credentials, 403 for others).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/status_mapping.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace sv1 = ::portunus::scanner::v1;
namespace cv1 = ::portunus::catalog::v1;
using Json = nlohmann::ordered_json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// "High", as Portus/Clair named severities.
std::string SeverityName(sv1::Severity s) {
  switch (s) {
    case sv1::SEVERITY_NEGLIGIBLE:
      return "Negligible";
    case sv1::SEVERITY_LOW:
      return "Low";
    case sv1::SEVERITY_MEDIUM:
      return "Medium";
    case sv1::SEVERITY_HIGH:
      return "High";
    case sv1::SEVERITY_CRITICAL:
      return "Critical";
    default:
      return "Unknown";
  }
}

bool ParseSeverity(absl::string_view word, sv1::Severity* out) {
  const std::string w = absl::AsciiStrToLower(absl::StripAsciiWhitespace(word));
  static const std::pair<const char*, sv1::Severity> kNames[] = {
      {"unknown", sv1::SEVERITY_UNKNOWN}, {"negligible", sv1::SEVERITY_NEGLIGIBLE}, {"low", sv1::SEVERITY_LOW},
      {"medium", sv1::SEVERITY_MEDIUM},   {"high", sv1::SEVERITY_HIGH},             {"critical", sv1::SEVERITY_CRITICAL}};
  for (const auto& [name, value] : kNames) {
    if (w == name) {
      *out = value;
      return true;
    }
  }
  return false;
}

// The Portus shape of one vulnerability (name, severity, link, fixed_by as Portus 2.4 stored
// them) with the package it was found in.
Json VulnerabilityJson(const sv1::Vulnerability& v) {
  Json links = Json::array();
  for (const std::string& l : v.links()) links.push_back(l);
  return Json{{"name", v.id()},
              {"severity", SeverityName(v.severity())},
              {"package", v.package()},
              {"version", v.installed_version()},
              {"fixed_by", v.fixed_version()},
              {"source_package", v.source_package()},
              {"package_type", v.package_type()},
              {"link", v.links().empty() ? Json(nullptr) : Json(v.links(0))},
              {"links", links},
              {"summary", v.summary()},
              {"description", v.description()}};
}

// Portus's `scanned` values.
const char* ScanStatusName(sv1::ScanStatus s) {
  switch (s) {
    case sv1::SCAN_STATUS_WORKING:
      return "working";
    case sv1::SCAN_STATUS_DONE:
      return "done";
    case sv1::SCAN_STATUS_FAILED:
      return "failed";
    default:
      return "none";
  }
}

absl::StatusOr<int64_t> PathId(const PathParams& params, absl::string_view name) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(params.Get(name), &id) || id <= 0) {
    return InvalidFieldError(name, "must be a positive integer");
  }
  return id;
}

struct Stubs {
  std::unique_ptr<sv1::ScannerService::Stub> scanner;
  std::unique_ptr<cv1::CatalogService::Stub> catalog;
};

}  // namespace

void RegisterScannerRoutes(Router& router, Upstreams& upstreams) {
  const std::string external_url = router.external_url();
  auto stubs = std::make_shared<Stubs>();
  stubs->scanner = sv1::ScannerService::NewStub(upstreams.scanner());
  stubs->catalog = cv1::CatalogService::NewStub(upstreams.catalog());

  router.Add("POST", "/api/v1/vulnerabilities",
             [&upstreams, stubs](HttpRequest&& req, PathParams, HttpResponder respond) {
               upstreams.Call(*stubs->scanner, &sv1::ScannerService::Stub::PrepareAsyncRescanAll,
                              sv1::RescanAllRequest(), req,
                              [respond, id = req.request_id](absl::Status s, sv1::RescanAllResponse& r) {
                                if (!s.ok()) return respond(ErrorResponse(s, id));
                                respond(JsonResponse(202, Dump(Json{{"queued", r.queued()}})));
                              });
             });

  router.Add("POST", "/api/v1/vulnerabilities/:tag_id",
             [&upstreams, stubs](HttpRequest&& req, PathParams params, HttpResponder respond) {
               absl::StatusOr<int64_t> tag_id = PathId(params, "tag_id");
               if (!tag_id.ok()) return respond(ErrorResponse(tag_id.status(), req.request_id));
               cv1::GetTagRequest get;
               get.set_id(*tag_id);
               auto request = std::make_shared<HttpRequest>(std::move(req));
               upstreams.Call(
                   *stubs->catalog, &cv1::CatalogService::Stub::PrepareAsyncGetTag, get, *request,
                   [&upstreams, stubs, request, respond](absl::Status s, cv1::Tag& tag) {
                     if (!s.ok()) return respond(ErrorResponse(s, request->request_id));
                     sv1::EnqueueScanRequest enqueue;
                     enqueue.set_repository(tag.repository());
                     enqueue.set_digest(tag.digest());
                     enqueue.set_force(true);
                     upstreams.Call(*stubs->scanner, &sv1::ScannerService::Stub::PrepareAsyncEnqueueScan, enqueue,
                                    *request,
                                    [respond, id = request->request_id](absl::Status s2, sv1::EnqueueScanResponse& r) {
                                      if (!s2.ok()) return respond(ErrorResponse(s2, id));
                                      respond(JsonResponse(
                                          202, Dump(Json{{"queued", r.queued()}, {"job_id", r.job_id()}})));
                                    });
                   });
             });

  router.Add(
      "GET", "/api/v1/tags/:id/vulnerabilities",
      [&upstreams, stubs, external_url](HttpRequest&& req, PathParams params, HttpResponder respond) {
        absl::StatusOr<int64_t> tag_id = PathId(params, "id");
        if (!tag_id.ok()) return respond(ErrorResponse(tag_id.status(), req.request_id));
        PagingLimits limits;
        limits.max_per_page = 1000;
        limits.default_per_page = 100;
        absl::StatusOr<PageParams> page = ParsePaging(req, limits);
        if (!page.ok()) return respond(ErrorResponse(page.status(), req.request_id));
        if (page->all) {
          return respond(ErrorResponse(InvalidFieldError("all", "is not supported here: use per_page up to 1000"),
                                       req.request_id));
        }
        sv1::GetScanResultRequest result;
        for (const std::string& value : req.QueryAll("severity")) {
          for (absl::string_view word : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
            sv1::Severity s;
            if (!ParseSeverity(word, &s)) {
              return respond(ErrorResponse(
                  InvalidFieldError("severity", "must be unknown, negligible, low, medium, high or critical"),
                  req.request_id));
            }
            result.add_severities(s);
          }
        }
        result.set_page(static_cast<int32_t>(page->page));
        result.set_per_page(static_cast<int32_t>(page->per_page));
        cv1::GetTagRequest get;
        get.set_id(*tag_id);
        auto request = std::make_shared<HttpRequest>(std::move(req));
        auto paging = std::make_shared<PageParams>(*page);
        upstreams.Call(
            *stubs->catalog, &cv1::CatalogService::Stub::PrepareAsyncGetTag, get, *request,
            [&upstreams, stubs, request, respond, result, paging, external_url](absl::Status s,
                                                                               cv1::Tag& tag) mutable {
              if (!s.ok()) return respond(ErrorResponse(s, request->request_id));
              result.set_digest(tag.digest());
              upstreams.Call(
                  *stubs->scanner, &sv1::ScannerService::Stub::PrepareAsyncGetScanResult, result, *request,
                  [respond, request, paging, external_url](absl::Status s2, sv1::GetScanResultResponse& r) {
                    int64_t total = 0;
                    Json body = Json::array();
                    std::string scanned = "none";
                    if (s2.ok()) {
                      for (const sv1::Vulnerability& v : r.vulnerabilities()) body.push_back(VulnerabilityJson(v));
                      total = r.total();
                      scanned = ScanStatusName(r.summary().status());
                    } else if (s2.code() != absl::StatusCode::kNotFound) {  // never scanned: empty
                      return respond(ErrorResponse(s2, request->request_id));
                    }
                    HttpResponse out = JsonResponse(200, Dump(body));
                    out.SetHeader("X-Scan-Status", scanned);
                    SetPagingHeaders(*request, external_url, *paging, total, &out);
                    respond(std::move(out));
                  });
            });
      });
}

}  // namespace portunus::gateway
