// The gRPC transport run in-process over the real services (userver's ServiceFixture style).
#include "services/health/grpc_health_service.h"

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_caller_authenticator.h"
#include "services/common/testing/fake_clock.h"
#include "services/health/fake_replica_store.h"
#include "services/health/fake_sources.h"

namespace portunus::health {
namespace {

using ::portunus::testing::FakeCallerAuthenticator;

using ::portunus::testing::FakeClock;

const char kSecret[] = "0123456789abcdef0123456789abcdef";

class FixedCheck final : public ComponentCheck {
 public:
  FixedCheck(std::string name, bool success, std::string msg)
      : name_(std::move(name)), success_(success), msg_(std::move(msg)) {}
  const std::string& name() const override { return name_; }
  std::optional<ComponentStatus> Run(absl::Duration) override {
    ComponentStatus s;
    s.success = success_;
    s.message = msg_;
    return s;
  }

 private:
  std::string name_;
  bool success_;
  std::string msg_;
};

class GrpcHealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(true); }

  void Build(bool registry_ok) {
    std::vector<std::unique_ptr<ComponentCheck>> checks;
    checks.push_back(std::make_unique<FixedCheck>("database", true, "database is up-to-date"));
    checks.push_back(std::make_unique<FixedCheck>(
        "registry", registry_ok,
        registry_ok ? "registry is reachable" : "registry is not reachable: Connection refused"));
    monitor_ = std::make_unique<HealthMonitor>(HealthMonitor::Options{}, std::move(checks), clock_);
    monitor_->RunOnce();
    health_ = std::make_unique<GrpcHealthService>(GrpcHealthService::Deps{
        *monitor_, registry_, authenticator_, workers_, clock_, absl::Seconds(1), kSecret,
        [] { return std::vector<std::string>{"auth"}; }});
    replicas_ = std::make_unique<GrpcReplicaRegistryService>(registry_, kSecret);
    grpc::ServerBuilder builder;
    builder.RegisterService(health_.get());
    builder.RegisterService(replicas_.get());
    server_ = builder.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }

  void TearDown() override { server_->Shutdown(); }

  static std::string Basic(const std::string& user_pass) {
    return "Basic " + absl::Base64Escape(user_pass);
  }

  v1::HeartbeatRequest Heartbeat(const std::string& id) {
    v1::HeartbeatRequest req;
    req.set_replica_id(id);
    req.set_service("auth");
    req.set_hostname("node-1");
    req.set_pid(7);
    req.set_address("127.0.0.1:50051");
    req.set_version("0.1.0");
    req.set_started_at("2026-11-22T21:00:00Z");
    req.set_ready(true);
    return req;
  }

  grpc::Status SendHeartbeat(const v1::HeartbeatRequest& req, const std::string& authorization,
                             v1::HeartbeatResponse* resp) {
    grpc::ClientContext ctx;
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    return v1::ReplicaRegistry::NewStub(channel_)->Heartbeat(&ctx, req, resp);
  }

  FakeClock clock_;
  FakeReplicaStore store_;
  ReplicaRegistry registry_{ReplicaRegistry::Options{absl::Milliseconds(1500)}, store_, clock_};
  FakeCallerAuthenticator authenticator_;
  WorkerPool workers_{2};
  std::unique_ptr<HealthMonitor> monitor_;
  std::unique_ptr<GrpcHealthService> health_;
  std::unique_ptr<GrpcReplicaRegistryService> replicas_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcHealthServiceTest, GetHealthAnswersFromTheLastResults) {
  grpc::ClientContext ctx;
  v1::GetHealthResponse resp;
  ASSERT_TRUE(v1::HealthService::NewStub(channel_)->GetHealth(&ctx, {}, &resp).ok());
  EXPECT_TRUE(resp.healthy());
  EXPECT_EQ(resp.error(), "");
  ASSERT_EQ(resp.components_size(), 2);
  EXPECT_EQ(resp.components(0).name(), "database");
  EXPECT_EQ(resp.components(0).msg(), "database is up-to-date");
  EXPECT_TRUE(resp.components(0).success());
  EXPECT_EQ(resp.components(0).checked_at(), "2023-11-14T22:13:20.000Z");

  TearDown();
  Build(false);
  grpc::ClientContext ctx2;
  v1::GetHealthResponse bad;
  ASSERT_TRUE(v1::HealthService::NewStub(channel_)->GetHealth(&ctx2, {}, &bad).ok());
  EXPECT_FALSE(bad.healthy());
  EXPECT_EQ(bad.error(), "registry is not reachable: Connection refused");
  EXPECT_FALSE(bad.components(1).success());
}

