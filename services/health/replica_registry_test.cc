#include "services/health/replica_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/health/fake_replica_store.h"

namespace portunus::health {
namespace {

using ::portunus::testing::FakeClock;

ReplicaRecord Replica(const std::string& id, const std::string& service, bool ready = true,
                      const std::string& reason = "") {
  ReplicaRecord r;
  r.id = id;
  r.service = service;
  r.hostname = "node-1";
  r.pid = 42;
  r.address = "10.0.0.7:50051";
  r.version = "0.1.0";
  r.started_at = absl::FromUnixSeconds(1699999000);
  r.ready = ready;
  r.reason = reason;
  return r;
}

class ReplicaRegistryTest : public ::testing::Test {
 protected:
  ReplicaRegistry::Options Opts() {
    ReplicaRegistry::Options o;
    o.heartbeat_interval = absl::Seconds(5);
    o.stale_after = absl::Seconds(15);
    o.expire_after = absl::Minutes(10);
    o.max_replicas = 4;
    return o;
  }
  FakeClock clock_;
  FakeReplicaStore store_;
};

TEST_F(ReplicaRegistryTest, ReplicasGoFromReadyToStaleToExpired) {
  ReplicaRegistry registry(Opts(), store_, clock_);
  ASSERT_TRUE(registry.Heartbeat(Replica("auth-aaaaaaaaaaaa", "auth")).ok());
  ASSERT_TRUE(registry
                  .Heartbeat(Replica("auth-bbbbbbbbbbbb", "auth", false,
                                     "cannot connect to database: refused"))
                  .ok());
  std::vector<ReplicaView> views = registry.Snapshot();
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].record.id, "auth-aaaaaaaaaaaa");
  EXPECT_EQ(views[0].state, ReplicaState::kReady);
  EXPECT_EQ(views[0].health, "OK");
  EXPECT_EQ(views[0].record.last_heartbeat, clock_.Now());
  EXPECT_EQ(views[1].state, ReplicaState::kNotReady);
  EXPECT_EQ(views[1].health, "not ready: cannot connect to database: refused");
  EXPECT_EQ(registry.NotReadyReason("auth"), "cannot connect to database: refused");
  EXPECT_EQ(registry.NotReadyReason("catalog"), "");

  // b keeps heartbeating (and is now ready), a goes silent.
  clock_.Advance(absl::Seconds(10));
  ASSERT_TRUE(registry.Heartbeat(Replica("auth-bbbbbbbbbbbb", "auth")).ok());
  clock_.Advance(absl::Seconds(6));
  views = registry.Snapshot();
  EXPECT_EQ(views[0].state, ReplicaState::kStale);
  EXPECT_EQ(views[0].health, "no heartbeat for 16s");
  EXPECT_EQ(views[1].state, ReplicaState::kReady);

  clock_.Advance(absl::Seconds(589));  // a silent for 605s, b for 595s
  views = registry.Snapshot();
  ASSERT_EQ(views.size(), 1u);  // a expired; b is stale but not yet expired
  EXPECT_EQ(views[0].record.id, "auth-bbbbbbbbbbbb");
  EXPECT_EQ(views[0].health, "no heartbeat for 9m55s");
}

TEST_F(ReplicaRegistryTest, DeregisterMarksStoppedAndUnknownIsNotFound) {
  ReplicaRegistry registry(Opts(), store_, clock_);
  ASSERT_TRUE(registry.Heartbeat(Replica("catalog-1", "catalog")).ok());
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(registry.Deregister("catalog-1").ok());
  std::vector<ReplicaView> views = registry.Snapshot();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].state, ReplicaState::kStopped);
  EXPECT_EQ(views[0].health, "stopped");
  EXPECT_TRUE(views[0].record.stopped);
  // Stopped replicas never turn stale; they expire.
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(registry.Snapshot()[0].state, ReplicaState::kStopped);
  clock_.Advance(absl::Minutes(10));
  EXPECT_TRUE(registry.Snapshot().empty());

  EXPECT_EQ(registry.Deregister("nope").code(), absl::StatusCode::kNotFound);
  // A stopped replica that heartbeats again (same id) is alive again.
  ASSERT_TRUE(registry.Heartbeat(Replica("catalog-1", "catalog")).ok());
  EXPECT_EQ(registry.Snapshot()[0].state, ReplicaState::kReady);
}

