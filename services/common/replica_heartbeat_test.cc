#include "services/common/replica_heartbeat.h"

#include <atomic>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/health/v1/replicas.grpc.pb.h"
#include "prometheus/registry.h"

namespace portunus {
namespace {

namespace v1 = ::portunus::health::v1;

// Records what arrives, answers with a short interval (the health service decides it).
class RecordingRegistry final : public v1::ReplicaRegistry::CallbackService {
 public:
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override {
    {
      absl::MutexLock lock(&mu_);
      heartbeats_.push_back(*req);
      auto it = ctx->client_metadata().find("authorization");
      if (it != ctx->client_metadata().end()) {
        authorization_ = std::string(it->second.data(), it->second.size());
      }
    }
    resp->set_next_heartbeat_ms(100);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* Deregister(grpc::CallbackServerContext* ctx,
                                       const v1::DeregisterRequest* req,
                                       v1::DeregisterResponse*) override {
    {
      absl::MutexLock lock(&mu_);
      deregistered_.push_back(req->replica_id());
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  // Blocks until at least n heartbeats arrived.
  std::vector<v1::HeartbeatRequest> WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    const auto enough = [this, n]()
                            ABSL_NO_THREAD_SAFETY_ANALYSIS { return heartbeats_.size() >= n; };
    mu_.Await(absl::Condition(&enough));
    return heartbeats_;
  }

  absl::Mutex mu_;
  std::vector<v1::HeartbeatRequest> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> deregistered_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
};

TEST(ReplicaIdentityTest, RandomIdsNamedAfterTheService) {
  ReplicaIdentity a = NewReplicaIdentity("catalog", "127.0.0.1:50052");
  ReplicaIdentity b = NewReplicaIdentity("catalog", "");
  EXPECT_THAT(a.id, ::testing::MatchesRegex("catalog-[0-9a-f]{12}"));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.service, "catalog");
  EXPECT_EQ(a.address, "127.0.0.1:50052");
  EXPECT_GT(a.pid, 0);
  EXPECT_FALSE(a.hostname.empty());
  EXPECT_EQ(a.version, PortunusVersion());
}

TEST(ReplicaHeartbeatTest, SendsAsTheInternalPrincipalAtTheAskedIntervalAndDeregisters) {
  RecordingRegistry registry;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&registry);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);

  prometheus::Registry metrics;
  std::atomic<bool> ready{false};
  ReplicaHeartbeat heartbeat(
      ReplicaHeartbeat::Options{"127.0.0.1:" + std::to_string(port),
                                "0123456789abcdef0123456789abcdef", absl::Seconds(5),
                                absl::Hours(1), &metrics},
      NewReplicaIdentity("auth", "127.0.0.1:50051"), [&ready] {
        return ReplicaReadiness{ready.load(), ready.load() ? "" : "database is initializing"};
      });
  heartbeat.Start();
  // The first heartbeat goes out at once; the default interval (1 h) would block the second,
  // so seeing it proves the health service's 100 ms was used.
  std::vector<v1::HeartbeatRequest> first = registry.WaitFor(1);
  EXPECT_EQ(first[0].replica_id(), heartbeat.identity().id);
  EXPECT_EQ(first[0].service(), "auth");
  EXPECT_FALSE(first[0].ready());
  EXPECT_EQ(first[0].not_ready_reason(), "database is initializing");
  EXPECT_EQ(first[0].address(), "127.0.0.1:50051");
  absl::Time started;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, first[0].started_at(), &started, &err)) << err;
  ready = true;
  std::vector<v1::HeartbeatRequest> later;
  do {
    later = registry.WaitFor(later.size() + 1);
  } while (!later.back().ready());
  EXPECT_EQ(later.back().not_ready_reason(), "");

  EXPECT_TRUE(heartbeat.Stop(absl::Now() + absl::Seconds(5)).ok());
  absl::MutexLock lock(&registry.mu_);
  EXPECT_EQ(registry.authorization_,
            "Basic " + absl::Base64Escape("portunus:0123456789abcdef0123456789abcdef"));
  EXPECT_THAT(registry.deregistered_, ::testing::ElementsAre(heartbeat.identity().id));
  server->Shutdown();
}

TEST(ReplicaHeartbeatTest, AnUnreachableHealthServiceIsReportedNotFatal) {
  prometheus::Registry metrics;
  // Port 1 on loopback: nothing listens there.
  ReplicaHeartbeat heartbeat(ReplicaHeartbeat::Options{"127.0.0.1:1", "secret", absl::Seconds(2),
                                                       absl::Hours(1), &metrics},
                             NewReplicaIdentity("auth", ""), [] {
                               return ReplicaReadiness{true, ""};
                             });
  absl::Status s = heartbeat.SendOnce();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(),
              ::testing::HasSubstr("heartbeat to the health service at 127.0.0.1:1 failed"));
  EXPECT_EQ(heartbeat.Stop(absl::Now() + absl::Seconds(2)).code(), absl::StatusCode::kUnavailable);
  double errors = -1;
  for (const auto& family : metrics.Collect()) {
    if (family.name != "portunus_replica_heartbeats_total") continue;
    for (const auto& m : family.metric) {
      if (m.label[0].value == "error") errors = m.counter.value;
    }
  }
  EXPECT_EQ(errors, 1);
}

}  // namespace
}  // namespace portunus
