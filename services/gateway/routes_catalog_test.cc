// The catalog routes' HTTP mapping against a scripted in-process catalog backend (real gRPC
// server, real Router and Upstreams): which RPC a request becomes (ids, paging, filters, the
// credentials passed on), the paging headers, which HTTP answer each backend outcome becomes
// (always a JSON body naming the problem), and which bad requests never reach the backend. The
// rules themselves are tested in services/catalog and end to end in tests/catalog_*_test.cc.
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/catalog/v1/events.grpc.pb.h"
#include "portunus/catalog/v1/sync.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace pb = ::portunus::catalog::v1;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// Answers from canned data (`fail`, when set, answers every call instead); records the last
// request and its authorization metadata.
class ScriptedCatalog final : public pb::CatalogService::CallbackService,
                              public pb::EventService::CallbackService,
                              public pb::SyncService::CallbackService {
 public:
  // --- CatalogService ---
  grpc::ServerUnaryReactor* ListRepositories(grpc::CallbackServerContext* ctx,
                                             const pb::ListRepositoriesRequest* req,
                                             pb::ListRepositoriesResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    Repositories(req->page(), resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* Search(grpc::CallbackServerContext* ctx, const pb::SearchRequest* req,
                                   pb::ListRepositoriesResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    Repositories(req->page(), resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetRepository(grpc::CallbackServerContext* ctx,
                                          const pb::GetRepositoryRequest* req,
                                          pb::Repository* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->set_id(req->id());
    resp->set_name("app");
    resp->set_full_name("team/app");
    resp->mutable_namespace_()->set_id(3);
    resp->mutable_namespace_()->set_name("team");
    resp->set_tags_count(1);
    FillTag(9, "v1", resp->add_tags());
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* DeleteRepository(grpc::CallbackServerContext* ctx,
                                             const pb::DeleteRepositoryRequest* req,
                                             pb::DeleteRepositoryResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->set_deleted_manifests(2);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListTags(grpc::CallbackServerContext* ctx, const pb::ListTagsRequest* req,
                                     pb::ListTagsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    Tags(req->page(), resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListAllTags(grpc::CallbackServerContext* ctx,
                                        const pb::ListAllTagsRequest* req,
                                        pb::ListTagsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    Tags(req->page(), resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListGroupedTags(grpc::CallbackServerContext* ctx,
                                            const pb::ListGroupedTagsRequest* req,
                                            pb::ListGroupedTagsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    pb::TagGroup* a = resp->add_groups();
    a->set_digest(Digest('a'));
    FillTag(1, "v1", a->add_tags());
    FillTag(2, "v2", a->add_tags());
    pb::TagGroup* b = resp->add_groups();
    b->set_digest(Digest('b'));
    FillTag(3, "v3", b->add_tags());
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetTag(grpc::CallbackServerContext* ctx, const pb::GetTagRequest* req,
                                   pb::Tag* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    FillTag(req->id(), "v1", resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* DeleteTag(grpc::CallbackServerContext* ctx, const pb::DeleteTagRequest* req,
                                      pb::DeleteTagResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->add_restored_tags("v2");
    return Finish(ctx, absl::OkStatus());
  }

  // --- EventService ---
  grpc::ServerUnaryReactor* IngestNotifications(grpc::CallbackServerContext* ctx,
                                                const pb::IngestNotificationsRequest* req,
                                                pb::IngestNotificationsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    for (const pb::IngestNotificationRequest& n : req->notifications()) {
      pb::IngestNotificationResult* result = resp->add_results();
      if (n.authorization() != "Bearer hook-secret") {
        result->set_code(static_cast<int>(absl::StatusCode::kUnauthenticated));
        result->set_message("invalid notification credentials");
      } else {
        result->mutable_counts()->set_stored(1);
      }
    }
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* ctx, const pb::ListEventsRequest* req,
                                       pb::ListEventsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    pb::Event* e = resp->add_events();
    e->set_id(5);
    e->set_event_id("e-5");
    e->set_status(pb::Event::REJECTED);
    resp->mutable_page()->set_total(1);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* RetryEvent(grpc::CallbackServerContext* ctx, const pb::RetryEventRequest* req,
                                       pb::Event* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->set_id(req->id());
    resp->set_status(pb::Event::PENDING);
    return Finish(ctx, absl::OkStatus());
  }

  // --- SyncService ---
  grpc::ServerUnaryReactor* StartSync(grpc::CallbackServerContext* ctx, const pb::StartSyncRequest* req,
                                      pb::SyncRun* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->set_id(12);
    resp->set_dry_run(req->dry_run());
    resp->set_state(pb::SyncRun::RUNNING);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetSyncRun(grpc::CallbackServerContext* ctx, const pb::GetSyncRunRequest* req,
                                       pb::SyncRun* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->set_id(req->id());
    resp->set_state(pb::SyncRun::SUCCEEDED);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetSyncStatus(grpc::CallbackServerContext* ctx,
                                          const pb::GetSyncStatusRequest* req,
                                          pb::SyncStatus*) override {
    if (auto* r = Begin(ctx, *req)) return r;
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListSyncRuns(grpc::CallbackServerContext* ctx,
                                         const pb::ListSyncRunsRequest* req,
                                         pb::ListSyncRunsResponse* resp) override {
    if (auto* r = Begin(ctx, *req)) return r;
    resp->add_runs()->set_id(12);
    resp->add_runs()->set_id(11);
    return Finish(ctx, absl::OkStatus());
  }

  // The next calls fail with `s` (until cleared with OkStatus()).
  void FailWith(absl::Status s) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  std::string last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  std::string last_authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  static std::string Digest(char c) { return "sha256:" + std::string(64, c); }

 private:
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  // Records the call; a reactor already finished with the scripted failure, or nullptr.
  grpc::ServerUnaryReactor* Begin(grpc::CallbackServerContext* ctx, const google::protobuf::Message& m) {
    absl::Status fail;
    {
      absl::MutexLock lock(&mu_);
      last_ = absl::StrCat(m.GetDescriptor()->name(), " ", m.ShortDebugString());
      authorization_ = MetadataValue(*ctx, "authorization");
      ++calls_;
      fail = fail_;
    }
    return fail.ok() ? nullptr : Finish(ctx, fail);
  }
  // 23 repositories in all; the requested page of them (all: every one).
  static void Repositories(const pb::PageRequest& page, pb::ListRepositoriesResponse* resp) {
    const int total = 23;
    const int per_page = page.all() ? total : page.per_page();
    const int first = page.all() ? 0 : (page.page() - 1) * per_page;
    for (int i = first; i < total && i < first + per_page; ++i) {
      pb::Repository* r = resp->add_repositories();
      r->set_id(i + 1);
      r->set_name(absl::StrCat("app", i));
      r->set_full_name(absl::StrCat("team/app", i));
    }
    resp->mutable_page()->set_total(total);
    resp->mutable_page()->set_page(page.page());
    resp->mutable_page()->set_per_page(page.per_page());
  }
  static void Tags(const pb::PageRequest& page, pb::ListTagsResponse* resp) {
    FillTag(1, "v1", resp->add_tags());
    resp->mutable_page()->set_total(page.all() ? 1 : 31);
    resp->mutable_page()->set_page(page.page());
    resp->mutable_page()->set_per_page(page.per_page());
  }
  static void FillTag(int64_t id, const std::string& name, pb::Tag* t) {
    t->set_id(id);
    t->set_name(name);
    t->set_digest(Digest('a'));
    t->set_size(1234);
    t->set_media_type("application/vnd.oci.image.manifest.v1+json");
    t->mutable_author()->set_name("alice");
    pb::Platform* p = t->add_platforms();
    p->set_os("linux");
    p->set_architecture("amd64");
    t->set_repository_id(7);
    t->set_repository("team/app");
  }

  absl::Mutex mu_;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::string last_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class RoutesCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(static_cast<pb::CatalogService::CallbackService*>(&catalog_));
    builder.RegisterService(static_cast<pb::EventService::CallbackService*>(&catalog_));
    builder.RegisterService(static_cast<pb::SyncService::CallbackService*>(&catalog_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    Upstreams::Options o;
    o.auth_address = o.health_address = "127.0.0.1:1";
    o.catalog_address = o.scanner_address = "127.0.0.1:" + std::to_string(port_);
    o.rpc_timeout = absl::Seconds(5);
    upstreams_ = std::make_unique<Upstreams>(o);
    RegisterCatalogRoutes(router_, *upstreams_);
  }
  void TearDown() override {
    upstreams_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    const std::string& authorization = "", const std::string& body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest req;
    req.method = method;
    req.SetTarget(target);
    req.request_id = "req-1";
    req.body = body;
    if (!authorization.empty()) req.headers.emplace_back("authorization", authorization);
    for (auto& h : headers) req.headers.push_back(std::move(h));
    absl::Notification done;
    HttpResponse out;
    router_.Dispatch(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }

  // An error answer: `status` with a JSON body whose message contains `message` (and names
  // `field` when given) and carries the request id.
  static void ExpectError(const HttpResponse& r, int status, const std::string& message,
                          const std::string& field = "") {
    EXPECT_EQ(r.status, status) << r.body;
    Json body = Json::parse(r.body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_THAT(body.value("message", ""), HasSubstr(message)) << r.body;
    EXPECT_EQ(body.value("field", ""), field) << r.body;
    EXPECT_EQ(body.value("request_id", ""), "req-1");
  }

  ScriptedCatalog catalog_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Upstreams> upstreams_;
  Router router_{RouterOptions{"https://portus.example.com"}};
};

TEST_F(RoutesCatalogTest, ListsArePagedWithPortusHeaders) {
  HttpResponse r = Send("GET", "/api/v1/repositories?page=2&per_page=10&sort_attr=full_name&sort_order=desc",
                        "Basic alice");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(catalog_.last(),
            "ListRepositoriesRequest page { page: 2 per_page: 10 sort_attr: \"full_name\" sort_order: \"desc\" }");
  EXPECT_EQ(catalog_.last_authorization(), "Basic alice");
  Json body = Json::parse(r.body);
  ASSERT_EQ(body.size(), 10u);
  EXPECT_EQ(body[0]["full_name"], "team/app10");
  EXPECT_EQ(r.Header("X-Total"), "23");
  EXPECT_EQ(r.Header("X-Total-Pages"), "3");
  EXPECT_EQ(r.Header("X-Page"), "2");
  EXPECT_EQ(r.Header("X-Per-Page"), "10");
  EXPECT_EQ(r.Header("X-Next-Page"), "3");
  EXPECT_EQ(r.Header("X-Prev-Page"), "1");
  const std::string link = r.Header("Link");
  EXPECT_THAT(link, HasSubstr("<https://portus.example.com/api/v1/repositories?"));
  EXPECT_THAT(link, HasSubstr("page=3"));
  EXPECT_THAT(link, HasSubstr("rel=\"next\""));
  EXPECT_THAT(link, HasSubstr("rel=\"prev\""));
  EXPECT_THAT(link, HasSubstr("rel=\"last\""));

  // Defaults: page 1 of 15, sorted by name.
  r = Send("GET", "/api/v1/repositories");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(catalog_.last(),
            "ListRepositoriesRequest page { page: 1 per_page: 15 sort_attr: \"name\" sort_order: \"asc\" }");
  EXPECT_EQ(catalog_.last_authorization(), "");
  EXPECT_EQ(r.Header("X-Per-Page"), "15");
  EXPECT_EQ(r.Header("X-Prev-Page"), "");
  EXPECT_EQ(Json::parse(r.body).size(), 15u);

  // The last page: no next.
  r = Send("GET", "/api/v1/repositories?page=3&per_page=10");
  EXPECT_EQ(Json::parse(r.body).size(), 3u);
  EXPECT_EQ(r.Header("X-Next-Page"), "");

  // Search and namespace listings take the same parameters.
  r = Send("GET", "/api/v1/search?q=App&per_page=5", "Basic bob");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("SearchRequest"));
  EXPECT_THAT(catalog_.last(), HasSubstr("q: \"App\""));
  EXPECT_EQ(r.Header("X-Total-Pages"), "5");
  r = Send("GET", "/api/v1/namespaces/3/repositories?per_page=20");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("namespace_id: 3"));

  // Tags of a repository, and every tag (admin).
  r = Send("GET", "/api/v1/repositories/7/tags?per_page=30&sort_attr=updated_at");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("repository_id: 7"));
  EXPECT_THAT(catalog_.last(), HasSubstr("sort_attr: \"updated_at\""));
  EXPECT_EQ(r.Header("X-Total-Pages"), "2");
  Json tag = Json::parse(r.body)[0];
  EXPECT_EQ(tag["author"]["name"], "alice");
  EXPECT_EQ(tag["digest"], ScriptedCatalog::Digest('a'));
  EXPECT_EQ(tag["size"], 1234);
  EXPECT_EQ(tag["platforms"][0]["architecture"], "amd64");
  r = Send("GET", "/api/v1/tags?per_page=1", "Basic admin");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("ListAllTagsRequest"));
  EXPECT_THAT(catalog_.last(), HasSubstr("sort_attr: \"id\""));
  EXPECT_EQ(r.Header("X-Total-Pages"), "31");
}

TEST_F(RoutesCatalogTest, AllTrueAsksForEverything) {
  HttpResponse r = Send("GET", "/api/v1/repositories?all=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(catalog_.last(), HasSubstr("all: true"));
  EXPECT_EQ(Json::parse(r.body).size(), 23u);
  EXPECT_EQ(r.Header("X-Total"), "23");
  EXPECT_EQ(r.Header("X-Next-Page"), "");
  r = Send("GET", "/api/v1/repositories/7/tags?all=true");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("all: true"));
  r = Send("GET", "/api/v1/events?all=true", "Basic admin");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(catalog_.last(), HasSubstr("all: true"));
  r = Send("GET", "/api/v1/repositories?all=false");
  EXPECT_THAT(catalog_.last(), ::testing::Not(HasSubstr("all: true")));
  ExpectError(Send("GET", "/api/v1/repositories?all=yes"), 422, "true or false", "all");
}

TEST_F(RoutesCatalogTest, MalformedIdsAndParametersAre422AndNeverReachTheCatalog) {
  // (None of these may be a 5xx: ExpectError checks the exact status.)
  const int before = catalog_.calls();
  for (const char* path :
       {"/api/v1/repositories/abc", "/api/v1/repositories/0", "/api/v1/repositories/-4",
        "/api/v1/repositories/1.5", "/api/v1/repositories/99999999999999999999999",
        "/api/v1/repositories/9223372036854775808",
        "/api/v1/repositories/abc/tags", "/api/v1/repositories/abc/tags/grouped",
        "/api/v1/tags/x", "/api/v1/tags/18446744073709551617", "/api/v1/namespaces/ns/repositories",
        "/api/v1/sync/runs/latest"}) {
    SCOPED_TRACE(path);
    ExpectError(Send("GET", path, "Basic admin"), 422, "must be a positive integer", "id");
  }
  ExpectError(Send("DELETE", "/api/v1/tags/1e3", "Basic admin"), 422, "positive integer", "id");
  ExpectError(Send("DELETE", "/api/v1/repositories/-1", "Basic admin"), 422, "positive integer", "id");
  ExpectError(Send("POST", "/api/v1/events/zero/retry", "Basic admin"), 422, "positive integer", "id");
  // Paging parameters.
  ExpectError(Send("GET", "/api/v1/repositories?page=0"), 422, "between 1", "page");
  ExpectError(Send("GET", "/api/v1/repositories?page=two"), 422, "integer", "page");
  ExpectError(Send("GET", "/api/v1/repositories?per_page=501"), 422, "between 1 and 500", "per_page");
  ExpectError(Send("GET", "/api/v1/repositories?per_page=99999999999999999999"), 422, "", "per_page");
  ExpectError(Send("GET", "/api/v1/repositories/7/tags?sort_attr=password"), 422, "must be one of", "sort_attr");
  ExpectError(Send("GET", "/api/v1/tags?per_page=-1", "Basic admin"), 422, "", "per_page");
  ExpectError(Send("GET", "/api/v1/search?q=x&page=%00"), 422, "", "page");
  // Filters and bodies.
  ExpectError(Send("GET", "/api/v1/events?status=lost", "Basic admin"), 422, "pending, done", "status");
  ExpectError(Send("GET", "/api/v1/events?status=status_unspecified", "Basic admin"), 422, "", "status");
  ExpectError(Send("GET", "/api/v1/sync/runs?limit=ten", "Basic admin"), 422, "integer", "limit");
  ExpectError(Send("GET", "/api/v1/sync/runs?limit=99999999999", "Basic admin"), 422, "integer", "limit");
  HttpResponse bad_json = Send("POST", "/api/v1/sync", "Basic admin", "{");
  EXPECT_EQ(bad_json.status, 400) << bad_json.body;
  EXPECT_TRUE(Json::parse(bad_json.body, nullptr, false).contains("message")) << bad_json.body;
  ExpectError(Send("POST", "/api/v1/sync", "Basic admin", R"({"dry_run":"yes"})"), 422, "", "dry_run");
  EXPECT_EQ(catalog_.calls(), before) << catalog_.last();

  // The largest id is passed on as is.
  ASSERT_EQ(Send("GET", "/api/v1/tags/9223372036854775807").status, 200);
  EXPECT_EQ(catalog_.last(), "GetTagRequest id: 9223372036854775807");
}

TEST_F(RoutesCatalogTest, CatalogOutcomesMapToStatusesWithJsonBodies) {
  struct Case {
    absl::Status status;
    int http;
    std::string message;
    std::string field;
  };
  const Case cases[] = {
      {absl::UnauthenticatedError("authentication required"), 401, "authentication required", ""},
      {absl::PermissionDeniedError("you may not delete images in repository team/app"), 403,
       "team/app", ""},
      {absl::NotFoundError("repository 7 not found"), 404, "repository 7 not found", ""},
      {InvalidFieldError("after_seq", "must not be negative"), 422, "must not be negative", "after_seq"},
      {absl::FailedPreconditionError("the registry has deletes disabled"), 400, "deletes disabled", ""},
      {absl::AlreadyExistsError("a sync pass is running"), 409, "running", ""},
      {absl::UnavailableError("registry unreachable"), 503, "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.status.ToString());
    catalog_.FailWith(c.status);
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/v1/repositories"},
             {"GET", "/api/v1/repositories/7"},
             {"DELETE", "/api/v1/repositories/7"},
             {"GET", "/api/v1/repositories/7/tags"},
             {"GET", "/api/v1/repositories/7/tags/grouped"},
             {"GET", "/api/v1/tags"},
             {"GET", "/api/v1/tags/9"},
             {"DELETE", "/api/v1/tags/9"},
             {"GET", "/api/v1/search?q=a"},
             {"GET", "/api/v1/events"},
             {"POST", "/api/v1/events/5/retry"},
             {"GET", "/api/v1/sync"},
             {"GET", "/api/v1/sync/runs"},
             {"GET", "/api/v1/sync/runs/3"}}) {
      SCOPED_TRACE(method + " " + path);
      HttpResponse r = Send(method, path, "Basic bob");
      ExpectError(r, c.http, c.message, c.field);
    }
  }
  catalog_.FailWith(absl::OkStatus());
  // The catalog down entirely: 503 with a JSON body.
  upstreams_->Shutdown();
  HttpResponse down = Send("GET", "/api/v1/repositories");
  EXPECT_EQ(down.status, 503);
  EXPECT_TRUE(Json::parse(down.body, nullptr, false).contains("message")) << down.body;
}

TEST_F(RoutesCatalogTest, ItemsDeletesAndGroupsHavePortusShapes) {
  HttpResponse repo = Send("GET", "/api/v1/repositories/7", "Basic alice");
  ASSERT_EQ(repo.status, 200) << repo.body;
  EXPECT_EQ(catalog_.last(), "GetRepositoryRequest id: 7");
  Json body = Json::parse(repo.body);
  EXPECT_EQ(body["full_name"], "team/app");
  EXPECT_EQ(body["namespace"]["name"], "team");
  EXPECT_EQ(body["tags_count"], 1);
  ASSERT_EQ(body["tags"].size(), 1u);
  EXPECT_EQ(body["tags"][0]["author"]["name"], "alice");

  HttpResponse grouped = Send("GET", "/api/v1/repositories/7/tags/grouped");
  ASSERT_EQ(grouped.status, 200) << grouped.body;
  Json groups = Json::parse(grouped.body);
  ASSERT_TRUE(groups.is_array());
  ASSERT_EQ(groups.size(), 2u);
  ASSERT_EQ(groups[0].size(), 2u);
  EXPECT_EQ(groups[0][1]["name"], "v2");
  EXPECT_EQ(groups[1][0]["name"], "v3");

  HttpResponse tag = Send("GET", "/api/v1/tags/9");
  ASSERT_EQ(tag.status, 200);
  EXPECT_EQ(Json::parse(tag.body)["id"], 9);

  HttpResponse deleted = Send("DELETE", "/api/v1/tags/9", "Basic alice");
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(catalog_.last(), "DeleteTagRequest id: 9");
  EXPECT_EQ(catalog_.last_authorization(), "Basic alice");
  HttpResponse removed = Send("DELETE", "/api/v1/repositories/7", "Basic alice");
  EXPECT_EQ(removed.status, 204);
  EXPECT_EQ(catalog_.last(), "DeleteRepositoryRequest id: 7");

  // Events: statuses (any case, comma separated or repeated) and the repository filter.
  HttpResponse events = Send("GET", "/api/v1/events?status=Pending,failed&status=rejected&repository=team/app",
                             "Basic admin");
  ASSERT_EQ(events.status, 200) << events.body;
  EXPECT_THAT(catalog_.last(), HasSubstr("statuses: PENDING statuses: FAILED statuses: REJECTED"));
  EXPECT_THAT(catalog_.last(), HasSubstr("repository: \"team/app\""));
  EXPECT_EQ(Json::parse(events.body)[0]["status"], "rejected");
  EXPECT_EQ(Send("POST", "/api/v1/events/5/retry", "Basic admin").status, 200);
  EXPECT_EQ(catalog_.last(), "RetryEventRequest id: 5");

  // Sync.
  HttpResponse started = Send("POST", "/api/v1/sync", "Basic admin", R"({"dry_run":true})");
  EXPECT_EQ(started.status, 202);
  EXPECT_EQ(Json::parse(started.body)["state"], "running");
  EXPECT_THAT(catalog_.last(), HasSubstr("dry_run: true"));
  HttpResponse runs = Send("GET", "/api/v1/sync/runs?limit=2", "Basic admin");
  ASSERT_EQ(runs.status, 200);
  EXPECT_EQ(catalog_.last(), "ListSyncRunsRequest limit: 2");
  EXPECT_EQ(Json::parse(runs.body).size(), 2u);
  HttpResponse run = Send("GET", "/api/v1/sync/runs/12", "Basic admin");
  EXPECT_EQ(Json::parse(run.body)["state"], "succeeded");
}

TEST_F(RoutesCatalogTest, TheWebhookPassesTheNotificationOnAndRefusesOnlyBadCredentialsAndHugeBodies) {
  const std::string envelope = R"({"events":[]})";
  HttpResponse ok = Send("POST", "/v2/webhooks/events", "Bearer hook-secret", envelope,
                         {{"content-type", "application/vnd.docker.distribution.events.v2+json"}});
  EXPECT_EQ(ok.status, 202) << ok.body;
  EXPECT_THAT(catalog_.last(), HasSubstr("authorization: \"Bearer hook-secret\""));
  EXPECT_THAT(catalog_.last(), HasSubstr("content_type: \"application/vnd.docker.distribution.events.v2+json\""));
  EXPECT_THAT(catalog_.last(), HasSubstr("events"));
  EXPECT_EQ(Json::parse(ok.body)["stored"], 1);

  HttpResponse refused = Send("POST", "/v2/webhooks/events", "Bearer wrong", envelope);
  ExpectError(refused, 401, "invalid notification credentials");
  EXPECT_EQ(refused.Header("WWW-Authenticate"), "Bearer");

  const int before = catalog_.calls();
  HttpResponse huge = Send("POST", "/v2/webhooks/events", "Bearer hook-secret",
                           std::string((1 << 20) + 1, 'x'));
  ExpectError(huge, 413, "larger than");
  EXPECT_EQ(catalog_.calls(), before);

  // Events not stored: a 503 the registry retries.
  catalog_.FailWith(absl::UnavailableError("events could not be stored"));
  HttpResponse down = Send("POST", "/v2/webhooks/events", "Bearer hook-secret", envelope);
  ExpectError(down, 503, "could not be stored");
  catalog_.FailWith(absl::OkStatus());
}

}  // namespace
}  // namespace portunus::gateway
