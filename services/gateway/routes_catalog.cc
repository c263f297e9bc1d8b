// Routes of the catalog (services/catalog): the registry's webhook and Portus API v1's
// repositories, tags, search, plus events and sync. Translation only (routes.h); the catalog
// authenticates the caller from the forwarded headers and filters by what they may pull.
//
//   POST   /v2/webhooks/events                   EventService.IngestNotifications 202 (batched:
//                                                 webhook_batcher.h)
//   GET    /api/v1/repositories                  CatalogService.ListRepositories  (paged)
//   GET    /api/v1/repositories/:id              CatalogService.GetRepository (with tags)
//   DELETE /api/v1/repositories/:id              CatalogService.DeleteRepository  204
//   GET    /api/v1/repositories/:id/tags         CatalogService.ListTags          (paged)
//   GET    /api/v1/repositories/:id/tags/grouped CatalogService.ListGroupedTags   [[tag...]...]
//   GET    /api/v1/tags                          CatalogService.ListAllTags (admin, paged)
//   GET    /api/v1/tags/:id                      CatalogService.GetTag
//   DELETE /api/v1/tags/:id                      CatalogService.DeleteTag         204
//   GET    /api/v1/namespaces/:id/repositories   CatalogService.ListRepositories  (paged)
//   GET    /api/v1/search?q=                     CatalogService.Search            (paged)
//   GET    /api/v1/events?status=a,b&repository= EventService.ListEvents (admin, paged)
//   POST   /api/v1/events/:id/retry              EventService.RetryEvent (admin)
//   POST   /api/v1/sync {"dry_run","force"}      SyncService.StartSync (admin)     202
//   GET    /api/v1/sync                          SyncService.GetSyncStatus (admin)
//   GET    /api/v1/sync/runs?limit=              SyncService.ListSyncRuns (admin)
//   GET    /api/v1/sync/runs/:id                 SyncService.GetSyncRun (admin)
// Every tag answered gains Portus's `scanned` and `vulnerabilities`, every repository answered
// `vulnerabilities` (counts by severity), from ScannerService.GetScanSummaries: one batched call
// per answer, and a scanner that cannot be asked never fails the answer (scan_annotations.h).
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/catalog/v1/events.grpc.pb.h"
#include "portunus/catalog/v1/sync.grpc.pb.h"
#include "services/common/status_mapping.h"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"
#include "services/gateway/scan_annotations.h"
#include "services/gateway/webhook_batcher.h"

