// RunWrk: one run of wrk (Debian package `wrk`), the HTTP load generator the benchmarks use,
// and the figures of its `--latency` report. Shared by health_bench and catalog_ingest_bench.
//
//   absl::StatusOr<WrkResult> w = RunWrk(url, WrkOptions{});  // -t2 -c32 -d10s
//   if (w.ok()) std::printf("%.0f req/s, p99 %.2f ms\n", w->requests_per_second, w->p99_ms);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace portunus::bench {

struct WrkOptions {
  int threads = 2;
  int connections = 32;
  int seconds = 10;
  std::string script;                    // a Lua script (-s), or none
  std::vector<std::string> script_args;  // passed to the script's init(args), after "--"
};

struct WrkResult {
  double requests_per_second = 0;  // answers of any status
  double p50_ms = 0, p99_ms = 0;
  long requests = 0;        // answers received
  double seconds = 0;       // the run's measured duration
  long non_2xx = 0;         // of `requests`: answered neither 2xx nor 3xx
  long socket_errors = 0;   // connect, read, write errors and timeouts (no answer)
};

// kInternal with wrk's output when it fails or prints no Requests/sec.
absl::StatusOr<WrkResult> RunWrk(const std::string& url, const WrkOptions& options);

}  // namespace portunus::bench
