// The health service's "Done when" checks (issue 6) on the real binaries, over gRPC and through
// the gateway (GET /api/v1/health, /_ping, /api/v0/meta/cluster_status) and `portunusctl
// health`: a PostgreSQL outage is reported within one check interval and recovers without
// restarting any service; a stopped registry is "not reachable"; the replica registry lists two
// replicas of one service and reports one as gone after it is killed, then forgets it.
#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/auth/v1/identity.grpc.pb.h"
#include "portunus/health/v1/health_service.grpc.pb.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

namespace hv1 = ::portunus::health::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<hv1::GetHealthResponse> GetHealth(const std::string& address) {
  auto stub =
      hv1::HealthService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  hv1::GetHealthResponse resp;
  grpc::Status s = stub->GetHealth(&ctx, {}, &resp);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return resp;
}

absl::StatusOr<hv1::GetClusterStatusResponse> GetClusterStatus(const std::string& address,
                                                               const std::string& secret) {
  auto stub =
      hv1::HealthService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  ctx.AddMetadata("authorization", "Basic " + absl::Base64Escape("portunus:" + secret));
  hv1::GetClusterStatusResponse resp;
  grpc::Status s = stub->GetClusterStatus(&ctx, {}, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return resp;
}

// The message of component `name`, or "<absent>".
std::string Msg(const hv1::GetHealthResponse& health, const std::string& name) {
  for (const auto& c : health.components()) {
    if (c.name() == name) return c.msg();
  }
  return "<absent>";
}

std::string Describe(const absl::StatusOr<hv1::GetHealthResponse>& h) {
  return h.ok() ? h->DebugString() : std::string(h.status().message());
}

// Polls GetHealth until `done` holds; returns the last answer.
absl::StatusOr<hv1::GetHealthResponse> PollHealth(
    const std::string& address, const std::function<bool(const hv1::GetHealthResponse&)>& done,
    absl::Duration timeout) {
  absl::StatusOr<hv1::GetHealthResponse> last = absl::UnavailableError("not asked yet");
  PollUntil(
      [&] {
        last = GetHealth(address);
        return last.ok() && done(*last);
      },
      timeout, absl::Milliseconds(50));
  return last;
}

// GET `url` on the gateway, with the body parsed as JSON (discarded when it is not JSON).
struct GatewayAnswer {
  long status = 0;
  nlohmann::json body;
  std::string raw;
};
absl::StatusOr<GatewayAnswer> GatewayGet(
    const std::string& url, std::vector<std::pair<std::string, std::string>> headers = {}) {
  absl::StatusOr<HttpResponse> r = HttpGet(url, std::move(headers));
  if (!r.ok()) return r.status();
  GatewayAnswer a;
  a.status = r->status;
  a.raw = r->body;
  a.body = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return a;
}

// The "msg" of component `name` in a /api/v1/health body, or "<absent>".
std::string Msg(const nlohmann::json& health, const std::string& name) {
  if (!health.is_object() || !health.contains(name) || !health[name].is_object()) {
    return "<absent>";
  }
  return health[name].value("msg", "<no msg>");
}

// Polls the gateway's GET /api/v1/health until `done` holds; returns the last answer.
absl::StatusOr<GatewayAnswer> PollGatewayHealth(
    const std::string& gateway, const std::function<bool(const GatewayAnswer&)>& done,
    absl::Duration timeout) {
  absl::StatusOr<GatewayAnswer> last = absl::UnavailableError("not asked yet");
  PollUntil(
      [&] {
        last = GatewayGet(gateway + "/api/v1/health");
        return last.ok() && done(*last);
      },
      timeout, absl::Milliseconds(50));
  return last;
}

std::string Describe(const absl::StatusOr<GatewayAnswer>& a) {
  return a.ok() ? absl::StrCat(a->status, " ", a->raw) : std::string(a.status().message());
}

// Portus's exact shape: an object of {"msg": string, "success": bool} objects, nothing else.
void ExpectPortusHealthShape(const GatewayAnswer& a) {
  ASSERT_TRUE(a.body.is_object()) << a.raw;
  EXPECT_FALSE(a.body.empty()) << a.raw;
  bool all_ok = true;
  for (const auto& [name, component] : a.body.items()) {
    ASSERT_TRUE(component.is_object()) << name << " in " << a.raw;
    EXPECT_EQ(component.size(), 2u) << name << " in " << a.raw;
    EXPECT_TRUE(component.contains("msg") && component["msg"].is_string()) << a.raw;
    EXPECT_TRUE(component.contains("success") && component["success"].is_boolean()) << a.raw;
    all_ok = all_ok && component.value("success", false);
  }
  EXPECT_EQ(a.status, all_ok ? 200 : 503) << a.raw;
}

class HealthTest : public ::testing::Test {
 protected:
  // Fast intervals so the scenarios take seconds; the defaults (5 s) behave the same, slower.
  static std::map<std::string, std::string> FastConfig() {
    return {{"health.check_interval", "1s"},
            {"health.check_timeout", "2s"},
            {"health.heartbeat_interval", "250ms"},
            {"health.replica_stale_after", "1s"},
            {"health.replica_expire_after", "4s"}};
  }
};

TEST_F(HealthTest, DatabaseOutageIsReportedWithinOneIntervalAndRecoversWithoutRestarts) {
  // A PostgreSQL of this test's own, so it can be stopped under the running services.
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<PostgresServer> pg, PostgresServer::Start());
  HARNESS_ASSERT_OK(pg->CreateDatabase("portunus"));
  Stack::Options options;
  options.services = {"auth", "catalog", "health", "gateway"};
  options.db_dsn = pg->Dsn("portunus");
  options.config = FastConfig();
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSERT_OK(stack->Start());
  const std::string health = stack->grpc_address("health");
  std::map<std::string, pid_t> pids;
  for (const std::string& svc : options.services) pids[svc] = stack->process(svc)->pid();

  auto before = PollHealth(
      health,
      [](const hv1::GetHealthResponse& h) {
        return Msg(h, "database") == "database is up-to-date" &&
               Msg(h, "auth") == "auth is serving" && Msg(h, "catalog") == "catalog is serving";
      },
      absl::Seconds(20));
  ASSERT_TRUE(before.ok() && Msg(*before, "database") == "database is up-to-date")
      << Describe(before);
  const std::string gateway = stack->gateway_url();
  const auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", gateway, "health"});
    return stack->RunCtl(args);
  };
  auto gw_before = PollGatewayHealth(
      gateway,
      [](const GatewayAnswer& a) { return Msg(a.body, "database") == "database is up-to-date"; },
      absl::Seconds(10));
  ASSERT_TRUE(gw_before.ok() && Msg(gw_before->body, "database") == "database is up-to-date")
      << Describe(gw_before);
  ExpectPortusHealthShape(*gw_before);
  EXPECT_EQ(gw_before->body["database"]["success"], true);
  {
    absl::StatusOr<CommandResult> r = ctl({"-c", "database"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->ok()) << r->Describe() << r->out;
    EXPECT_THAT(r->out, ::testing::ContainsRegex("database +ok +database is up-to-date"));
  }

  HARNESS_ASSERT_OK(pg->Stop());
  const absl::Time stopped = absl::Now();
  // Through the gateway, as a load balancer sees it.
  auto gw_down = PollGatewayHealth(
      gateway,
      [](const GatewayAnswer& a) {
        return a.status == 503 && Msg(a.body, "database") != "database is up-to-date";
      },
      absl::Seconds(10));
  const absl::Duration noticed = absl::Now() - stopped;
  ASSERT_TRUE(gw_down.ok()) << Describe(gw_down);
  EXPECT_EQ(gw_down->status, 503);
  EXPECT_THAT(Msg(gw_down->body, "database"), StartsWith("cannot connect to database: "));
  EXPECT_EQ(gw_down->body["database"]["success"], false);
  ExpectPortusHealthShape(*gw_down);
  // One check interval (1 s) plus the gateway's 250 ms copy, plus slack for a loaded 2-core
  // machine.
  EXPECT_LE(noticed, absl::Seconds(1) + absl::Milliseconds(250) + absl::Milliseconds(1500));
  {
    absl::StatusOr<GatewayAnswer> ping = GatewayGet(gateway + "/_ping");
    ASSERT_TRUE(ping.ok()) << ping.status();
    EXPECT_EQ(ping->status, 503);
    ASSERT_TRUE(ping->body.is_object()) << ping->raw;
    EXPECT_EQ(ping->body.size(), 2u) << ping->raw;
    EXPECT_EQ(ping->body.value("Healthy", true), false) << ping->raw;
    EXPECT_THAT(ping->body.value("Error", ""), StartsWith("cannot connect to database: "));
  }
  {
    absl::StatusOr<CommandResult> all = ctl({});
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->status.code, 1) << all->Describe();
    EXPECT_THAT(all->out, ::testing::ContainsRegex("database +FAILED +cannot connect to database: "));
    absl::StatusOr<CommandResult> quiet = ctl({"-q"});
    ASSERT_TRUE(quiet.ok()) << quiet.status();
    EXPECT_EQ(quiet->status.code, 1) << quiet->Describe();
    EXPECT_EQ(quiet->out, "");
    absl::StatusOr<CommandResult> one = ctl({"-c", "database", "--format", "json"});
    ASSERT_TRUE(one.ok()) << one.status();
    EXPECT_EQ(one->status.code, 1) << one->Describe();
  }
  // The health service says the same over gRPC.
  auto down = PollHealth(
      health,
      [](const hv1::GetHealthResponse& h) {
        return !h.healthy() && Msg(h, "database") != "database is up-to-date";
      },
      absl::Seconds(10));
  ASSERT_TRUE(down.ok()) << Describe(down);
  EXPECT_THAT(Msg(*down, "database"), StartsWith("cannot connect to database: "));
  EXPECT_EQ(down->error(), Msg(*down, "database"));  // the first failing component

  // The services report why they stopped serving through their heartbeats.
  auto explained = PollHealth(
      health,
      [](const hv1::GetHealthResponse& h) {
        return absl::StartsWith(Msg(h, "auth"), "auth is not serving: cannot connect to database");
      },
      absl::Seconds(15));
  EXPECT_TRUE(explained.ok() && absl::StartsWith(Msg(*explained, "auth"),
                                                 "auth is not serving: cannot connect to database"))
      << Describe(explained);

  HARNESS_ASSERT_OK(pg->Restart());
  auto recovered = PollHealth(
      health,
      [](const hv1::GetHealthResponse& h) {
        return Msg(h, "database") == "database is up-to-date" &&
               Msg(h, "auth") == "auth is serving" && Msg(h, "catalog") == "catalog is serving";
      },
      absl::Seconds(30));
  ASSERT_TRUE(recovered.ok()) << Describe(recovered);
  EXPECT_EQ(Msg(*recovered, "database"), "database is up-to-date");
  EXPECT_EQ(Msg(*recovered, "auth"), "auth is serving");
  EXPECT_EQ(Msg(*recovered, "catalog"), "catalog is serving");
  auto gw_again = PollGatewayHealth(
      gateway,
      [](const GatewayAnswer& a) { return Msg(a.body, "database") == "database is up-to-date"; },
      absl::Seconds(10));
  EXPECT_TRUE(gw_again.ok() && Msg(gw_again->body, "database") == "database is up-to-date")
      << Describe(gw_again);
  {
    absl::StatusOr<CommandResult> r = ctl({"-c", "database"});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status.code, 0) << r->Describe() << r->out;
    // No registry runs in this test: it is what keeps Portunus unhealthy now.
    absl::StatusOr<GatewayAnswer> ping = GatewayGet(gateway + "/_ping");
    ASSERT_TRUE(ping.ok()) << ping.status();
    EXPECT_EQ(ping->status, 503);
    EXPECT_THAT(ping->body.value("Error", ""), StartsWith("registry is not reachable: "));
    absl::StatusOr<CommandResult> registry = ctl({"-q", "-c", "registry"});
    ASSERT_TRUE(registry.ok()) << registry.status();
    EXPECT_EQ(registry->status.code, 1) << registry->Describe();
    absl::StatusOr<CommandResult> unknown = ctl({"-c", "flux-capacitor"});
    ASSERT_TRUE(unknown.ok()) << unknown.status();
    EXPECT_EQ(unknown->status.code, 1) << unknown->Describe();
    EXPECT_THAT(unknown->err, HasSubstr("component \"flux-capacitor\" is not reported"));
  }
  // Nobody was restarted.
  for (const std::string& svc : options.services) {
    EXPECT_TRUE(stack->process(svc)->IsRunning()) << svc;
    EXPECT_EQ(stack->process(svc)->pid(), pids[svc]) << svc;
  }
}

