// The foundation's "Done when" checks (issue 2), on the real binaries: every gRPC service
// answers grpc.health.v1 Check with SERVING (from C++ and from Python), every /metrics passes
// promtool, the environment beats the YAML file, a bad config is one clear line and a non-zero
// exit, services racing to migrate an empty database all come up with each migration applied
// once, SIGTERM ends every service within 10 s, a busy port is a clear startup error, and the
// registry configured for Portunus challenges clients with the gateway's token realm.
#include <signal.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/auth/migrations.h"
#include "services/catalog/migrations.h"
#include "services/common/service_runner.h"
#include "services/common/testing/test_database.h"
#include "services/health/migrations.h"
#include "services/scanner/migrations.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;

// The migrations embedded in each service's binary.
size_t EmbeddedMigrations(const std::string& schema) {
  if (schema == "auth") return auth::Migrations().size();
  if (schema == "catalog") return catalog::Migrations().size();
  if (schema == "scanner") return scanner::Migrations().size();
  if (schema == "health") return health::Migrations().size();
  ADD_FAILURE() << "no schema " << schema;
  return 0;
}

std::string Upper(std::string s) { return absl::AsciiStrToUpper(s); }

// The metrics key of a service: auth.metrics_listen ... gateway.metrics_listen.
std::string MetricsEnv(const std::string& service) {
  return absl::StrCat("PORTUNUS_", Upper(service), "_METRICS_LISTEN");
}

class FoundationTest : public ::testing::Test {
 protected:
  // A stack of `services` on a fresh database of the shared test server, started and ready.
  void StartStack(std::vector<std::string> services = AllServices()) {
    Stack::Options options;
    options.services = std::move(services);
    options.db_dsn = db_->dsn();
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSERT_OK(stack_->Start());
  }

  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    if (!db.ok()) {
      if (db.status().code() == absl::StatusCode::kFailedPrecondition &&
          !testing::PgRequired()) {
        GTEST_SKIP() << db.status().message();
      }
      FAIL() << db.status();
    }
    db_ = std::move(*db);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
};

TEST_F(FoundationTest, EveryGrpcServiceIsServingFromCppAndPython) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  std::vector<std::string> targets;
  for (const std::string& svc : DatabaseServices()) {
    absl::StatusOr<std::string> status = GrpcHealthCheck(stack_->grpc_address(svc));
    ASSERT_TRUE(status.ok()) << svc << ": " << status.status();
    EXPECT_EQ(*status, "SERVING") << svc;
    targets.push_back(stack_->grpc_address(svc));
  }
  // An unknown service name is NOT_FOUND, as the protocol requires.
  EXPECT_EQ(GrpcHealthCheck(stack_->grpc_address("auth"), "no.such.Service").status().code(),
            absl::StatusCode::kNotFound);

  // The same from /usr/bin/python3 with python3-grpcio and stubs generated now from the
  // vendored health.proto.
  TempDir stubs("pystubs");
  std::vector<std::string> args = {SourceDir() + "/tests/tools/grpc_health_check.py", "--proto",
                                   SourceDir() + "/proto/grpc/health/v1/health.proto", "--out",
                                   stubs.path()};
  args.insert(args.end(), targets.begin(), targets.end());
  HARNESS_ASSIGN_OR_FAIL(CommandResult py, RunCommand(kSystemPython, args, absl::Seconds(60)));
  ASSERT_TRUE(py.ok()) << py.Describe();
  for (const std::string& target : targets) {
    EXPECT_THAT(py.out, HasSubstr(target + " - SERVING\n"));
  }

  if (stack_->gateway_serves_http()) {
    HARNESS_ASSIGN_OR_FAIL(HttpResponse ping, HttpGet(stack_->gateway_url() + "/api/v1/_ping"));
    EXPECT_EQ(ping.status, 200);
  }
}

