// health_bench: throughput and latency of the health endpoints load balancers poll (issue 6).
//
// Starts the whole stack on free loopback ports with the integration-test harness (its own
// PostgreSQL, the real registry wired to Portunus's token server, every service), waits until
// GET /api/v1/health answers with the database component, then for each of GET /api/v1/health,
// GET /_ping and, as the reference, GET /api/v1/_ping: a 2 s warm-up and
// `wrk -t2 -c32 -d<seconds>s --latency`, <rounds> times, reporting the medians. The first two
// are answered by the gateway from its 250 ms copy of the health service's last check results
// (routes_health.cc). Target: >= 10,000 req/s with p99 <= 5 ms.
// Prints Markdown rows for docs/benchmarks.md; exits 1 when the target is missed, 2 when the
// bench could not run. (Idle memory of every service: bench/gateway_ping/run.sh.)
//
//   ninja -C build health_bench && build/bench/health_bench [--seconds 10] [--rounds 3]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/wrk.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using bench::RunWrk;
using bench::WrkOptions;
using bench::WrkResult;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int seconds = 10, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    int value = 0;
    if (!absl::SimpleAtoi(argv[i + 1], &value) || value < 1) {
      std::fprintf(stderr, "health_bench: %s needs a positive integer\n", flag.c_str());
      return 2;
    }
    if (flag == "--seconds") {
      seconds = value;
    } else if (flag == "--rounds") {
      rounds = value;
    } else {
      std::fprintf(stderr, "usage: health_bench [--seconds N] [--rounds N]\n");
      return 2;
    }
  }
  absl::StatusOr<std::unique_ptr<PostgresServer>> pg = PostgresServer::Start();
  if (!pg.ok()) return std::fprintf(stderr, "postgres: %s\n", pg.status().ToString().c_str()), 2;
  if (absl::Status s = (*pg)->CreateDatabase("portunus"); !s.ok()) {
    return std::fprintf(stderr, "postgres: %s\n", s.ToString().c_str()), 2;
  }
  Stack::Options options;
  options.db_dsn = (*pg)->Dsn("portunus");
  options.config = {{"gateway.access_log", "false"}, {"log.level", "warn"}};
  absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Create(options);
  if (!stack.ok()) return std::fprintf(stderr, "stack: %s\n", stack.status().ToString().c_str()), 2;
  absl::StatusOr<std::unique_ptr<RegistryServer>> registry =
      RegistryServer::Start((*stack)->RegistryOptions());
  if (!registry.ok()) {
    return std::fprintf(stderr, "registry: %s\n", registry.status().ToString().c_str()), 2;
  }
  if (absl::Status s = (*stack)->Start(); !s.ok()) {
    return std::fprintf(stderr, "start: %s\n", s.ToString().c_str()), 2;
  }
  const std::string gateway = (*stack)->gateway_url();
  // Healthy when everything works; the answer is cached either way, so a 503 is measured too.
  absl::StatusOr<HttpResponse> first;
  PollUntil(
      [&] {
        first = HttpGet(gateway + "/api/v1/health");
        return first.ok() && first->status == 200;
      },
      absl::Seconds(30));
  if (!first.ok() || first->body.find("\"database\"") == std::string::npos) {
    return std::fprintf(stderr, "no health answer from %s\n", gateway.c_str()), 2;
  }
  std::printf("GET /api/v1/health -> %ld %s\n\n", first->status, first->body.c_str());

  bool met_all = true;
  std::printf("| endpoint (wrk -t2 -c32, %d s, median of %d) | req/s | p50 | p99 | target |\n"
              "|---|---|---|---|---|\n",
              seconds, rounds);
  // GET /api/v1/_ping (empty 200, no backend, no copy) is the reference: what this machine
  // gives any gateway route under the same load, so the health routes' own cost is the gap.
  for (const char* path : {"/api/v1/health", "/_ping", "/api/v1/_ping"}) {
    const bool reference = std::string(path) == "/api/v1/_ping";
    const std::string url = gateway + path;
    // Warm-up: connections, the gateway's copy, CPU caches.
    RunWrk(url, WrkOptions{2, 32, 2}).IgnoreError();
    std::vector<double> rps, p50, p99;
    long non_2xx = 0;
    for (int round = 0; round < rounds; ++round) {
      absl::StatusOr<WrkResult> w = RunWrk(url, WrkOptions{2, 32, seconds});
      if (!w.ok()) return std::fprintf(stderr, "wrk: %s\n", w.status().ToString().c_str()), 2;
      std::fprintf(stderr, "  %s round %d: %.0f req/s, p50 %.2f ms, p99 %.2f ms\n", path,
                   round + 1, w->requests_per_second, w->p50_ms, w->p99_ms);
      rps.push_back(w->requests_per_second);
      p50.push_back(w->p50_ms);
      p99.push_back(w->p99_ms);
      non_2xx += w->non_2xx;
    }
    const bool met = Median(rps) >= 10000 && Median(p99) <= 5;
    if (!reference) met_all = met_all && met;
    std::printf("| GET %s%s | %.0f | %.2f ms | %.2f ms | %s |\n", path,
                non_2xx > 0 ? " (503s)" : "", Median(rps), Median(p50), Median(p99),
                reference ? "reference (no target)"
                          : (met ? ">= 10,000 req/s, p99 <= 5 ms: met"
                                 : ">= 10,000 req/s, p99 <= 5 ms: MISSED"));
    std::fflush(stdout);
  }
  return met_all ? 0 : 1;
}

}  // namespace
}  // namespace portunus::harness

int main(int argc, char** argv) { return portunus::harness::Main(argc, argv); }