TEST_F(HealthTest, StoppedRegistryIsNotReachable) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.services = {"auth", "catalog", "health", "gateway"};
  options.db_dsn = db->dsn();
  options.config = FastConfig();
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<RegistryServer> registry,
                         RegistryServer::Start(stack->RegistryOptions()));
  HARNESS_ASSERT_OK(stack->Start());
  const std::string health = stack->grpc_address("health");

  const auto reachable = [](const hv1::GetHealthResponse& h) {
    return absl::StartsWith(Msg(h, "registry"), "registry is reachable");
  };
  auto up = PollHealth(health, reachable, absl::Seconds(15));
  ASSERT_TRUE(up.ok() && reachable(*up)) << Describe(up);

  // Reachable and usable (a token for the internal principal works, the catalog is readable),
  // so Portunus is healthy: 200 everywhere, exit code 0.
  auto healthy = PollGatewayHealth(
      stack->gateway_url(), [](const GatewayAnswer& a) { return a.status == 200; },
      absl::Seconds(15));
  ASSERT_TRUE(healthy.ok() && healthy->status == 200) << Describe(healthy);
  EXPECT_EQ(Msg(healthy->body, "registry"), "registry is reachable");
  ExpectPortusHealthShape(*healthy);
  {
    absl::StatusOr<HttpResponse> ping = HttpGet(stack->gateway_url() + "/_ping");
    ASSERT_TRUE(ping.ok()) << ping.status();
    EXPECT_EQ(ping->status, 200);
    EXPECT_EQ(ping->body, R"({"Error":"","Healthy":true})");
    absl::StatusOr<CommandResult> ctl = stack->RunCtl({"--server", stack->gateway_url(), "health"});
    ASSERT_TRUE(ctl.ok()) << ctl.status();
    EXPECT_TRUE(ctl->ok()) << ctl->Describe() << ctl->out;
    EXPECT_THAT(ctl->out, ::testing::ContainsRegex("registry +ok +registry is reachable"));
  }

  HARNESS_ASSERT_OK(registry->Stop());
  auto down = PollHealth(
      health,
      [](const hv1::GetHealthResponse& h) {
        return absl::StartsWith(Msg(h, "registry"), "registry is not reachable: ");
      },
      absl::Seconds(10));
  ASSERT_TRUE(down.ok()) << Describe(down);
  EXPECT_THAT(Msg(*down, "registry"), StartsWith("registry is not reachable: "));
  EXPECT_THAT(Msg(*down, "registry"), HasSubstr(registry->host_port().substr(0, 9)));
  EXPECT_FALSE(down->healthy());
  auto gw_down = PollGatewayHealth(
      stack->gateway_url(),
      [](const GatewayAnswer& a) {
        return absl::StartsWith(Msg(a.body, "registry"), "registry is not reachable: ");
      },
      absl::Seconds(5));
  ASSERT_TRUE(gw_down.ok()) << Describe(gw_down);
  EXPECT_EQ(gw_down->status, 503);
  EXPECT_THAT(Msg(gw_down->body, "registry"), StartsWith("registry is not reachable: "));
  ExpectPortusHealthShape(*gw_down);

  HARNESS_ASSERT_OK(registry->Restart());
  auto again = PollHealth(health, reachable, absl::Seconds(15));
  EXPECT_TRUE(again.ok() && reachable(*again)) << Describe(again);
}