// The liveness probe of the Helm chart asks grpc.health.v1 for kGrpcLivenessService: SERVING
// while the service runs but is not ready (here: its migrations are pending), so a database
// problem never restarts pods, while readiness ("") follows the database.
TEST_F(FoundationTest, LivenessIsServingWhileNotReady) {
  Stack::Options options;
  options.services = {"auth"};
  options.db_dsn = db_->dsn();
  options.migrate = false;
  HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
  HARNESS_ASSERT_OK(stack_->StartService("auth"));
  const std::string addr = stack_->grpc_address("auth");
  std::string readiness;
  ASSERT_TRUE(PollUntil(
      [&] {
        readiness = GrpcHealthCheck(addr).value_or("down");
        return readiness != "down";
      },
      absl::Seconds(30)))
      << "auth never answered grpc.health.v1";
  EXPECT_EQ(readiness, "NOT_SERVING");
  EXPECT_EQ(GrpcHealthCheck(addr, kGrpcLivenessService).value_or("down"), "SERVING");

  HARNESS_ASSIGN_OR_FAIL(CommandResult migrate, stack_->RunCtl({"migrate"}));
  ASSERT_TRUE(migrate.ok()) << migrate.Describe();
  HARNESS_ASSERT_OK(stack_->WaitReady("auth", absl::Seconds(30)));
  EXPECT_EQ(GrpcHealthCheck(addr).value_or("down"), "SERVING");
  EXPECT_EQ(GrpcHealthCheck(addr, kGrpcLivenessService).value_or("down"), "SERVING");
}

TEST_F(FoundationTest, EveryMetricsEndpointPassesPromtool) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  for (const std::string& svc : AllServices()) {
    SCOPED_TRACE(svc);
    HARNESS_ASSIGN_OR_FAIL(HttpResponse metrics, HttpGet(stack_->metrics_url(svc)));
    ASSERT_EQ(metrics.status, 200);
    EXPECT_THAT(metrics.Header("Content-Type"), HasSubstr("text/plain"));
    EXPECT_THAT(metrics.body, HasSubstr("portunus_ready 1"));
    EXPECT_THAT(metrics.body, HasSubstr("process_resident_memory_bytes"));
    HARNESS_ASSIGN_OR_FAIL(CommandResult check,
                           RunCommand("promtool", {"check", "metrics"}, absl::Seconds(30),
                                      metrics.body));
    EXPECT_TRUE(check.ok()) << check.Describe();
  }
  // Served gRPC calls are counted per method (the health checks above).
  HARNESS_ASSIGN_OR_FAIL(HttpResponse auth, HttpGet(stack_->metrics_url("auth")));
  EXPECT_THAT(auth.body, HasSubstr("grpc_server_handled_total{"));
}

TEST_F(FoundationTest, EnvironmentOverridesTheYamlFile) {
  Stack::Options options;
  options.services = {"auth"};
  options.db_dsn = db_->dsn();
  const std::string env_metrics = absl::StrCat("127.0.0.1:", PickFreePort());
  options.env = {{"PORTUNUS_LOG_LEVEL", "debug"}, {"PORTUNUS_AUTH_METRICS_LISTEN", env_metrics}};
  HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
  ASSERT_EQ(stack_->config().at("log.level"), "info");
  ASSERT_NE(stack_->config().at("auth.metrics_listen"), env_metrics);

  // What the service reports as its effective configuration...
  Process::Options print = stack_->ServiceOptions("auth");
  print.args = {"--config", stack_->config_path(), "--print-config"};
  HARNESS_ASSIGN_OR_FAIL(CommandResult printed, RunCommand(print));
  ASSERT_TRUE(printed.ok()) << printed.Describe();
  EXPECT_THAT(printed.out, HasSubstr("level: \"debug\"  # PORTUNUS_LOG_LEVEL"));
  EXPECT_THAT(printed.out, HasSubstr(env_metrics));
  EXPECT_THAT(printed.out, ::testing::Not(HasSubstr(stack_->internal_secret())));

  // ...and what it does: /metrics is on the environment's address, not the file's.
  HARNESS_ASSERT_OK(stack_->StartService("auth"));
  HARNESS_ASSERT_OK(stack_->WaitReady("auth", absl::Seconds(60)));
  HARNESS_ASSIGN_OR_FAIL(HttpResponse metrics,
                         HttpGet(absl::StrCat("http://", env_metrics, "/metrics")));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(HttpGet(stack_->metrics_url("auth")).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(LogEntries(stack_->process("auth")->ReadLog(), "serving").empty());
}

TEST_F(FoundationTest, MalformedConfigIsOneClearLineAndNonZeroExit) {
  TempDir dir("badconfig");
  const std::string secret = absl::StrCat("internal:\n  secret: \"", RandomHex(20), "\"\n");
  struct Case {
    std::string name;
    std::string yaml;
    std::string expect;  // in the error line
  };
  const std::vector<Case> cases = {
      {"syntax", "db: [unclosed\n  host: x\n", "bad.yml"},
      {"bad_value", secret + "db:\n  port: 70000\n", "db.port"},
      {"unknown_key", secret + "db:\n  hots: localhost\n", "db.hots"},
      {"wrong_type", secret + "log:\n  level: [a, b]\n", "log.level"},
      {"missing_secret", "db:\n  host: localhost\n", "internal.secret"},
  };
  for (const std::string& svc : AllServices()) {
    for (const Case& c : cases) {
      SCOPED_TRACE(svc + " / " + c.name);
      const std::string path = dir.Sub("bad.yml");
      HARNESS_ASSERT_OK(WriteFile(path, c.yaml));
      Process::Options o;
      o.binary = BinaryPath("portunus-" + svc);
      o.args = {"--config", path};
      o.unset_env_prefixes = {"PORTUNUS_"};
      HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(o, absl::Seconds(20)));
      EXPECT_TRUE(r.status.exited) << r.Describe();
      EXPECT_NE(r.status.code, 0) << r.Describe();
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
      EXPECT_TRUE(absl::EndsWith(r.err, "\n")) << r.Describe();
      EXPECT_THAT(r.err, HasSubstr(c.expect));
      EXPECT_EQ(r.out, "");
    }
    // A missing file is one line too.
    Process::Options o;
    o.binary = BinaryPath("portunus-" + svc);
    o.args = {"--config", dir.Sub("missing.yml")};
    o.unset_env_prefixes = {"PORTUNUS_"};
    HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(o, absl::Seconds(20)));
    EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.Describe();
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr("missing.yml"));
  }
  // A bad value from the environment names the variable.
  Process::Options o;
  o.binary = BinaryPath("portunus-auth");
  HARNESS_ASSERT_OK(WriteFile(dir.Sub("ok.yml"), secret));
  o.args = {"--config", dir.Sub("ok.yml")};
  o.unset_env_prefixes = {"PORTUNUS_"};
  o.env = {{"PORTUNUS_DB_PORT", "many"}};
  HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(o, absl::Seconds(20)));
  EXPECT_TRUE(r.status.exited && r.status.code != 0) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("db.port"));
  EXPECT_THAT(r.err, HasSubstr("PORTUNUS_DB_PORT"));
}

