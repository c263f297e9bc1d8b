// README command 1 as a user runs it: scripts/run-local brings the whole stack up (PostgreSQL,
// the registry configured for Portunus, every service), Ctrl-C stops everything cleanly, a
// second run keeps the data and the secrets, and a busy port is refused with its name. The
// state directory and every port are private to the test (VAR_DIR, LOCAL_*_PORT).
#include <signal.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin";

class RunLocalTest : public ::testing::Test {
 protected:
  RunLocalTest() : var_("runlocal") {
    for (const char* name :
         {"GATEWAY", "REGISTRY", "REGISTRY_DEBUG", "AUTH", "CATALOG", "SCANNER", "HEALTH",
          "AUTH_METRICS", "CATALOG_METRICS", "SCANNER_METRICS", "HEALTH_METRICS",
          "GATEWAY_METRICS", "PG"}) {
      ports_[name] = PickFreePort();
    }
  }

  // PostgreSQL runs detached (pg_ctl); stop it even when the test failed half-way.
  ~RunLocalTest() override {
    const std::string data = var_.Sub("postgres/data");
    if (!ReadFile(data + "/postmaster.pid").ok()) return;
    Process::Options stop;
    stop.binary = absl::StrCat(kPgBin, "/pg_ctl");
    stop.args = {"-D", data, "-m", "immediate", "-w", "stop"};
    if (geteuid() == 0) stop.user = "postgres";
    RunCommand(stop, absl::Seconds(30)).IgnoreError();
  }

  Process::Options Options() {
    Process::Options o;
    o.name = "run-local";
    o.binary = SourceDir() + "/scripts/run-local";
    o.unset_env_prefixes = {"PORTUNUS_", "LOCAL_", "REGISTRY_"};
    o.env = {{"SKIP_INSTALL", "1"}, {"SKIP_BUILD", "1"}, {"BUILD_DIR", BuildDir()},
             {"VAR_DIR", var_.path()}};
    for (const auto& [name, port] : ports_) {
      o.env.emplace_back(absl::StrCat("LOCAL_", name, "_PORT"), absl::StrCat(port));
    }
    // One log per run (inside VAR_DIR, which run-local tolerates).
    o.log_path = var_.Sub(absl::StrCat("run-local-", ++runs_, ".log"));
    return o;
  }

  // Starts run-local and waits for its banner.
  std::unique_ptr<Process> Start() {
    absl::StatusOr<std::unique_ptr<Process>> p = Process::Start(Options());
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    Process* run = p->get();
    const bool up = PollUntil(
        [&] {
          return absl::StrContains(run->ReadLog(), "Portunus is running") || !run->IsRunning();
        },
        absl::Seconds(180), absl::Milliseconds(200));
    EXPECT_TRUE(up && run->IsRunning()) << Tail(run->ReadLog(), 6000);
    return std::move(*p);
  }

  // Ctrl-C: SIGINT to the whole foreground process group.
  void CtrlC(Process* run) {
    ASSERT_EQ(kill(-run->pid(), SIGINT), 0);
    std::optional<ExitStatus> st = run->WaitForExit(absl::Seconds(30));
    ASSERT_TRUE(st.has_value()) << "run-local still running 30 s after Ctrl-C";
    EXPECT_TRUE(st->exited && st->code == 130) << st->ToString();
    EXPECT_THAT(run->ReadLog(), HasSubstr("run-local: stopped; the data stays in"));
    // The services got the same SIGINT; none of them is reported as a crash.
    EXPECT_THAT(run->ReadLog(), ::testing::Not(HasSubstr("exited unexpectedly")));
  }

  std::string Dsn() const {
    return absl::StrCat("host=127.0.0.1 port=", ports_.at("PG"), " user=postgres dbname=portunus");
  }
  std::string Addr(const std::string& name) const {
    return absl::StrCat("127.0.0.1:", ports_.at(name));
  }

  TempDir var_;
  std::map<std::string, int> ports_;
  int runs_ = 0;
};

