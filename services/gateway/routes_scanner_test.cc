// The vulnerability routes over real gRPC CatalogService and ScannerService backends (scripted
// answers) and the real Router and Upstreams: response codes and shapes, the credentials passed
// on, the tag -> digest lookup, validation and errors.
#include <memory>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace sv1 = ::portunus::scanner::v1;
namespace cv1 = ::portunus::catalog::v1;

const std::string kDigest = "sha256:" + std::string(64, 'd');

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, absl::Status s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

// Tag 7 is team/app@kDigest; any other id is NOT_FOUND (as for a tag the caller may not pull).
class ScriptedCatalog final : public cv1::CatalogService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetTag(grpc::CallbackServerContext* ctx, const cv1::GetTagRequest* req,
                                   cv1::Tag* resp) override {
    absl::MutexLock lock(&mu_);
    authorization_ = MetadataValue(*ctx, "authorization");
    if (req->id() != 7) return Finish(ctx, absl::NotFoundError("tag not found"));
    resp->set_id(7);
    resp->set_name("v1");
    resp->set_repository("team/app");
    resp->set_digest(kDigest);
    return Finish(ctx, absl::OkStatus());
  }
  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
};

// Admin credentials are "Basic admin"; the scanner decides, as the real one does.
class ScriptedScanner final : public sv1::ScannerService::CallbackService {
 public:
  grpc::ServerUnaryReactor* EnqueueScan(grpc::CallbackServerContext* ctx, const sv1::EnqueueScanRequest* req,
                                        sv1::EnqueueScanResponse* resp) override {
    absl::Status s = Admin(*ctx);
    if (!s.ok()) return Finish(ctx, s);
    absl::MutexLock lock(&mu_);
    enqueued_.push_back(req->repository() + "@" + req->digest() + (req->force() ? " force" : ""));
    resp->set_queued(true);
    resp->set_job_id(41);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* RescanAll(grpc::CallbackServerContext* ctx, const sv1::RescanAllRequest*,
                                      sv1::RescanAllResponse* resp) override {
    absl::Status s = Admin(*ctx);
    if (!s.ok()) return Finish(ctx, s);
    resp->set_queued(12);
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetScanResult(grpc::CallbackServerContext* ctx, const sv1::GetScanResultRequest* req,
                                          sv1::GetScanResultResponse* resp) override {
    absl::MutexLock lock(&mu_);
    last_result_ = *req;
    if (!scanned_) return Finish(ctx, absl::NotFoundError("manifest was never scanned"));
    resp->mutable_summary()->set_status(sv1::SCAN_STATUS_DONE);
    resp->set_total(3);
    resp->set_page(req->page());
    resp->set_per_page(req->per_page());
    sv1::Vulnerability* v = resp->add_vulnerabilities();
    v->set_id("CVE-2023-5678");
    v->set_severity(sv1::SEVERITY_HIGH);
    v->set_package("libssl3");
    v->set_installed_version("3.0.11-1~deb12u1");
    v->set_fixed_version("3.0.11-1~deb12u2");
    v->set_source_package("openssl");
    v->set_package_type("dpkg");
    v->add_links("https://security-tracker.debian.org/tracker/CVE-2023-5678");
    v->set_description("Generating excessively long X9.42 DH keys ...");
    return Finish(ctx, absl::OkStatus());
  }
  grpc::ServerUnaryReactor* GetScanSummaries(grpc::CallbackServerContext* ctx, const sv1::GetScanSummariesRequest*,
                                             sv1::GetScanSummariesResponse*) override {
    return Finish(ctx, absl::UnimplementedError("not scripted"));
  }

  static absl::Status Admin(const grpc::CallbackServerContext& ctx) {
    const std::string auth = MetadataValue(ctx, "authorization");
    if (auth.empty()) return absl::UnauthenticatedError("rescanning requires administrator credentials");
    if (auth != "Basic admin") return absl::PermissionDeniedError("only for administrators");
    return absl::OkStatus();
  }

  absl::Mutex mu_;
  std::vector<std::string> enqueued_ ABSL_GUARDED_BY(mu_);
  sv1::GetScanResultRequest last_result_ ABSL_GUARDED_BY(mu_);
  bool scanned_ ABSL_GUARDED_BY(mu_) = true;
};

class RoutesScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&catalog_);
    builder.RegisterService(&scanner_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    Upstreams::Options o;
    o.auth_address = o.health_address = "127.0.0.1:1";
    o.catalog_address = o.scanner_address = "127.0.0.1:" + std::to_string(port_);
    o.rpc_timeout = absl::Seconds(5);
    upstreams_ = std::make_unique<Upstreams>(o);
    RegisterScannerRoutes(router_, *upstreams_);
  }
  void TearDown() override {
    upstreams_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  HttpResponse Send(const std::string& method, const std::string& target, const std::string& authorization = "") {
    HttpRequest req;
    req.method = method;
    req.SetTarget(target);
    req.request_id = "req-1";
    if (!authorization.empty()) req.headers.emplace_back("authorization", authorization);
    absl::Notification done;
    HttpResponse out;
    router_.Dispatch(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }

  ScriptedCatalog catalog_;
  ScriptedScanner scanner_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Upstreams> upstreams_;
  Router router_{RouterOptions{"https://portus.example.com"}};
};

TEST_F(RoutesScannerTest, RescanAllIsForAdminsAndAnswers202) {
  HttpResponse r = Send("POST", "/api/v1/vulnerabilities", "Basic admin");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(nlohmann::json::parse(r.body), nlohmann::json::parse(R"({"queued":12})"));
  EXPECT_EQ(Send("POST", "/api/v1/vulnerabilities").status, 401);
  HttpResponse denied = Send("POST", "/api/v1/vulnerabilities", "Basic bob");
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(nlohmann::json::parse(denied.body)["message"], "only for administrators");
}

TEST_F(RoutesScannerTest, RescanOneTagForcesAScanOfItsDigest) {
  HttpResponse r = Send("POST", "/api/v1/vulnerabilities/7", "Basic admin");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(nlohmann::json::parse(r.body)["job_id"], 41);
  {
    absl::MutexLock lock(&scanner_.mu_);
    EXPECT_THAT(scanner_.enqueued_, ::testing::ElementsAre("team/app@" + kDigest + " force"));
  }
  {
    absl::MutexLock lock(&catalog_.mu_);
    EXPECT_EQ(catalog_.authorization_, "Basic admin");  // the catalog filtered by the caller
  }
  EXPECT_EQ(Send("POST", "/api/v1/vulnerabilities/8", "Basic admin").status, 404);
  EXPECT_EQ(Send("POST", "/api/v1/vulnerabilities/7", "Basic bob").status, 403);
  HttpResponse bad = Send("POST", "/api/v1/vulnerabilities/x", "Basic admin");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["field"], "tag_id");
  absl::MutexLock lock(&scanner_.mu_);
  EXPECT_EQ(scanner_.enqueued_.size(), 1u);
}

TEST_F(RoutesScannerTest, TagVulnerabilitiesArePagedAndFiltered) {
  HttpResponse r = Send("GET", "/api/v1/tags/7/vulnerabilities?severity=high,Critical&per_page=1&page=2", "Basic bob");
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["name"], "CVE-2023-5678");
  EXPECT_EQ(body[0]["severity"], "High");
  EXPECT_EQ(body[0]["package"], "libssl3");
  EXPECT_EQ(body[0]["version"], "3.0.11-1~deb12u1");
  EXPECT_EQ(body[0]["fixed_by"], "3.0.11-1~deb12u2");
  EXPECT_EQ(body[0]["link"], "https://security-tracker.debian.org/tracker/CVE-2023-5678");
  EXPECT_EQ(r.Header("X-Total"), "3");
  EXPECT_EQ(r.Header("X-Page"), "2");
  EXPECT_EQ(r.Header("X-Scan-Status"), "done");
  {
    absl::MutexLock lock(&scanner_.mu_);
    EXPECT_EQ(scanner_.last_result_.digest(), kDigest);
    EXPECT_THAT(scanner_.last_result_.severities(),
                ::testing::ElementsAre(sv1::SEVERITY_HIGH, sv1::SEVERITY_CRITICAL));
    EXPECT_EQ(scanner_.last_result_.page(), 2);
    EXPECT_EQ(scanner_.last_result_.per_page(), 1);
    scanner_.scanned_ = false;
  }
  HttpResponse never = Send("GET", "/api/v1/tags/7/vulnerabilities", "Basic bob");
  EXPECT_EQ(never.status, 200);
  EXPECT_EQ(never.body, "[]");
  EXPECT_EQ(never.Header("X-Scan-Status"), "none");

  EXPECT_EQ(Send("GET", "/api/v1/tags/9/vulnerabilities").status, 404);
  HttpResponse bad = Send("GET", "/api/v1/tags/7/vulnerabilities?severity=awful");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["field"], "severity");
  EXPECT_EQ(Send("GET", "/api/v1/tags/7/vulnerabilities?per_page=5000").status, 422);
}

TEST_F(RoutesScannerTest, BackendDownIs503) {
  upstreams_->Shutdown();
  EXPECT_EQ(Send("POST", "/api/v1/vulnerabilities", "Basic admin").status, 503);
}

}  // namespace
}  // namespace portunus::gateway
