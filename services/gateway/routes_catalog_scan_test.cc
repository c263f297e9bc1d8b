// Portus's `scanned`/`vulnerabilities` on the catalog routes (scan_annotations.h), over real gRPC
// CatalogService and ScannerService backends with scripted answers and the real Router and
// Upstreams: the fields on every tag answer, repository counts, one batched GetScanSummaries per
// answer, and answers that still succeed when the scanner is down or failing.
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/status_mapping.h"
#include "services/gateway/routes.h"
#include "services/gateway/scan_annotations.h"

namespace portunus::gateway {
namespace {

namespace pb = ::portunus::catalog::v1;
namespace sv1 = ::portunus::scanner::v1;
using nlohmann::json;

const std::string kDone = "sha256:" + std::string(64, 'a');      // scanned, 1 high 2 low
const std::string kWorking = "sha256:" + std::string(64, 'b');   // first scan running
const std::string kFailed = "sha256:" + std::string(64, 'c');    // failed
const std::string kUnknown = "sha256:" + std::string(64, 'd');   // never scanned

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, absl::Status s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

pb::Tag MakeTag(int64_t id, const std::string& name, const std::string& digest) {
  pb::Tag t;
  t.set_id(id);
  t.set_name(name);
  t.set_digest(digest);
  t.set_repository_id(7);
  t.set_repository("team/app");
  return t;
}

class ScriptedCatalog final : public pb::CatalogService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetTag(grpc::CallbackServerContext* ctx, const pb::GetTagRequest* req,
                                   pb::Tag* resp) override {
    if (req->id() != 1) return Finish(ctx, absl::NotFoundError("tag not found"));
    *resp = MakeTag(1, "v1", kDone);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListTags(grpc::CallbackServerContext* ctx, const pb::ListTagsRequest*,
                                     pb::ListTagsResponse* resp) override {
    FillTags(resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListAllTags(grpc::CallbackServerContext* ctx, const pb::ListAllTagsRequest*,
                                        pb::ListTagsResponse* resp) override {
    FillTags(resp);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListGroupedTags(grpc::CallbackServerContext* ctx, const pb::ListGroupedTagsRequest*,
                                            pb::ListGroupedTagsResponse* resp) override {
    pb::TagGroup* g = resp->add_groups();
    g->set_digest(kDone);
    *g->add_tags() = MakeTag(1, "v1", kDone);
    *g->add_tags() = MakeTag(2, "latest", kDone);
    g = resp->add_groups();
    g->set_digest(kFailed);
    *g->add_tags() = MakeTag(3, "broken", kFailed);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetRepository(grpc::CallbackServerContext* ctx, const pb::GetRepositoryRequest*,
                                          pb::Repository* resp) override {
    resp->set_id(7);
    resp->set_name("app");
    resp->set_full_name("team/app");
    resp->set_tags_count(3);
    *resp->add_tags() = MakeTag(1, "v1", kDone);
    *resp->add_tags() = MakeTag(2, "latest", kDone);
    *resp->add_tags() = MakeTag(3, "next", kWorking);
    resp->add_digests(kDone);
    resp->add_digests(kWorking);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* ListRepositories(grpc::CallbackServerContext* ctx, const pb::ListRepositoriesRequest*,
                                             pb::ListRepositoriesResponse* resp) override {
    pb::Repository* a = resp->add_repositories();
    a->set_id(7);
    a->set_full_name("team/app");
    a->add_digests(kDone);
    a->add_digests(kWorking);
    pb::Repository* b = resp->add_repositories();
    b->set_id(8);
    b->set_full_name("team/db");
    b->add_digests(kDone);
    b->add_digests(kFailed);
    pb::Repository* c = resp->add_repositories();
    c->set_id(9);
    c->set_full_name("team/empty");
    resp->mutable_page()->set_total(3);
    return Finish(ctx, absl::OkStatus());
  }

 private:
  static void FillTags(pb::ListTagsResponse* resp) {
    *resp->add_tags() = MakeTag(1, "v1", kDone);
    *resp->add_tags() = MakeTag(2, "latest", kDone);
    *resp->add_tags() = MakeTag(3, "next", kWorking);
    *resp->add_tags() = MakeTag(4, "broken", kFailed);
    *resp->add_tags() = MakeTag(5, "old", kUnknown);
    resp->mutable_page()->set_total(5);
  }
};

class ScriptedSummaries final : public sv1::ScannerService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetScanSummaries(grpc::CallbackServerContext* ctx, const sv1::GetScanSummariesRequest* req,
                                             sv1::GetScanSummariesResponse* resp) override {
    absl::MutexLock lock(&mu_);
    calls_.emplace_back(req->digests().begin(), req->digests().end());
    if (!failure_.ok()) return Finish(ctx, failure_);
    for (const std::string& d : req->digests()) {
      sv1::ScanSummary* s = resp->add_summaries();
      s->set_digest(d);
      if (d == kDone) {
        s->set_status(sv1::SCAN_STATUS_DONE);
        s->set_scanned_at("2026-11-22T10:00:00Z");
        s->mutable_counts()->set_high(1);
        s->mutable_counts()->set_low(2);
        s->mutable_counts()->set_total(3);
      } else if (d == kWorking) {
        s->set_status(sv1::SCAN_STATUS_WORKING);
      } else if (d == kFailed) {
        s->set_status(sv1::SCAN_STATUS_FAILED);
        s->set_error("layer sha256:..: not a tar archive");
      }
    }
    return Finish(ctx, absl::OkStatus());
  }

  absl::Mutex mu_;
  std::vector<std::vector<std::string>> calls_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

class RoutesCatalogScanTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(/*scanner_up=*/true); }
  void Start(bool scanner_up) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&catalog_);
    if (scanner_up) builder.RegisterService(&scanner_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    Upstreams::Options o;
    o.auth_address = o.health_address = "127.0.0.1:1";
    o.catalog_address = "127.0.0.1:" + std::to_string(port_);
    // Scanner down: a port nothing listens on (connection refused).
    o.scanner_address = scanner_up ? o.catalog_address : "127.0.0.1:1";
    o.rpc_timeout = absl::Seconds(5);
    upstreams_ = std::make_unique<Upstreams>(o);
    router_ = std::make_unique<Router>(RouterOptions{"https://portus.example.com"});
    RegisterCatalogRoutes(*router_, *upstreams_);
  }
  void TearDown() override {
    upstreams_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  HttpResponse Get(const std::string& path) {
    HttpRequest req;
    req.method = "GET";
    req.target = req.path = path;
    req.request_id = "req-1";
    absl::Notification done;
    HttpResponse out;
    router_->Dispatch(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }
  std::vector<std::vector<std::string>> Calls() {
    absl::MutexLock lock(&scanner_.mu_);
    return scanner_.calls_;
  }

  ScriptedCatalog catalog_;
  ScriptedSummaries scanner_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Upstreams> upstreams_;
  std::unique_ptr<Router> router_;
};

const json kDoneCounts = json::parse(
    R"({"unknown":0,"negligible":0,"low":2,"medium":0,"high":1,"critical":0,"total":3})");

TEST_F(RoutesCatalogScanTest, GetTagHasScannedAndCounts) {
  HttpResponse r = Get("/api/v1/tags/1");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["id"], 1);
  EXPECT_EQ(j["name"], "v1");
  EXPECT_EQ(j["scanned"], 2);
  EXPECT_EQ(j["vulnerabilities"], kDoneCounts);
  EXPECT_FALSE(r.HasHeader("X-Portunus-Scanner"));
  EXPECT_EQ(Calls(), (std::vector<std::vector<std::string>>{{kDone}}));
  // A tag the catalog does not know: its error, and the scanner is not asked.
  EXPECT_EQ(Get("/api/v1/tags/2").status, 404);
  EXPECT_EQ(Calls().size(), 1u);
}

TEST_F(RoutesCatalogScanTest, TagListingsAskOnceForTheDistinctDigests) {
  for (const std::string path : {"/api/v1/repositories/7/tags", "/api/v1/tags"}) {
    SCOPED_TRACE(path);
    const size_t before = Calls().size();
    HttpResponse r = Get(path);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("X-Total"), "5");
    json j = json::parse(r.body);
    ASSERT_EQ(j.size(), 5u);
    EXPECT_EQ(j[0]["scanned"], 2);
    EXPECT_EQ(j[0]["vulnerabilities"], kDoneCounts);
    EXPECT_EQ(j[1]["scanned"], 2);
    EXPECT_EQ(j[2]["scanned"], 1);  // first scan running: no counts yet
    EXPECT_TRUE(j[2]["vulnerabilities"].is_null());
    EXPECT_EQ(j[3]["scanned"], 3);  // failed
    EXPECT_TRUE(j[3]["vulnerabilities"].is_null());
    EXPECT_EQ(j[4]["scanned"], 0);  // never scanned
    EXPECT_TRUE(j[4]["vulnerabilities"].is_null());
    std::vector<std::vector<std::string>> calls = Calls();
    ASSERT_EQ(calls.size(), before + 1);  // one batched call, no N+1
    EXPECT_THAT(calls.back(), ::testing::UnorderedElementsAre(kDone, kWorking, kFailed, kUnknown));
  }
}

TEST_F(RoutesCatalogScanTest, GroupedTagsAreAnnotated) {
  HttpResponse r = Get("/api/v1/repositories/7/tags/grouped");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j.size(), 2u);
  ASSERT_EQ(j[0].size(), 2u);
  EXPECT_EQ(j[0][1]["name"], "latest");
  EXPECT_EQ(j[0][1]["scanned"], 2);
  EXPECT_EQ(j[0][1]["vulnerabilities"], kDoneCounts);
  EXPECT_EQ(j[1][0]["scanned"], 3);
  ASSERT_EQ(Calls().size(), 1u);
  EXPECT_THAT(Calls()[0], ::testing::UnorderedElementsAre(kDone, kFailed));
}

TEST_F(RoutesCatalogScanTest, RepositoryAndListingsShowCountsBySeverity) {
  HttpResponse one = Get("/api/v1/repositories/7");
  ASSERT_EQ(one.status, 200) << one.body;
  json j = json::parse(one.body);
  EXPECT_EQ(j["full_name"], "team/app");
  EXPECT_FALSE(j.contains("digests"));  // internal to the gateway
  ASSERT_EQ(j["tags"].size(), 3u);
  EXPECT_EQ(j["tags"][0]["scanned"], 2);
  EXPECT_EQ(j["tags"][2]["scanned"], 1);
  // Two tags on one manifest count it once.
  EXPECT_EQ(j["vulnerabilities"], kDoneCounts);

  HttpResponse list = Get("/api/v1/repositories");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.Header("X-Total"), "3");
  json l = json::parse(list.body);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_FALSE(l[0].contains("digests"));
  EXPECT_EQ(l[0]["vulnerabilities"], kDoneCounts);
  EXPECT_EQ(l[1]["vulnerabilities"], kDoneCounts);  // the failed manifest adds nothing
  EXPECT_EQ(l[2]["vulnerabilities"],
            json::parse(R"({"unknown":0,"negligible":0,"low":0,"medium":0,"high":0,"critical":0,"total":0})"));
  std::vector<std::vector<std::string>> calls = Calls();
  ASSERT_EQ(calls.size(), 2u);  // one for the repository, one for the whole page
  EXPECT_THAT(calls[1], ::testing::UnorderedElementsAre(kDone, kWorking, kFailed));
}

TEST_F(RoutesCatalogScanTest, ScannerErrorsNeverFailTheAnswer) {
  {
    absl::MutexLock lock(&scanner_.mu_);
    scanner_.failure_ = absl::InternalError("database gone");
  }
  HttpResponse tag = Get("/api/v1/tags/1");
  ASSERT_EQ(tag.status, 200) << tag.body;
  EXPECT_EQ(tag.Header("X-Portunus-Scanner"), "unavailable");
  json j = json::parse(tag.body);
  EXPECT_EQ(j["scanned"], 0);
  EXPECT_TRUE(j["vulnerabilities"].is_null());
  HttpResponse repos = Get("/api/v1/repositories");
  ASSERT_EQ(repos.status, 200);
  EXPECT_TRUE(json::parse(repos.body)[0]["vulnerabilities"].is_null());
}

class RoutesCatalogScannerDownTest : public RoutesCatalogScanTest {
 protected:
  void SetUp() override { Start(/*scanner_up=*/false); }
};

TEST_F(RoutesCatalogScannerDownTest, TagsAnswerWithoutScanResults) {
  HttpResponse r = Get("/api/v1/repositories/7/tags");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("X-Portunus-Scanner"), "unavailable");
  json j = json::parse(r.body);
  ASSERT_EQ(j.size(), 5u);
  for (const json& t : j) {
    EXPECT_EQ(t["scanned"], 0);
    EXPECT_TRUE(t["vulnerabilities"].is_null());
  }
  HttpResponse grouped = Get("/api/v1/repositories/7/tags/grouped");
  ASSERT_EQ(grouped.status, 200);
  EXPECT_EQ(json::parse(grouped.body)[0][0]["scanned"], 0);
}

TEST(ScanInfoTest, TagJsonKeepsEveryCatalogField) {
  ScanInfo info;
  sv1::ScanSummary s;
  s.set_digest(kWorking);
  s.set_status(sv1::SCAN_STATUS_WORKING);
  s.set_scanned_at("2026-11-20T00:00:00Z");  // a rescan: the earlier result is shown
  s.mutable_counts()->set_critical(4);
  s.mutable_counts()->set_total(4);
  info.Add(s);
  std::string out;
  info.AppendTagJson(MakeTag(3, "next", kWorking), &out);
  json j = json::parse(out);
  EXPECT_EQ(j["name"], "next");
  EXPECT_EQ(j["digest"], kWorking);
  EXPECT_EQ(j["repository"], "team/app");
  EXPECT_EQ(j["scanned"], 1);
  EXPECT_EQ(j["vulnerabilities"]["critical"], 4);
  EXPECT_EQ(ScanInfo::Unavailable().TagsJsonArray(std::vector<pb::Tag>{MakeTag(1, "v1", kDone)}),
            "[" + [] {
              std::string o;
              ScanInfo::Unavailable().AppendTagJson(MakeTag(1, "v1", kDone), &o);
              return o;
            }() + "]");
}

}  // namespace
}  // namespace portunus::gateway
