// Observability checks (issue 6) with the real tools: the example alert rules in
// docs/observability.md pass `promtool check rules` and a `promtool test rules` unit test; a
// real Prometheus on loopback scrapes every service until `up == 1`, answers queries about the
// metrics the docs promise, and loads the rules; `promtool check metrics` accepts every
// endpoint.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

// The YAML block after the `promtool-rules` marker in docs/observability.md.
absl::StatusOr<std::string> AlertRulesFromDocs() {
  absl::StatusOr<std::string> doc = ReadFile(SourceDir() + "/docs/observability.md");
  if (!doc.ok()) return doc.status();
  const size_t marker = doc->find("<!-- promtool-rules");
  if (marker == std::string::npos) return absl::NotFoundError("no promtool-rules marker");
  const size_t open = doc->find("```yaml\n", marker);
  if (open == std::string::npos) return absl::NotFoundError("no yaml block after the marker");
  const size_t start = open + 8;
  const size_t end = doc->find("\n```", start);
  if (end == std::string::npos) return absl::NotFoundError("unterminated yaml block");
  return doc->substr(start, end - start + 1);
}

// promtool unit tests of two alerts: they stay pending for their `for:` and then fire with the
// documented labels and annotations.
constexpr char kRuleTests[] = R"(rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'portunus_health_component_up{component="database",job="portunus-health",instance="h:9094"}'
        values: '1 0 0 0 0 0'
      - series: 'portunus_health_replicas{service="catalog",state="stale",job="portunus-health",instance="h:9094"}'
        values: '0 1 1 1 1 1 1 1 1'
      - series: 'portunus_health_replicas{service="catalog",state="ready",job="portunus-health",instance="h:9094"}'
        values: '2 1 1 1 1 1 1 1 1'
    alert_rule_test:
      - eval_time: 2m
        alertname: PortunusComponentUnhealthy
        exp_alerts: []
      - eval_time: 4m
        alertname: PortunusComponentUnhealthy
        exp_alerts:
          - exp_labels: {severity: critical, component: database, job: portunus-health, instance: "h:9094"}
            exp_annotations:
              summary: 'Portunus component database is unhealthy'
              description: 'The health service reports database as failing; GET /api/v1/health (or portunusctl health) gives the reason.'
      - eval_time: 4m
        alertname: PortunusReplicaStale
        exp_alerts: []
      - eval_time: 7m
        alertname: PortunusReplicaStale
        exp_alerts:
          - exp_labels: {severity: warning, service: catalog}
            exp_annotations:
              summary: 'A catalog replica stopped sending heartbeats'
              description: 'cluster_status lists it with "no heartbeat for ..."; it crashed, hangs or lost the network.'
      - eval_time: 7m
        alertname: PortunusNoReadyReplica
        exp_alerts: []
)";

TEST(HealthMetricsTest, DocumentedAlertRulesPassPromtool) {
  HARNESS_ASSIGN_OR_FAIL(std::string rules, AlertRulesFromDocs());
  TempDir dir("rules");
  HARNESS_ASSERT_OK(WriteFile(dir.Sub("rules.yml"), rules));
  HARNESS_ASSERT_OK(WriteFile(dir.Sub("rules_test.yml"), kRuleTests));
  HARNESS_ASSIGN_OR_FAIL(CommandResult check,
                         RunCommand("promtool", {"check", "rules", dir.Sub("rules.yml")}));
  EXPECT_TRUE(check.ok()) << check.Describe() << check.out;
  EXPECT_THAT(check.out, ::testing::HasSubstr("SUCCESS: 13 rules found"));
  Process::Options test;
  test.binary = "promtool";
  test.args = {"test", "rules", "rules_test.yml"};
  test.cwd = dir.path();
  HARNESS_ASSIGN_OR_FAIL(CommandResult unit, RunCommand(test));
  EXPECT_TRUE(unit.ok()) << unit.Describe() << unit.out;
}

// GET <prometheus>/api/v1/<path>, parsed; "data" of a successful answer.
absl::StatusOr<nlohmann::json> PromApi(const std::string& base, const std::string& path) {
  absl::StatusOr<HttpResponse> r = HttpGet(base + "/api/v1/" + path);
  if (!r.ok()) return r.status();
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if (r->status != 200 || j.is_discarded() || j.value("status", "") != "success") {
    return absl::InternalError(absl::StrCat("GET ", path, ": ", r->status, " ", r->body));
  }
  return j["data"];
}