TEST_F(RunLocalTest, RunsTheStackStopsOnCtrlCAndKeepsItsData) {
  std::unique_ptr<Process> run = Start();
  ASSERT_NE(run, nullptr);
  const std::string banner = run->ReadLog();
  for (const char* name : {"AUTH", "CATALOG", "SCANNER", "HEALTH"}) {
    EXPECT_EQ(GrpcHealthCheck(Addr(name)).value_or("down"), "SERVING") << name;
    EXPECT_THAT(banner, HasSubstr(Addr(name)));
  }
  for (const char* name :
       {"AUTH_METRICS", "CATALOG_METRICS", "SCANNER_METRICS", "HEALTH_METRICS", "GATEWAY_METRICS"}) {
    const std::string url = absl::StrCat("http://", Addr(name), "/metrics");
    EXPECT_EQ(HttpGet(url).value_or(HttpResponse{}).status, 200) << url;
    EXPECT_THAT(banner, HasSubstr(url));
  }
  // The registry speaks Portunus tokens: its challenge points at the gateway.
  HARNESS_ASSIGN_OR_FAIL(HttpResponse v2, HttpGet(absl::StrCat("http://", Addr("REGISTRY"), "/v2/")));
  EXPECT_EQ(v2.status, 401);
  EXPECT_EQ(v2.Header("WWW-Authenticate"),
            absl::StrCat("Bearer realm=\"http://", Addr("GATEWAY"),
                         "/v2/token\",service=\"registry.local\""));
  if (IsKnownConfigKey("gateway.listen")) {
    HARNESS_ASSIGN_OR_FAIL(HttpResponse ping,
                           HttpGet(absl::StrCat("http://", Addr("GATEWAY"), "/api/v1/_ping")));
    EXPECT_EQ(ping.status, 200);
    // The registry trusts the tokens of the gateway's token endpoint (keys generated by
    // `portunusctl keys generate`, bundle from `keys bundle`, same service and issuer).
    HARNESS_ASSIGN_OR_FAIL(HttpResponse token,
                           HttpGet(absl::StrCat("http://", Addr("GATEWAY"),
                                                "/v2/token?service=registry.local")));
    ASSERT_EQ(token.status, 200) << token.body;
    const std::string jwt = nlohmann::json::parse(token.body).value("token", "");
    HARNESS_ASSIGN_OR_FAIL(HttpResponse base,
                           HttpGet(absl::StrCat("http://", Addr("REGISTRY"), "/v2/"),
                                   {{"Authorization", "Bearer " + jwt}}));
    EXPECT_EQ(base.status, 200) << base.body;
  }
  // The webhook secret never reaches the terminal (the registry logs it at info level).
  HARNESS_ASSIGN_OR_FAIL(std::string webhook, ReadFile(var_.Sub("secrets/webhook")));
  EXPECT_THAT(banner, ::testing::Not(HasSubstr(std::string(absl::StripAsciiWhitespace(webhook)))));
  // The catalog accepts what the registry sends: its notifications carry that secret (an empty
  // catalog.webhook_secret would refuse every event with 401 and the catalog would stay empty).
  HttpRequest notify;
  notify.method = "POST";
  notify.url = absl::StrCat("http://", Addr("GATEWAY"), "/v2/webhooks/events");
  notify.headers = {{"Content-Type", "application/vnd.docker.distribution.events.v1+json"},
                    {"Authorization", absl::StrCat("Bearer ", absl::StripAsciiWhitespace(webhook))}};
  notify.body = R"({"events":[]})";
  HARNESS_ASSIGN_OR_FAIL(HttpResponse notified, Http(notify));
  EXPECT_EQ(notified.status / 100, 2) << notified.body;
  // Every service it runs is a health component, the scanner included.
  HttpResponse health;
  const bool all_healthy = PollUntil(
      [&] {
        health = HttpGet(absl::StrCat("http://", Addr("GATEWAY"), "/api/v1/health"))
                     .value_or(HttpResponse{});
        return health.status == 200 &&
               health.body.find(R"("scanner":{"msg":"scanner is serving","success":true})") !=
                   std::string::npos;
      },
      absl::Seconds(30));
  EXPECT_TRUE(all_healthy) << health.status << " " << health.body;

  HARNESS_ASSERT_OK(PgExecute(Dsn(), "CREATE TABLE public.kept (v text); INSERT INTO kept VALUES ('x')"));
  HARNESS_ASSIGN_OR_FAIL(std::string config, ReadFile(var_.Sub("portunus.yml")));
  HARNESS_ASSIGN_OR_FAIL(std::string active_key, ReadFile(var_.Sub("keys/token/active")));
  ASSERT_NO_FATAL_FAILURE(CtrlC(run.get()));
  EXPECT_FALSE(PgIsAccepting(Dsn()));

  // The second run: same data, same configuration and secrets.
  run = Start();
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(PgQueryValue(Dsn(), "SELECT v FROM kept").value_or(""), "x");
  EXPECT_EQ(ReadFile(var_.Sub("portunus.yml")).value_or(""), config);
  EXPECT_EQ(ReadFile(var_.Sub("secrets/webhook")).value_or(""), webhook);
  EXPECT_EQ(ReadFile(var_.Sub("keys/token/active")).value_or(""), active_key);
  ASSERT_NO_FATAL_FAILURE(CtrlC(run.get()));
}

TEST_F(RunLocalTest, ABusyPortStopsItWithThePortsName) {
  // Something else listens on the gateway's metrics port.
  HeldPort squatter(ports_["GATEWAY_METRICS"]);
  HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(Options(), absl::Seconds(120)));
  EXPECT_TRUE(r.status.exited && r.status.code == 1) << r.Describe();
  EXPECT_THAT(r.out + r.err, HasSubstr(absl::StrCat("gateway metrics port ", Addr("GATEWAY_METRICS"),
                                                    " is already in use")));
  EXPECT_THAT(r.out + r.err, HasSubstr("LOCAL_GATEWAY_METRICS_PORT"));
  EXPECT_FALSE(PgIsAccepting(Dsn()));
}

}  // namespace
}  // namespace portunus::harness
