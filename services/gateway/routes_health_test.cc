// The health routes over a real gRPC HealthService backend (scripted answers) and the real
// Router and Upstreams: exact response shapes, the short-lived cache, outages and errors.
#include <memory>
#include <string>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/health/v1/health_service.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace hv1 = ::portunus::health::v1;
using ::testing::HasSubstr;

// Answers GetHealth with `health` and GetClusterStatus with `cluster` (or `cluster_error`),
// counting calls and recording the caller's authorization metadata.
class ScriptedHealth final : public hv1::HealthService::CallbackService {
 public:
  grpc::ServerUnaryReactor* GetHealth(grpc::CallbackServerContext* ctx,
                                      const hv1::GetHealthRequest*,
                                      hv1::GetHealthResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++health_calls_;
    *resp = health_;
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* ctx,
                                             const hv1::GetClusterStatusRequest*,
                                             hv1::GetClusterStatusResponse* resp) override {
    absl::MutexLock lock(&mu_);
    authorization_ = MetadataValue(*ctx, "authorization");
    auto* reactor = ctx->DefaultReactor();
    if (!cluster_error_.ok()) {
      reactor->Finish(ToGrpcStatus(cluster_error_));
    } else {
      *resp = cluster_;
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  absl::Mutex mu_;
  hv1::GetHealthResponse health_ ABSL_GUARDED_BY(mu_);
  int health_calls_ ABSL_GUARDED_BY(mu_) = 0;
  hv1::GetClusterStatusResponse cluster_ ABSL_GUARDED_BY(mu_);
  absl::Status cluster_error_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
};

hv1::Component* Add(hv1::GetHealthResponse* r, const std::string& name, bool ok,
                    const std::string& msg) {
  hv1::Component* c = r->add_components();
  c->set_name(name);
  c->set_success(ok);
  c->set_msg(msg);
  return c;
}

class RoutesHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&backend_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
    Build(port_);
  }
  void TearDown() override {
    upstreams_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  void Build(int port) {
    Upstreams::Options o;
    o.auth_address = o.catalog_address = o.scanner_address = "127.0.0.1:1";
    o.health_address = "127.0.0.1:" + std::to_string(port);
    o.rpc_timeout = absl::Seconds(5);
    upstreams_ = std::make_unique<Upstreams>(o);
    router_ = std::make_unique<Router>();
    RegisterHealthRoutes(*router_, *upstreams_, HealthRouteOptions{absl::Seconds(1), &clock_});
    RegisterGatewayStatusRoute(*router_, [] {
      HttpServerStats s;
      s.active = 3;
      s.accepts = 120;
      s.handled = 119;
      s.requests = 4567;
      s.reading = 1;
      s.writing = 1;
      s.waiting = 1;
      return s;
    });
  }

  HttpResponse Get(const std::string& path, const std::string& authorization = "") {
    HttpRequest req;
    req.method = "GET";
    req.target = req.path = path;
    req.request_id = "req-1";
    if (!authorization.empty()) req.headers.emplace_back("authorization", authorization);
    absl::Notification done;
    HttpResponse out;
    router_->Dispatch(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }

  int HealthCalls() {
    absl::MutexLock lock(&backend_.mu_);
    return backend_.health_calls_;
  }

  testing::FakeClock clock_;
  ScriptedHealth backend_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Upstreams> upstreams_;
  std::unique_ptr<Router> router_;
};

TEST_F(RoutesHealthTest, HealthyIsPortusShapeAnd200AndPingIsMsrShape) {
  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.health_.set_healthy(true);
    Add(&backend_.health_, "database", true, "database is up-to-date");
    Add(&backend_.health_, "registry", true, "registry is reachable");
  }
  HttpResponse h = Get("/api/v1/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_THAT(h.Header("Content-Type"), HasSubstr("application/json"));
  EXPECT_EQ(h.body, R"({"database":{"msg":"database is up-to-date","success":true},)"
                    R"("registry":{"msg":"registry is reachable","success":true}})");
  HttpResponse p = Get("/_ping");
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.body, R"({"Error":"","Healthy":true})");
}

TEST_F(RoutesHealthTest, UnhealthyIs503WithTheReason) {
  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.health_.set_healthy(false);
    backend_.health_.set_error("cannot connect to database: refused");
    Add(&backend_.health_, "database", false, "cannot connect to database: refused");
  }
  HttpResponse h = Get("/api/v1/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.body,
            R"({"database":{"msg":"cannot connect to database: refused","success":false}})");
  HttpResponse p = Get("/_ping");
  EXPECT_EQ(p.status, 503);
  EXPECT_EQ(p.body, R"({"Error":"cannot connect to database: refused","Healthy":false})");
}