// The values of an instant query, as doubles, one per series.
std::vector<double> Query(const std::string& base, const std::string& promql) {
  std::string encoded;
  for (unsigned char c : promql) {
    if (isalnum(c) || c == '_' || c == '.' || c == '-') {
      encoded += static_cast<char>(c);
    } else {
      encoded += absl::StrCat("%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  std::vector<double> out;
  absl::StatusOr<nlohmann::json> data = PromApi(base, "query?query=" + encoded);
  if (!data.ok()) return out;
  for (const auto& series : (*data)["result"]) {
    out.push_back(std::stod(series["value"][1].get<std::string>()));
  }
  return out;
}

TEST(HealthMetricsTest, PrometheusScrapesEveryServiceAndLoadsTheRules) {
  PORTUNUS_TEST_DATABASE(db);
  Stack::Options options;
  options.db_dsn = db->dsn();  // every service, the gateway and the scanner included
  options.config = {{"health.check_interval", "1s"},
                    {"health.heartbeat_interval", "500ms"},
                    {"health.replica_stale_after", "2s"},
                    {"health.scanner_enabled", "true"}};
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Stack> stack, Stack::Create(options));
  HARNESS_ASSERT_OK(stack->Start());

  // promtool check metrics on every endpoint.
  for (const std::string& svc : AllServices()) {
    SCOPED_TRACE(svc);
    HARNESS_ASSIGN_OR_FAIL(HttpResponse metrics, HttpGet(stack->metrics_url(svc)));
    ASSERT_EQ(metrics.status, 200);
    Process::Options check;
    check.binary = "promtool";
    check.args = {"check", "metrics"};
    HARNESS_ASSIGN_OR_FAIL(CommandResult r, RunCommand(check, absl::Seconds(30), metrics.body));
    EXPECT_TRUE(r.ok()) << r.Describe() << r.out;
  }

  TempDir dir("prometheus");
  HARNESS_ASSIGN_OR_FAIL(std::string rules, AlertRulesFromDocs());
  HARNESS_ASSERT_OK(WriteFile(dir.Sub("rules.yml"), rules));
  std::string config =
      absl::StrCat("global: {scrape_interval: 1s, evaluation_interval: 1s}\n", "rule_files: ['",
                   dir.Sub("rules.yml"), "']\n", "scrape_configs:\n");
  for (const std::string& svc : AllServices()) {
    std::string target = stack->metrics_url(svc);
    target = target.substr(7, target.size() - 7 - 8);  // strip http:// and /metrics
    absl::StrAppend(&config, "  - job_name: portunus-", svc, "\n    static_configs: [{targets: ['",
                    target, "']}]\n");
  }
  HARNESS_ASSERT_OK(WriteFile(dir.Sub("prometheus.yml"), config));
  HARNESS_ASSIGN_OR_FAIL(CommandResult checked,
                         RunCommand("promtool", {"check", "config", dir.Sub("prometheus.yml")}));
  ASSERT_TRUE(checked.ok()) << checked.Describe() << checked.out;

  const int port = PickFreePort();
  const std::string base = absl::StrCat("http://127.0.0.1:", port);
  Process::Options prom;
  prom.name = "prometheus";
  prom.binary = "prometheus";
  prom.args = {"--config.file=" + dir.Sub("prometheus.yml"),
               "--storage.tsdb.path=" + dir.Sub("data"),
               absl::StrCat("--web.listen-address=127.0.0.1:", port)};
  prom.log_path = dir.Sub("prometheus.log");
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<Process> prometheus, Process::Start(prom));

  // Every target up (the first scrape lands a few seconds after start).
  std::vector<double> up;
  EXPECT_TRUE(PollUntil(
      [&] {
        up = Query(base, "up");
        return up.size() == AllServices().size() &&
               std::all_of(up.begin(), up.end(), [](double v) { return v == 1; });
      },
      absl::Seconds(60), absl::Milliseconds(250)))
      << "up: " << ::testing::PrintToString(up) << "\n"
      << prometheus->ReadLog();

  // The metrics docs/observability.md promises, as Prometheus stored them.
  EXPECT_THAT(Query(base, "count(portunus_build_info)"), ::testing::ElementsAre(5));
  EXPECT_THAT(Query(base, "count(process_resident_memory_bytes)"), ::testing::ElementsAre(5));
  EXPECT_THAT(Query(base, R"(portunus_db_pool_max_connections{job="portunus-catalog"})"),
              ::testing::ElementsAre(4));
  std::vector<double> v;
  EXPECT_TRUE(PollUntil(
      [&] {
        v = Query(
            base,
            R"(min(portunus_health_component_up{component=~"database|auth|catalog|scanner"}))");
        return v.size() == 1 && v[0] == 1;
      },
      absl::Seconds(20), absl::Milliseconds(250)))
      << ::testing::PrintToString(v);
  // The registry is not running here: the health service says so.
  EXPECT_THAT(Query(base, R"(portunus_health_component_up{component="registry"})"),
              ::testing::ElementsAre(0));
  // Five services heartbeat (the gateway too, which has no gRPC server).
  EXPECT_TRUE(PollUntil(
      [&] {
        v = Query(base, R"(count(portunus_health_replicas{state="ready"} > 0))");
        return v.size() == 1 && v[0] == 5;
      },
      absl::Seconds(20), absl::Milliseconds(250)))
      << ::testing::PrintToString(v);
  // The health service's probes are RPCs the auth service counted.
  EXPECT_TRUE(PollUntil(
      [&] {
        v = Query(
            base,
            R"(sum(grpc_server_handled_total{job="portunus-auth",grpc_service="grpc.health.v1.Health",grpc_code="OK"}))");
        return v.size() == 1 && v[0] > 0;
      },
      absl::Seconds(20), absl::Milliseconds(250)))
      << ::testing::PrintToString(v);
  // Every service but health (which registers itself in-process) delivered heartbeats.
  EXPECT_TRUE(PollUntil(
      [&] {
        v = Query(base, R"(count(portunus_replica_heartbeats_total{result="ok"} > 0))");
        return v.size() == 1 && v[0] == 4;
      },
      absl::Seconds(20), absl::Milliseconds(250)))
      << ::testing::PrintToString(v);

  // The rules are loaded and evaluate without errors.
  absl::StatusOr<nlohmann::json> groups;
  EXPECT_TRUE(PollUntil(
      [&] {
        groups = PromApi(base, "rules");
        if (!groups.ok() || (*groups)["groups"].size() != 2) return false;
        for (const auto& g : (*groups)["groups"]) {
          for (const auto& r : g["rules"]) {
            if (r.value("health", "") != "ok") return false;
          }
        }
        return true;
      },
      absl::Seconds(20), absl::Milliseconds(250)))
      << (groups.ok() ? groups->dump(2) : std::string(groups.status().message()));
}

}  // namespace
}  // namespace portunus::harness