TEST_F(FoundationTest, ServicesRacingOnAnEmptyDatabaseMigrateEachMigrationOnce) {
  // Two replicas of every service with a database, all spawned at the same moment with
  // --migrate on an empty database.
  std::vector<std::unique_ptr<Stack>> replicas;
  for (int i = 0; i < 2; ++i) {
    Stack::Options options;
    options.services = DatabaseServices();
    options.db_dsn = db_->dsn();
    HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
    replicas.push_back(std::move(stack));
  }
  ASSERT_EQ(PgQueryValue(db_->dsn(),
                         "SELECT count(*) FROM information_schema.schemata WHERE schema_name IN "
                         "('auth','catalog','scanner','health')")
                .value_or("?"),
            "0");
  for (const std::string& svc : DatabaseServices()) {
    for (auto& stack : replicas) HARNESS_ASSERT_OK(stack->StartService(svc));
  }
  for (auto& stack : replicas) {
    for (const std::string& svc : DatabaseServices()) {
      HARNESS_ASSERT_OK(stack->WaitReady(svc, absl::Seconds(90)));
    }
  }
  for (const std::string& schema : DatabaseServices()) {
    SCOPED_TRACE(schema);
    const size_t embedded = EmbeddedMigrations(schema);
    // Recorded once per migration...
    EXPECT_EQ(PgQueryValue(db_->dsn(), absl::StrCat("SELECT count(*) FROM ", schema,
                                                    ".schema_migrations"))
                  .value_or("?"),
              absl::StrCat(embedded));
    EXPECT_EQ(PgQueryValue(db_->dsn(), absl::StrCat("SELECT count(DISTINCT version) FROM ",
                                                    schema, ".schema_migrations"))
                  .value_or("?"),
              absl::StrCat(embedded));
    // ...and applied once, by one of the replicas.
    size_t applied_logged = 0;
    int64_t applied_reported = 0;
    for (auto& stack : replicas) {
      const std::string log = stack->process(schema)->ReadLog();
      applied_logged += LogEntries(log, "applied migration").size();
      for (const nlohmann::json& up : LogEntries(log, "database is up-to-date")) {
        applied_reported += up.value("applied", int64_t{-1000});
      }
    }
    EXPECT_EQ(applied_logged, embedded);
    EXPECT_EQ(applied_reported, static_cast<int64_t>(embedded));
  }
}