TEST_F(GrpcHealthServiceTest, HeartbeatsNeedTheInternalPrincipalAndValidFields) {
  v1::HeartbeatResponse resp;
  EXPECT_EQ(SendHeartbeat(Heartbeat("auth-1"), "", &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(SendHeartbeat(Heartbeat("auth-1"), Basic("portunus:wrong"), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(registry_.Snapshot().empty());

  v1::HeartbeatRequest bad = Heartbeat("auth 1");
  grpc::Status s = SendHeartbeat(bad, Basic(std::string("portunus:") + kSecret), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "replica_id");
  bad = Heartbeat("auth-1");
  bad.set_started_at("yesterday");
  s = SendHeartbeat(bad, Basic(std::string("portunus:") + kSecret), &resp);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "started_at");

  ASSERT_TRUE(
      SendHeartbeat(Heartbeat("auth-1"), Basic(std::string("portunus:") + kSecret), &resp).ok());
  EXPECT_EQ(resp.next_heartbeat_ms(), 1500);
  std::vector<ReplicaView> views = registry_.Snapshot();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].record.address, "127.0.0.1:50051");
  EXPECT_EQ(views[0].record.started_at, absl::FromUnixSeconds(1795381200));

  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", Basic(std::string("portunus:") + kSecret));
  v1::DeregisterRequest dereg;
  dereg.set_replica_id("auth-1");
  v1::DeregisterResponse dresp;
  ASSERT_TRUE(v1::ReplicaRegistry::NewStub(channel_)->Deregister(&ctx, dereg, &dresp).ok());
  EXPECT_EQ(registry_.Snapshot()[0].state, ReplicaState::kStopped);
  grpc::ClientContext ctx2;
  ctx2.AddMetadata("authorization", Basic(std::string("portunus:") + kSecret));
  dereg.set_replica_id("nope");
  EXPECT_EQ(v1::ReplicaRegistry::NewStub(channel_)->Deregister(&ctx2, dereg, &dresp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext ctx3;
  EXPECT_EQ(v1::ReplicaRegistry::NewStub(channel_)->Deregister(&ctx3, dereg, &dresp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcHealthServiceTest, ClusterStatusIsForAdminsOnly) {
  authenticator_.Add("Basic alice", Caller::User("alice", /*admin=*/true));
  authenticator_.Add("Basic bob", Caller::User("bob"));
  v1::HeartbeatResponse hb;
  ASSERT_TRUE(
      SendHeartbeat(Heartbeat("auth-1"), Basic(std::string("portunus:") + kSecret), &hb).ok());
  v1::HeartbeatRequest sick = Heartbeat("auth-2");
  sick.set_ready(false);
  sick.set_not_ready_reason("database is initializing");
  ASSERT_TRUE(SendHeartbeat(sick, Basic(std::string("portunus:") + kSecret), &hb).ok());

  const auto call = [&](const std::string& authorization, v1::GetClusterStatusResponse* resp) {
    grpc::ClientContext ctx;
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    return v1::HealthService::NewStub(channel_)->GetClusterStatus(&ctx, {}, resp);
  };
  v1::GetClusterStatusResponse resp;
  EXPECT_EQ(call("", &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(call("Basic mallory", &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status denied = call("Basic bob", &resp);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(resp.replicas_size(), 0);

  ASSERT_TRUE(call("Basic alice", &resp).ok());
  ASSERT_EQ(resp.replicas_size(), 2);
  EXPECT_EQ(resp.replicas(0).id(), "auth-1");
  EXPECT_EQ(resp.replicas(0).state(), v1::Replica::READY);
  EXPECT_EQ(resp.replicas(0).health(), "OK");
  EXPECT_EQ(resp.replicas(0).last_heartbeat(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(resp.replicas(1).state(), v1::Replica::NOT_READY);
  EXPECT_EQ(resp.replicas(1).health(), "not ready: database is initializing");
  ASSERT_EQ(resp.current_issues_size(), 1);
  EXPECT_FALSE(resp.current_issues(0).critical());
  EXPECT_EQ(resp.current_issues(0).description(),
            "auth replica auth-2 on node-1: not ready: database is initializing");
  EXPECT_EQ(resp.components_size(), 2);
  EXPECT_EQ(resp.generated_at(), "2023-11-14T22:13:20.000Z");

  authenticator_.FailAll(absl::UnavailableError("cannot check credentials: auth service: down"));
  grpc::Status down = call("Basic alice", &resp);
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(down.error_message(), "cannot check credentials: auth service: down");
  // The internal principal is recognised without the auth service.
  v1::GetClusterStatusResponse internal;
  ASSERT_TRUE(call(Basic(std::string("portunus:") + kSecret), &internal).ok());
  EXPECT_EQ(internal.replicas_size(), 2);
}

}  // namespace
}  // namespace portunus::health