TEST_F(RoutesHealthTest, AnswersFromACopyRefreshedAfterTheTtl) {
  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.health_.set_healthy(true);
    Add(&backend_.health_, "database", true, "database is up-to-date");
  }
  EXPECT_EQ(Get("/api/v1/health").status, 200);
  EXPECT_EQ(Get("/_ping").status, 200);
  EXPECT_EQ(Get("/api/v1/health").status, 200);
  EXPECT_EQ(HealthCalls(), 1);

  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.health_.set_healthy(false);
    backend_.health_.set_error("database is initializing");
    backend_.health_.mutable_components(0)->set_success(false);
    backend_.health_.mutable_components(0)->set_msg("database is initializing");
  }
  clock_.Advance(absl::Milliseconds(1001));
  // The stale copy answers at once while one refresh runs; then the new answer.
  EXPECT_EQ(Get("/api/v1/health").status, 200);
  HttpResponse fresh;
  for (int i = 0; i < 200 && fresh.status != 503; ++i) {
    fresh = Get("/api/v1/health");
    if (fresh.status != 503) absl::SleepFor(absl::Milliseconds(10));  // the refresh's RPC
  }
  EXPECT_EQ(fresh.status, 503);
  EXPECT_EQ(fresh.body, R"({"database":{"msg":"database is initializing","success":false}})");
  EXPECT_EQ(HealthCalls(), 2);
}

TEST_F(RoutesHealthTest, UnreachableHealthServiceIs503) {
  upstreams_->Shutdown();
  Build(1);  // nothing listens on port 1
  HttpResponse h = Get("/api/v1/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_THAT(h.body, HasSubstr(R"({"health":{"msg":"health service is not reachable: )"));
  EXPECT_THAT(h.body, HasSubstr(R"("success":false}})"));
  HttpResponse p = Get("/_ping");
  EXPECT_EQ(p.status, 503);
  EXPECT_THAT(p.body, HasSubstr(R"({"Error":"health service is not reachable: )"));
}

TEST_F(RoutesHealthTest, ClusterStatusForwardsCredentialsAndMapsRefusals) {
  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.cluster_error_ =
        absl::UnauthenticatedError("the cluster status requires administrator credentials");
  }
  HttpResponse anonymous = Get("/api/v0/meta/cluster_status");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("WWW-Authenticate"), "Basic realm=\"Portunus\"");
  EXPECT_THAT(anonymous.body, HasSubstr("requires administrator credentials"));

  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.cluster_error_ = absl::PermissionDeniedError("only for administrators");
  }
  HttpResponse bob = Get("/api/v0/meta/cluster_status", "Basic Ym9iOnB3");
  EXPECT_EQ(bob.status, 403);
  {
    absl::MutexLock lock(&backend_.mu_);
    EXPECT_EQ(backend_.authorization_, "Basic Ym9iOnB3");
    backend_.cluster_error_ = absl::OkStatus();
    hv1::Replica* r = backend_.cluster_.add_replicas();
    r->set_id("catalog-0123456789ab");
    r->set_service("catalog");
    r->set_hostname("node-1");
    r->set_pid(42);
    r->set_address("10.0.0.7:50052");
    r->set_version("0.1.0");
    r->set_started_at("2026-11-22T21:00:00.000Z");
    r->set_last_heartbeat("2026-11-22T21:42:13.123Z");
    r->set_state(hv1::Replica::STALE);
    r->set_health("no heartbeat for 42s");
    hv1::Issue* issue = backend_.cluster_.add_current_issues();
    issue->set_critical(false);
    issue->set_description("catalog replica catalog-0123456789ab on node-1: no heartbeat for 42s");
    hv1::Component* c = backend_.cluster_.add_components();
    c->set_name("database");
    c->set_success(true);
    c->set_msg("database is up-to-date");
    backend_.cluster_.set_generated_at("2026-11-22T21:43:00.000Z");
  }
  HttpResponse admin = Get("/api/v0/meta/cluster_status", "Basic YWRtaW46cHc=");
  EXPECT_EQ(admin.status, 200);
  EXPECT_EQ(
      admin.body,
      R"({"current_issues":[{"critical":false,"description":"catalog replica catalog-0123456789ab on node-1: no heartbeat for 42s"}],)"
      R"("replica_health":{"catalog-0123456789ab":"no heartbeat for 42s"},)"
      R"("replica_timestamp":{"catalog-0123456789ab":"2026-11-22T21:42:13.123Z"},)"
      R"("replicas":{"catalog-0123456789ab":{"service":"catalog","hostname":"node-1","pid":42,)"
      R"("address":"10.0.0.7:50052","version":"0.1.0","started_at":"2026-11-22T21:00:00.000Z",)"
      R"("last_heartbeat":"2026-11-22T21:42:13.123Z","state":"stale"}},)"
      R"("components":{"database":{"msg":"database is up-to-date","success":true}},)"
      R"("generated_at":"2026-11-22T21:43:00.000Z"})");
}

TEST_F(RoutesHealthTest, GatewayStatusIsNginxStubStatus) {
  HttpResponse s = Get("/gateway_status");
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.Header("Content-Type"), "text/plain");
  EXPECT_EQ(s.body,
            "Active connections: 3 \n"
            "server accepts handled requests\n"
            " 120 119 4567 \n"
            "Reading: 1 Writing: 1 Waiting: 1 \n");
}

}  // namespace
}  // namespace portunus::gateway