TEST_F(FoundationTest, SigtermEndsEveryServiceWithinTenSeconds) {
  ASSERT_NO_FATAL_FAILURE(StartStack());
  const absl::Time start = absl::Now();
  for (const std::string& svc : AllServices()) {
    HARNESS_ASSERT_OK(stack_->process(svc)->Signal(SIGTERM));
  }
  for (const std::string& svc : AllServices()) {
    SCOPED_TRACE(svc);
    std::optional<ExitStatus> st =
        stack_->process(svc)->WaitForExit(absl::Seconds(10) - (absl::Now() - start));
    ASSERT_TRUE(st.has_value()) << svc << " still running 10 s after SIGTERM";
    EXPECT_TRUE(st->success()) << st->ToString();
    EXPECT_FALSE(LogEntries(stack_->process(svc)->ReadLog(), "stopped").empty());
  }
}

TEST_F(FoundationTest, BusyPortIsAClearStartupError) {
  Stack::Options options;
  options.db_dsn = db_->dsn();
  HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
  HeldPort busy;
  for (const std::string& svc : AllServices()) {
    SCOPED_TRACE(svc);
    Process::Options o = stack_->ServiceOptions(svc);
    o.env.emplace_back(MetricsEnv(svc), busy.address());
    HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(o, absl::Seconds(30)));
    // exit(1) with a message naming the address, not an abort.
    EXPECT_TRUE(r.status.exited) << r.Describe();
    EXPECT_EQ(r.status.code, 1) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(busy.address()));
    EXPECT_FALSE(LogEntries(r.err, "cannot start").empty()) << r.err;
  }
  for (const std::string& svc : DatabaseServices()) {
    SCOPED_TRACE(svc + " gRPC");
    Process::Options o = stack_->ServiceOptions(svc);
    o.env.emplace_back(absl::StrCat("PORTUNUS_", Upper(svc), "_LISTEN"), busy.address());
    HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(o, absl::Seconds(30)));
    EXPECT_TRUE(r.status.exited) << r.Describe();
    EXPECT_EQ(r.status.code, 1) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(busy.address()));
  }
}

TEST_F(FoundationTest, RegistryChallengesWithTheGatewayTokenRealm) {
  Stack::Options options;
  options.db_dsn = db_->dsn();
  HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
  const RegistryServer::Options reg_options = stack_->RegistryOptions();
  EXPECT_EQ(absl::StrCat("http://127.0.0.1:", reg_options.port), stack_->registry_url());
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<RegistryServer> registry,
                         RegistryServer::Start(reg_options));

  HARNESS_ASSIGN_OR_FAIL(HttpResponse v2, HttpGet(registry->url() + "/v2/"));
  EXPECT_EQ(v2.status, 401);
  EXPECT_EQ(v2.Header("WWW-Authenticate"),
            absl::StrCat("Bearer realm=\"", stack_->gateway_url(),
                         "/v2/token\",service=\"registry.local\""));
  EXPECT_EQ(v2.Header("Docker-Distribution-Api-Version"), "registry/2.0");
  HARNESS_ASSIGN_OR_FAIL(HttpResponse catalog, HttpGet(registry->url() + "/v2/_catalog"));
  EXPECT_EQ(catalog.status, 401);
  EXPECT_THAT(catalog.Header("WWW-Authenticate"), HasSubstr("scope=\"registry:catalog:*\""));

  // Notifications go to the gateway's webhook with the shared secret.
  const std::string config = ReadFile(registry->config_path()).value_or("");
  EXPECT_THAT(config, HasSubstr("url: \"" + stack_->webhook_url() + "\""));
  EXPECT_THAT(config, HasSubstr("Bearer " + stack_->webhook_secret()));
  EXPECT_THAT(config, HasSubstr("disabled: false"));
  // The registry's own metrics (debug port) are valid too.
  HARNESS_ASSIGN_OR_FAIL(HttpResponse metrics, HttpGet(registry->debug_url() + "/metrics"));
  ASSERT_EQ(metrics.status, 200);
  HARNESS_ASSIGN_OR_FAIL(CommandResult check,
                         RunCommand("promtool", {"check", "metrics"}, absl::Seconds(30),
                                    metrics.body));
  EXPECT_TRUE(check.ok()) << check.Describe();
}

}  // namespace
}  // namespace portunus::harness