namespace portunus::gateway {
namespace {

namespace pb = ::portunus::catalog::v1;
namespace sv1 = ::portunus::scanner::v1;
using ScannerStub = std::shared_ptr<sv1::ScannerService::Stub>;

// Registry notification envelopes hold one event of about 1.5 KiB (2.8 sends one per POST);
// this leaves room for envelopes of hundreds of events and refuses anything absurd with 413
// whatever gateway.max_body_bytes allows.
constexpr size_t kMaxWebhookBody = 1 << 20;

absl::StatusOr<int64_t> Id(const PathParams& params, const char* name = "id") {
  int64_t id = 0;
  if (!absl::SimpleAtoi(params.Get(name), &id) || id <= 0) {
    return InvalidFieldError(name, "must be a positive integer");
  }
  return id;
}

absl::Status ToPage(const HttpRequest& req, const PagingLimits& limits, pb::PageRequest* out,
                    PageParams* params) {
  absl::StatusOr<PageParams> p = ParsePaging(req, limits);
  if (!p.ok()) return p.status();
  *params = *p;
  out->set_all(p->all);
  out->set_page(static_cast<int32_t>(p->page));
  out->set_per_page(static_cast<int32_t>(p->per_page));
  out->set_sort_attr(p->sort_attr);
  out->set_sort_order(p->descending ? "desc" : "asc");
  return absl::OkStatus();
}

PagingLimits RepositoryPaging() {
  PagingLimits l;
  l.default_sort_attr = "name";
  l.sort_attrs = {"id", "name", "full_name", "created_at", "updated_at", "tags_count"};
  return l;
}

PagingLimits TagPaging(const std::string& default_attr) {
  PagingLimits l;
  l.default_sort_attr = default_attr;
  l.sort_attrs = {"id", "name", "created_at", "updated_at", "pulled_at", "size", "repository"};
  return l;
}

PagingLimits EventPaging() {
  PagingLimits l;
  l.default_sort_attr = "id";
  l.sort_attrs = {"id"};
  return l;
}

// A paged JSON array of `items`.
template <class Items>
HttpResponse PagedArray(const HttpRequest& req, const Router& router, const PageParams& page,
                        const pb::PageInfo& info, const Items& items) {
  HttpResponse r = JsonResponse(200, MessagesToJsonArray(items));
  SetPagingHeaders(req, router.external_url(), page, info.total(), &r);
  return r;
}

void RegisterWebhook(Router& router, Upstreams& up) {
  auto events = std::shared_ptr<pb::EventService::Stub>(pb::EventService::NewStub(up.catalog()));
  WebhookBatcher::Options options;
  options.max_wait = up.rpc_timeout();
  auto batcher = std::make_shared<WebhookBatcher>(
      options,
      [&up, events](const pb::IngestNotificationsRequest& rpc, const std::string& request_id,
                    WebhookBatcher::SendDone done) {
        up.Call(*events, &pb::EventService::Stub::PrepareAsyncIngestNotifications, rpc, request_id,
                std::move(done));
      });
  router.Add("POST", "/v2/webhooks/events",
             [batcher](HttpRequest&& req, PathParams, HttpResponder respond) {
               if (req.body.size() > kMaxWebhookBody) {
                 return respond(ErrorResponse(
                     413, absl::StrCat("notification body larger than ", kMaxWebhookBody, " bytes"),
                     req.request_id));
               }
               pb::IngestNotificationRequest notification;
               notification.set_authorization(req.Header("authorization"));
               notification.set_content_type(req.Header("content-type"));
               notification.set_body(std::move(req.body));
               batcher->Submit(std::move(notification), req.request_id,
                               [respond, rid = req.request_id](
                                   absl::StatusOr<pb::IngestNotificationResponse> counts) {
                                 if (!counts.ok()) {
                                   HttpResponse r = ErrorResponse(counts.status(), rid);
                                   if (r.status == 401) r.SetHeader("WWW-Authenticate", "Bearer");
                                   return respond(std::move(r));
                                 }
                                 respond(ProtoResponse(202, *counts));
                               });
             });
}

// The manifest digests of `tags`.
template <class Tags>
std::vector<std::string> DigestsOf(const Tags& tags) {
  std::vector<std::string> out;
  for (const pb::Tag& t : tags) out.push_back(t.digest());
  return out;
}

// A paged JSON array of tags annotated with their scan state.
HttpResponse PagedTags(const HttpRequest& req, const Router& router, const PageParams& page,
                       const pb::ListTagsResponse& resp, const ScanInfo& info) {
  HttpResponse r = JsonResponse(200, info.TagsJsonArray(resp.tags()));
  SetPagingHeaders(req, router.external_url(), page, resp.page().total(), &r);
  info.Mark(&r);
  return r;
}

// Answers a ListRepositories/Search response, each repository with its vulnerability counts.
auto AnswerRepositories(Upstreams& up, const ScannerStub& scanner, const Router* r, HttpResponder respond,
                        std::shared_ptr<HttpRequest> held, PageParams page) {
  return [&up, scanner, r, respond, held, page](absl::Status s, pb::ListRepositoriesResponse& got) {
    if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
    auto resp = std::make_shared<pb::ListRepositoriesResponse>(std::move(got));
    std::vector<std::string> digests;
    for (const pb::Repository& repo : resp->repositories()) {
      digests.insert(digests.end(), repo.digests().begin(), repo.digests().end());
    }
    FetchScanInfo(up, scanner, std::move(digests), *held, [respond, held, r, page, resp](ScanInfo info) {
      std::string json = "[";
      for (int i = 0; i < resp->repositories_size(); ++i) {
        if (i > 0) json.push_back(',');
        const pb::Repository& repo = resp->repositories(i);
        json += info.RepositoryJson(repo, {repo.digests().begin(), repo.digests().end()});
      }
      json.push_back(']');
      HttpResponse out = JsonResponse(200, std::move(json));
      SetPagingHeaders(*held, r->external_url(), page, resp->page().total(), &out);
      info.Mark(&out);
      respond(std::move(out));
    });
  };
}

// Answers a ListTags/ListAllTags response, annotated.
auto AnswerTags(Upstreams& up, const ScannerStub& scanner, const Router* r, HttpResponder respond,
                std::shared_ptr<HttpRequest> held, PageParams page) {
  return [&up, scanner, r, respond, held, page](absl::Status s, pb::ListTagsResponse& resp) {
    if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
    auto tags = std::make_shared<pb::ListTagsResponse>(std::move(resp));
    FetchScanInfo(up, scanner, DigestsOf(tags->tags()), *held,
                  [respond, held, r, page, tags](ScanInfo info) {
                    respond(PagedTags(*held, *r, page, *tags, info));
                  });
  };
}

void RegisterRepositoryRoutes(Router& router, Upstreams& up) {
  auto catalog = std::shared_ptr<pb::CatalogService::Stub>(pb::CatalogService::NewStub(up.catalog()));
  ScannerStub scanner(sv1::ScannerService::NewStub(up.scanner()));
  const Router* r = &router;

  auto list = [&up, catalog, scanner, r](HttpRequest&& req, PathParams params, HttpResponder respond) {
    pb::ListRepositoriesRequest rpc;
    PageParams page;
    if (absl::Status s = ToPage(req, RepositoryPaging(), rpc.mutable_page(), &page); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    if (params.Has("id")) {
      absl::StatusOr<int64_t> id = Id(params);
      if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
      rpc.set_namespace_id(*id);
    }
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncListRepositories, rpc, *held,
            AnswerRepositories(up, scanner, r, respond, held, page));
  };
  router.Add("GET", "/api/v1/repositories", list);
  router.Add("GET", "/api/v1/namespaces/:id/repositories", list);

  router.Add("GET", "/api/v1/search", [&up, catalog, scanner, r](HttpRequest&& req, PathParams,
                                                                 HttpResponder respond) {
    pb::SearchRequest rpc;
    PageParams page;
    if (absl::Status s = ToPage(req, RepositoryPaging(), rpc.mutable_page(), &page); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    rpc.set_q(req.Query("q"));
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncSearch, rpc, *held,
            AnswerRepositories(up, scanner, r, respond, held, page));
  });

  router.Add("GET", "/api/v1/repositories/:id", [&up, catalog, scanner](HttpRequest&& req, PathParams params,
                                                                        HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::GetRepositoryRequest rpc;
    rpc.set_id(*id);
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncGetRepository, rpc, *held,
            [&up, scanner, respond, held](absl::Status s, pb::Repository& got) {
              if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
              auto repo = std::make_shared<pb::Repository>(std::move(got));
              std::vector<std::string> digests = DigestsOf(repo->tags());
              digests.insert(digests.end(), repo->digests().begin(), repo->digests().end());
              FetchScanInfo(up, scanner, digests, *held, [respond, repo, digests](ScanInfo info) {
                HttpResponse r = JsonResponse(200, info.RepositoryJson(*repo, digests));
                info.Mark(&r);
                respond(std::move(r));
              });
            });
  });