TEST_F(HealthTest, RegistryWithAWrongTokenConfigurationIsReachableButNotUsable) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.services = {"auth", "catalog", "health", "gateway"};
  options.db_dsn = db->dsn();
  options.config = FastConfig();
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  // The registry trusts another certificate than the one Portunus signs its tokens with.
  RegistryServer::Options registry_options = stack->RegistryOptions();
  registry_options.rootcertbundle.clear();  // a throwaway self-signed certificate
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<RegistryServer> registry,
                         RegistryServer::Start(registry_options));
  HARNESS_ASSERT_OK(stack->Start());

  auto gw = PollGatewayHealth(
      stack->gateway_url(),
      // Also wait for every schema to be migrated: until then the database component is the
      // first failure and /_ping names it instead of the registry.
      [](const GatewayAnswer& a) {
        return Msg(a.body, "database") == "database is up-to-date" &&
               absl::StartsWith(Msg(a.body, "registry"),
                                "registry is reachable but not usable: it rejects");
      },
      absl::Seconds(15));
  ASSERT_TRUE(gw.ok()) << Describe(gw);
  EXPECT_EQ(gw->status, 503);
  ExpectPortusHealthShape(*gw);
  EXPECT_THAT(Msg(gw->body, "registry"),
              StartsWith("registry is reachable but not usable: it rejects Portunus's tokens: "))
      << gw->raw;
  absl::StatusOr<GatewayAnswer> ping = GatewayGet(stack->gateway_url() + "/_ping");
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_EQ(ping->status, 503);
  EXPECT_THAT(ping->body.value("Error", ""), StartsWith("registry is reachable but not usable: "));
  absl::StatusOr<CommandResult> ctl =
      stack->RunCtl({"--server", stack->gateway_url(), "health", "-c", "registry"});
  ASSERT_TRUE(ctl.ok()) << ctl.status();
  EXPECT_EQ(ctl->status.code, 1) << ctl->Describe();
  EXPECT_THAT(ctl->out, HasSubstr("registry is reachable but not usable: "));
}

