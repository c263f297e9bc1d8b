#include "services/health/cluster_status.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::health {

// For the matchers (found by argument-dependent lookup).
bool operator==(const ClusterIssue& a, const ClusterIssue& b) {
  return a.critical == b.critical && a.description == b.description;
}

std::ostream& operator<<(std::ostream& os, const ClusterIssue& i) {
  return os << "{" << i.critical << ", " << i.description << "}";
}

namespace {

ReplicaView View(const std::string& id, const std::string& service, ReplicaState state,
                 const std::string& health) {
  ReplicaView v;
  v.record.id = id;
  v.record.service = service;
  v.record.hostname = "node-" + id;
  v.state = state;
  v.health = health;
  return v;
}

ComponentStatus Component(const std::string& name, bool success, const std::string& msg,
                          bool warning = false) {
  ComponentStatus c;
  c.name = name;
  c.success = success;
  c.message = msg;
  c.warning = warning;
  return c;
}

TEST(ClusterStatusTest, HealthyClusterHasNoIssues) {
  HealthReport report;
  report.components = {Component("database", true, "database is up-to-date")};
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  ClusterStatus status = BuildClusterStatus(report,
                                            {View("a1", "auth", ReplicaState::kReady, "OK"),
                                             View("h1", "health", ReplicaState::kReady, "OK")},
                                            absl::OkStatus(), {"auth", "health"}, now);
  EXPECT_TRUE(status.issues.empty());
  EXPECT_EQ(status.replicas.size(), 2u);
  EXPECT_EQ(status.generated_at, now);
  EXPECT_EQ(status.report.components.size(), 1u);
}

TEST(ClusterStatusTest, IssuesInOrderWithCriticality) {
  HealthReport report;
  report.components = {
      Component("database", false, "cannot connect to database: refused"),
      Component("registry", true, "registry is reachable"),
      Component("catalog_sync", true, "catalog sync safety brake is active", true)};
  std::vector<ReplicaView> replicas = {
      View("a1", "auth", ReplicaState::kReady, "OK"),
      View("a2", "auth", ReplicaState::kStale, "no heartbeat for 20s"),
      View("c1", "catalog", ReplicaState::kNotReady, "not ready: database is initializing"),
      View("g1", "gateway", ReplicaState::kStopped, "stopped"),
  };
  ClusterStatus status = BuildClusterStatus(
      report, replicas, absl::UnavailableError("cannot connect to database: refused"),
      {"auth", "catalog", "gateway", "health"}, absl::Now());
  EXPECT_THAT(
      status.issues,
      ::testing::ElementsAre(
          ClusterIssue{true, "cannot connect to database: refused"},
          ClusterIssue{false, "catalog sync safety brake is active"},
          ClusterIssue{false,
                       "replica registry cannot share heartbeats with other health replicas: "
                       "cannot connect to database: refused"},
          // auth still has a ready replica: one stale replica is not critical.
          ClusterIssue{false, "auth replica a2 on node-a2: no heartbeat for 20s"},
          // catalog has none left.
          ClusterIssue{true, "catalog replica c1 on node-c1: not ready: database is initializing"},
          ClusterIssue{true, "no replica of gateway is running"},
          ClusterIssue{true, "no replica of health is running"}));
}

}  // namespace
}  // namespace portunus::health