  router.Add("DELETE", "/api/v1/repositories/:id", [&up, catalog](HttpRequest&& req, PathParams params,
                                                                  HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::DeleteRepositoryRequest rpc;
    rpc.set_id(*id);
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncDeleteRepository, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::DeleteRepositoryResponse&) {
              respond(s.ok() ? HttpResponse(204) : ErrorResponse(s, rid));
            });
  });

  router.Add("GET", "/api/v1/repositories/:id/tags", [&up, catalog, scanner, r](HttpRequest&& req, PathParams params,
                                                                                HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::ListTagsRequest rpc;
    rpc.set_repository_id(*id);
    PageParams page;
    if (absl::Status s = ToPage(req, TagPaging("name"), rpc.mutable_page(), &page); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncListTags, rpc, *held,
            AnswerTags(up, scanner, r, respond, held, page));
  });

  router.Add("GET", "/api/v1/repositories/:id/tags/grouped",
             [&up, catalog, scanner](HttpRequest&& req, PathParams params, HttpResponder respond) {
               absl::StatusOr<int64_t> id = Id(params);
               if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
               pb::ListGroupedTagsRequest rpc;
               rpc.set_repository_id(*id);
               auto held = std::make_shared<HttpRequest>(std::move(req));
               up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncListGroupedTags, rpc, *held,
                       [&up, scanner, respond, held](absl::Status s, pb::ListGroupedTagsResponse& got) {
                         if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
                         auto resp = std::make_shared<pb::ListGroupedTagsResponse>(std::move(got));
                         std::vector<std::string> digests;
                         for (const pb::TagGroup& g : resp->groups()) {
                           for (const pb::Tag& t : g.tags()) digests.push_back(t.digest());
                         }
                         FetchScanInfo(up, scanner, std::move(digests), *held, [respond, resp](ScanInfo info) {
                           // Portus's shape: an array of groups, each an array of tags.
                           std::string json = "[";
                           for (int i = 0; i < resp->groups_size(); ++i) {
                             if (i > 0) json.push_back(',');
                             json += info.TagsJsonArray(resp->groups(i).tags());
                           }
                           json.push_back(']');
                           HttpResponse r = JsonResponse(200, std::move(json));
                           info.Mark(&r);
                           respond(std::move(r));
                         });
                       });
             });

  router.Add("GET", "/api/v1/tags", [&up, catalog, scanner, r](HttpRequest&& req, PathParams, HttpResponder respond) {
    pb::ListAllTagsRequest rpc;
    PageParams page;
    if (absl::Status s = ToPage(req, TagPaging("id"), rpc.mutable_page(), &page); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncListAllTags, rpc, *held,
            AnswerTags(up, scanner, r, respond, held, page));
  });

  router.Add("GET", "/api/v1/tags/:id", [&up, catalog, scanner](HttpRequest&& req, PathParams params,
                                                                HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::GetTagRequest rpc;
    rpc.set_id(*id);
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncGetTag, rpc, *held,
            [&up, scanner, respond, held](absl::Status s, pb::Tag& got) {
              if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
              auto tag = std::make_shared<pb::Tag>(std::move(got));
              FetchScanInfo(up, scanner, {tag->digest()}, *held, [respond, tag](ScanInfo info) {
                std::string json;
                info.AppendTagJson(*tag, &json);
                HttpResponse r = JsonResponse(200, std::move(json));
                info.Mark(&r);
                respond(std::move(r));
              });
            });
  });

  router.Add("DELETE", "/api/v1/tags/:id", [&up, catalog](HttpRequest&& req, PathParams params,
                                                          HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::DeleteTagRequest rpc;
    rpc.set_id(*id);
    up.Call(*catalog, &pb::CatalogService::Stub::PrepareAsyncDeleteTag, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::DeleteTagResponse&) {
              respond(s.ok() ? HttpResponse(204) : ErrorResponse(s, rid));
            });
  });
}