// The replica of `pid` in a cluster status, or null.
const hv1::Replica* ReplicaOf(const hv1::GetClusterStatusResponse& status, pid_t pid) {
  for (const auto& r : status.replicas()) {
    if (r.pid() == pid) return &r;
  }
  return nullptr;
}

TEST_F(HealthTest, ClusterStatusListsTwoReplicasAndReportsAKilledOneThenForgetsIt) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.services = {"auth", "catalog", "health", "gateway"};
  options.db_dsn = db->dsn();
  options.config = FastConfig();
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSERT_OK(stack->Start());

  // A second catalog replica: the same configuration, its own ports.
  Process::Options second = stack->ServiceOptions("catalog");
  second.name = "catalog-2";
  second.log_path = stack->dir() + "/catalog-2.log";
  second.env.emplace_back("PORTUNUS_CATALOG_LISTEN", absl::StrCat("127.0.0.1:", PickFreePort()));
  second.env.emplace_back("PORTUNUS_CATALOG_METRICS_LISTEN",
                          absl::StrCat("127.0.0.1:", PickFreePort()));
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> catalog2, Process::Start(second));
  const pid_t pid1 = stack->process("catalog")->pid();
  const pid_t pid2 = catalog2->pid();

  const std::string health = stack->grpc_address("health");
  absl::StatusOr<hv1::GetClusterStatusResponse> status;
  const auto poll = [&](const std::function<bool(const hv1::GetClusterStatusResponse&)>& done,
                        absl::Duration timeout) {
    return PollUntil(
        [&] {
          status = GetClusterStatus(health, stack->internal_secret());
          return status.ok() && done(*status);
        },
        timeout);
  };
  const auto state_of = [](pid_t pid) {
    return [pid](const hv1::GetClusterStatusResponse& s) {
      const hv1::Replica* r = ReplicaOf(s, pid);
      return r == nullptr ? hv1::Replica::STATE_UNSPECIFIED : r->state();
    };
  };

  ASSERT_TRUE(poll(
      [&](const hv1::GetClusterStatusResponse& s) {
        return state_of(pid1)(s) == hv1::Replica::READY &&
               state_of(pid2)(s) == hv1::Replica::READY &&
               ReplicaOf(s, stack->process("auth")->pid()) != nullptr &&
               ReplicaOf(s, stack->process("health")->pid()) != nullptr;
      },
      absl::Seconds(30)))
      << (status.ok() ? status->DebugString() : std::string(status.status().message()));
  int catalogs = 0;
  for (const auto& r : status->replicas()) {
    if (r.service() == "catalog") ++catalogs;
    EXPECT_EQ(r.health(), "OK") << r.DebugString();
  }
  EXPECT_EQ(catalogs, 2);
  const hv1::Replica one = *ReplicaOf(*status, pid2);
  EXPECT_THAT(one.id(), ::testing::MatchesRegex("catalog-[0-9a-f]{12}"));
  EXPECT_NE(one.address(), stack->grpc_address("catalog"));
  EXPECT_FALSE(one.last_heartbeat().empty());
  EXPECT_NE(ReplicaOf(*status, stack->process("auth")->pid()), nullptr);
  EXPECT_NE(ReplicaOf(*status, stack->process("health")->pid()), nullptr);

  // The same through the gateway, in MSR's shape: credentials required.
  const std::string cluster_url = stack->gateway_url() + "/api/v0/meta/cluster_status";
  {
    absl::StatusOr<HttpResponse> anonymous = HttpGet(cluster_url);
    ASSERT_TRUE(anonymous.ok()) << anonymous.status();
    EXPECT_EQ(anonymous->status, 401) << anonymous->body;
    EXPECT_EQ(anonymous->Header("WWW-Authenticate"), "Basic realm=\"Portunus\"");
    EXPECT_THAT(anonymous->body, HasSubstr("requires administrator credentials"));
    absl::StatusOr<GatewayAnswer> gw = GatewayGet(
        cluster_url, {{"Authorization", "Basic " + absl::Base64Escape(
                                                       "portunus:" + stack->internal_secret())}});
    ASSERT_TRUE(gw.ok()) << gw.status();
    EXPECT_EQ(gw->status, 200) << gw->raw;
    ASSERT_TRUE(gw->body.is_object()) << gw->raw;
    EXPECT_TRUE(gw->body["current_issues"].is_array()) << gw->raw;
    EXPECT_EQ(gw->body["replica_health"][one.id()], "OK") << gw->raw;
    EXPECT_TRUE(gw->body["replica_timestamp"][one.id()].is_string()) << gw->raw;
    EXPECT_EQ(gw->body["replicas"][one.id()]["service"], "catalog") << gw->raw;
    EXPECT_EQ(gw->body["replicas"][one.id()]["pid"], pid2) << gw->raw;
    int gw_catalogs = 0;
    for (const auto& [id, replica] : gw->body["replicas"].items()) {
      if (replica.value("service", "") == "catalog") ++gw_catalogs;
    }
    EXPECT_EQ(gw_catalogs, 2) << gw->raw;
  }

  // Killed without a chance to say goodbye: reported, not critical (the other one serves).
  catalog2->Kill();
  ASSERT_TRUE(poll(
      [&](const hv1::GetClusterStatusResponse& s) {
        return state_of(pid2)(s) == hv1::Replica::STALE;
      },
      absl::Seconds(10)))
      << (status.ok() ? status->DebugString() : std::string(status.status().message()));
  EXPECT_THAT(ReplicaOf(*status, pid2)->health(), StartsWith("no heartbeat for "));
  EXPECT_EQ(state_of(pid1)(*status), hv1::Replica::READY);
  bool reported = false;
  for (const auto& issue : status->current_issues()) {
    if (absl::StrContains(issue.description(), one.id())) {
      reported = true;
      EXPECT_FALSE(issue.critical()) << issue.description();
      EXPECT_THAT(issue.description(), HasSubstr("no heartbeat for"));
    }
  }
  EXPECT_TRUE(reported) << status->DebugString();
  {
    absl::StatusOr<GatewayAnswer> gw = GatewayGet(
        cluster_url, {{"Authorization", "Basic " + absl::Base64Escape(
                                                       "portunus:" + stack->internal_secret())}});
    ASSERT_TRUE(gw.ok()) << gw.status();
    EXPECT_EQ(gw->status, 200) << gw->raw;
    EXPECT_THAT(gw->body["replica_health"].value(one.id(), ""), StartsWith("no heartbeat for "))
        << gw->raw;
    EXPECT_EQ(gw->body["replicas"][one.id()]["state"], "stale") << gw->raw;
    bool gw_reported = false;
    for (const auto& issue : gw->body["current_issues"]) {
      if (absl::StrContains(issue.value("description", ""), one.id())) {
        gw_reported = true;
        EXPECT_EQ(issue["critical"], false) << gw->raw;
      }
    }
    EXPECT_TRUE(gw_reported) << gw->raw;
  }

  // Then forgotten (health.replica_expire_after).
  EXPECT_TRUE(
      poll([&](const hv1::GetClusterStatusResponse& s) { return ReplicaOf(s, pid2) == nullptr; },
           absl::Seconds(15)))
      << status->DebugString();

  // A clean shutdown is shown as stopped, and catalog without a serving replica is critical.
  HARNESS_ASSERT_OK(stack->StopService("catalog"));
  ASSERT_TRUE(poll(
      [&](const hv1::GetClusterStatusResponse& s) {
        return state_of(pid1)(s) == hv1::Replica::STOPPED;
      },
      absl::Seconds(10)))
      << status->DebugString();
  EXPECT_EQ(ReplicaOf(*status, pid1)->health(), "stopped");
  bool critical = false;
  for (const auto& issue : status->current_issues()) {
    if (issue.description() == "no replica of catalog is running") critical = issue.critical();
  }
  EXPECT_TRUE(critical) << status->DebugString();
}