TEST_F(ReplicaRegistryTest, RejectsMalformedHeartbeatsNamingTheField) {
  ReplicaRegistry registry(Opts(), store_, clock_);
  struct Case {
    std::function<void(ReplicaRecord&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](ReplicaRecord& r) { r.id = ""; }, "replica_id"},
      {[](ReplicaRecord& r) { r.id = "a b"; }, "replica_id"},
      {[](ReplicaRecord& r) { r.id = std::string(65, 'a'); }, "replica_id"},
      {[](ReplicaRecord& r) { r.service = "Auth"; }, "service"},
      {[](ReplicaRecord& r) { r.service = ""; }, "service"},
      {[](ReplicaRecord& r) { r.service = "9lives"; }, "service"},
      {[](ReplicaRecord& r) { r.service = std::string(33, 'a'); }, "service"},
      {[](ReplicaRecord& r) { r.hostname = "a\nb"; }, "hostname"},
      {[](ReplicaRecord& r) { r.address = std::string(256, 'a'); }, "address"},
      {[](ReplicaRecord& r) { r.version = std::string(65, '1'); }, "version"},
      {[](ReplicaRecord& r) {
         r.reason = std::string(1025, 'x');
         r.ready = false;
       },
       "not_ready_reason"},
      {[](ReplicaRecord& r) { r.pid = -1; }, "pid"},
  };
  for (const Case& c : cases) {
    ReplicaRecord r = Replica("auth-1", "auth");
    c.mutate(r);
    absl::Status s = registry.Heartbeat(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(ErrorField(s), c.field) << s;
  }
  EXPECT_TRUE(registry.Snapshot().empty());
}

TEST_F(ReplicaRegistryTest, BoundsTheNumberOfReplicas) {
  ReplicaRegistry registry(Opts(), store_, clock_);  // max 4
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(registry.Heartbeat(Replica("r-" + std::to_string(i), "auth")).ok());
  }
  EXPECT_EQ(registry.Heartbeat(Replica("r-new", "auth")).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(registry.Heartbeat(Replica("r-0", "auth")).ok());  // known ones still work
  // Once expired, room is made again.
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(registry.Sync().ok());
  EXPECT_TRUE(registry.Heartbeat(Replica("r-new", "auth")).ok());
}

TEST_F(ReplicaRegistryTest, SyncSharesHeartbeatsBetweenHealthReplicas) {
  ReplicaRegistry a(Opts(), store_, clock_);
  ReplicaRegistry b(Opts(), store_, clock_);
  ASSERT_TRUE(a.Heartbeat(Replica("auth-1", "auth")).ok());
  ASSERT_TRUE(b.Heartbeat(Replica("catalog-1", "catalog")).ok());
  ASSERT_TRUE(a.Sync().ok());
  ASSERT_TRUE(b.Sync().ok());
  ASSERT_TRUE(a.Sync().ok());
  ASSERT_EQ(a.Snapshot().size(), 2u);
  ASSERT_EQ(b.Snapshot().size(), 2u);

  // auth-1 now talks to b only; a's old copy loses to b's newer one.
  clock_.Advance(absl::Seconds(12));
  ASSERT_TRUE(b.Heartbeat(Replica("auth-1", "auth", false, "shutting down")).ok());
  ASSERT_TRUE(b.Sync().ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(a.Sync().ok());
  std::vector<ReplicaView> views = a.Snapshot();
  EXPECT_EQ(views[0].record.id, "auth-1");
  EXPECT_EQ(views[0].state, ReplicaState::kNotReady);
  EXPECT_EQ(views[1].record.id, "catalog-1");
  EXPECT_EQ(views[1].state, ReplicaState::kStale);

  // Expired replicas are deleted from the store too.
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(a.Sync().ok());
  EXPECT_FALSE(store_.Get("auth-1").has_value());
  EXPECT_TRUE(a.Snapshot().empty());
}

TEST_F(ReplicaRegistryTest, AStoreOutageKeepsTheLocalViewAndRetriesTheWrites) {
  ReplicaRegistry registry(Opts(), store_, clock_);
  store_.FailAll(absl::UnavailableError("cannot connect to database: refused"));
  ASSERT_TRUE(registry.Heartbeat(Replica("auth-1", "auth")).ok());
  absl::Status s = registry.Sync();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry.last_sync().code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(registry.Snapshot().size(), 1u);
  EXPECT_FALSE(store_.Get("auth-1").has_value());

  store_.FailAll(absl::OkStatus());
  ASSERT_TRUE(registry.Sync().ok());
  EXPECT_TRUE(registry.last_sync().ok());
  ASSERT_TRUE(store_.Get("auth-1").has_value());
  EXPECT_EQ(store_.Get("auth-1")->last_heartbeat, clock_.Now());

  // Nothing new to write: no Save at all.
  const int saves = store_.saves();
  ASSERT_TRUE(registry.Sync().ok());
  EXPECT_EQ(store_.saves(), saves);

  // A failure after the writes (here: expiring) keeps last_sync but writes nothing again.
  store_.FailNextCall(absl::UnavailableError("server closed the connection"));
  EXPECT_EQ(registry.Sync().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(registry.last_sync().message(), "server closed the connection");
  ASSERT_TRUE(registry.Sync().ok());
  EXPECT_EQ(store_.saves(), saves);
}

}  // namespace
}  // namespace portunus::health