void RegisterEventAndSyncRoutes(Router& router, Upstreams& up) {
  auto events = std::shared_ptr<pb::EventService::Stub>(pb::EventService::NewStub(up.catalog()));
  auto sync = std::shared_ptr<pb::SyncService::Stub>(pb::SyncService::NewStub(up.catalog()));
  const Router* r = &router;

  router.Add("GET", "/api/v1/events", [&up, events, r](HttpRequest&& req, PathParams, HttpResponder respond) {
    pb::ListEventsRequest rpc;
    PageParams page;
    if (absl::Status s = ToPage(req, EventPaging(), rpc.mutable_page(), &page); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    for (const std::string& value : req.QueryAll("status")) {
      for (absl::string_view name : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        pb::Event::Status status;
        if (!pb::Event::Status_Parse(absl::AsciiStrToUpper(name), &status) ||
            status == pb::Event::STATUS_UNSPECIFIED) {
          return respond(ErrorResponse(
              InvalidFieldError("status", "must be pending, done, failed or rejected"), req.request_id));
        }
        rpc.add_statuses(status);
      }
    }
    rpc.set_repository(req.Query("repository"));
    auto held = std::make_shared<HttpRequest>(std::move(req));
    up.Call(*events, &pb::EventService::Stub::PrepareAsyncListEvents, rpc, *held,
            [respond, held, r, page](absl::Status s, pb::ListEventsResponse& resp) {
              if (!s.ok()) return respond(ErrorResponse(s, held->request_id));
              respond(PagedArray(*held, *r, page, resp.page(), resp.events()));
            });
  });

  router.Add("POST", "/api/v1/events/:id/retry", [&up, events](HttpRequest&& req, PathParams params,
                                                               HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::RetryEventRequest rpc;
    rpc.set_id(*id);
    up.Call(*events, &pb::EventService::Stub::PrepareAsyncRetryEvent, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::Event& e) {
              respond(s.ok() ? ProtoResponse(200, e) : ErrorResponse(s, rid));
            });
  });

  router.Add("POST", "/api/v1/sync", [&up, sync](HttpRequest&& req, PathParams, HttpResponder respond) {
    pb::StartSyncRequest rpc;
    if (absl::Status s = ParseJsonBody(req.body, &rpc); !s.ok()) {
      return respond(ErrorResponse(s, req.request_id));
    }
    up.Call(*sync, &pb::SyncService::Stub::PrepareAsyncStartSync, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::SyncRun& run) {
              respond(s.ok() ? ProtoResponse(202, run) : ErrorResponse(s, rid));
            });
  });

  router.Add("GET", "/api/v1/sync", [&up, sync](HttpRequest&& req, PathParams, HttpResponder respond) {
    up.Call(*sync, &pb::SyncService::Stub::PrepareAsyncGetSyncStatus, pb::GetSyncStatusRequest(), req,
            [respond, rid = req.request_id](absl::Status s, pb::SyncStatus& st) {
              respond(s.ok() ? ProtoResponse(200, st) : ErrorResponse(s, rid));
            });
  });

  router.Add("GET", "/api/v1/sync/runs", [&up, sync](HttpRequest&& req, PathParams, HttpResponder respond) {
    pb::ListSyncRunsRequest rpc;
    if (req.HasQuery("limit")) {
      int limit = 0;
      if (!absl::SimpleAtoi(req.Query("limit"), &limit)) {
        return respond(ErrorResponse(InvalidFieldError("limit", "must be an integer"), req.request_id));
      }
      rpc.set_limit(limit);
    }
    up.Call(*sync, &pb::SyncService::Stub::PrepareAsyncListSyncRuns, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::ListSyncRunsResponse& resp) {
              respond(s.ok() ? JsonResponse(200, MessagesToJsonArray(resp.runs())) : ErrorResponse(s, rid));
            });
  });

  router.Add("GET", "/api/v1/sync/runs/:id", [&up, sync](HttpRequest&& req, PathParams params,
                                                         HttpResponder respond) {
    absl::StatusOr<int64_t> id = Id(params);
    if (!id.ok()) return respond(ErrorResponse(id.status(), req.request_id));
    pb::GetSyncRunRequest rpc;
    rpc.set_id(*id);
    up.Call(*sync, &pb::SyncService::Stub::PrepareAsyncGetSyncRun, rpc, req,
            [respond, rid = req.request_id](absl::Status s, pb::SyncRun& run) {
              respond(s.ok() ? ProtoResponse(200, run) : ErrorResponse(s, rid));
            });
  });
}

}  // namespace

void RegisterCatalogRoutes(Router& router, Upstreams& upstreams) {
  RegisterWebhook(router, upstreams);
  RegisterRepositoryRoutes(router, upstreams);
  RegisterEventAndSyncRoutes(router, upstreams);
}

}  // namespace portunus::gateway