TEST_F(HealthTest, ClusterStatusThroughTheGatewayIsForAdministratorsByHttpBasic) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.services = {"auth", "health", "gateway"};
  options.db_dsn = db->dsn();
  options.config = FastConfig();
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSERT_OK(stack->Start());

  // An administrator (the bootstrap account) and a plain user, through the auth service.
  namespace av1 = ::portunus::auth::v1;
  auto users = av1::UserService::NewStub(
      grpc::CreateChannel(stack->grpc_address("auth"), grpc::InsecureChannelCredentials()));
  const auto basic = [](const std::string& user, const std::string& secret) {
    return "Basic " + absl::Base64Escape(user + ":" + secret);
  };
  std::string admin_token;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    av1::BootstrapRequest req;
    req.mutable_user()->set_username("alice");
    req.mutable_user()->set_email("alice@example.com");
    req.mutable_user()->set_password("alice-password-1");
    av1::CreatedApplicationToken token;
    grpc::Status s = users->Bootstrap(&ctx, req, &token);
    ASSERT_TRUE(s.ok()) << s.error_message();
    admin_token = token.plain_token();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    ctx.AddMetadata("authorization", basic("alice", "alice-password-1"));
    av1::CreateUserRequest req;
    req.mutable_user()->set_username("bob");
    req.mutable_user()->set_email("bob@example.com");
    req.mutable_user()->set_password("bob-password-1");
    av1::User bob;
    grpc::Status s = users->CreateUser(&ctx, req, &bob);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  const std::string url = stack->gateway_url() + "/api/v0/meta/cluster_status";
  const auto get = [&](std::vector<std::pair<std::string, std::string>> headers) {
    return GatewayGet(url, std::move(headers));
  };
  absl::StatusOr<GatewayAnswer> anonymous = get({});
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_EQ(anonymous->status, 401) << anonymous->raw;

  // The health service asks auth; its channel may still be in gRPC's reconnect backoff from
  // checks that ran while auth was starting (503 "cannot check credentials" meanwhile).
  absl::StatusOr<GatewayAnswer> wrong;
  PollUntil(
      [&] {
        wrong = get({{"Authorization", basic("alice", "not-it")}});
        return wrong.ok() && wrong->status != 503;
      },
      absl::Seconds(30), absl::Milliseconds(100));
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  EXPECT_EQ(wrong->status, 401) << wrong->raw;
  EXPECT_TRUE(wrong->body.contains("message")) << wrong->raw;

  absl::StatusOr<GatewayAnswer> bob = get({{"Authorization", basic("bob", "bob-password-1")}});
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(bob->status, 403) << bob->raw;
  EXPECT_THAT(bob->body.value("message", ""), HasSubstr("only for administrators"));

  // The administrator, by password and by application token; every running replica is listed.
  absl::StatusOr<GatewayAnswer> admin;
  PollUntil(
      [&] {
        admin = get({{"Authorization", basic("alice", "alice-password-1")}});
        if (!admin.ok() || admin->status != 200) return false;
        std::set<std::string> services;
        for (const auto& [id, replica] : admin->body["replicas"].items()) {
          services.insert(replica.value("service", ""));
        }
        return services == std::set<std::string>{"auth", "gateway", "health"};
      },
      absl::Seconds(15));
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->status, 200) << admin->raw;
  EXPECT_EQ(admin->body["replicas"].size(), 3u) << admin->raw;
  for (const auto& [id, health] : admin->body["replica_health"].items()) {
    EXPECT_EQ(health, "OK") << id << " in " << admin->raw;
    EXPECT_TRUE(admin->body["replica_timestamp"].contains(id)) << admin->raw;
  }
  EXPECT_TRUE(admin->body["current_issues"].is_array()) << admin->raw;
  absl::StatusOr<GatewayAnswer> by_token = get({{"Authorization", basic("alice", admin_token)}});
  ASSERT_TRUE(by_token.ok()) << by_token.status();
  EXPECT_EQ(by_token->status, 200) << by_token->raw;
}

}  // namespace
}  // namespace portunus::harness
