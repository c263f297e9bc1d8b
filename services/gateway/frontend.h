// The gateway's request pipeline around the Router: route lookup, per-route metrics, the access
// log, and the headers every gateway response carries. It is what the HttpServer runs.
//
// Metrics (on the gateway's /metrics port), labelled by route pattern, never the raw path, so
// their number stays bounded:
//   http_requests_total{method,route,code}          counter
//   http_request_duration_seconds{method,route}     histogram (handler start to response)
//   http_requests_in_flight                         gauge
// `route` is the matched pattern ("/api/v1/users/:id"), or "none" when no route matched;
// `method` is one of GET HEAD POST PUT PATCH DELETE OPTIONS, else OTHER.
//
// Access log: one line per request (also for requests the server rejected itself) with method,
// path (never the query, which may hold secrets), route, status, bytes, duration, request_id,
// remote address.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/common/http_server.h"
#include "services/gateway/router.h"

namespace portunus::gateway {

// The headers Portus sends on every response (X-Request-Id is added by the HttpServer).
HttpHeaders GatewayResponseHeaders();

// Thread-safe. `router` and `registry` must outlive it.
class Frontend {
 public:
  struct Options {
    bool access_log = true;
  };
  Frontend(const Router& router, prometheus::Registry& registry, Options options);
  ~Frontend();

  // The HttpHandler: finds the route and runs it (or answers 404/405/204/400).
  void Handle(HttpRequest&& request, HttpResponder respond);
  // The HttpRejectObserver: logs and counts requests the server answered itself (413, ...).
  void OnReject(const HttpRequest& request, const HttpResponse& response);

  // Server options with this frontend as handler and reject observer, and the gateway's
  // response headers as default headers.
  void Install(HttpServerOptions* options);

 private:
  struct Exchange;
  // Records metrics and the access-log line of one finished request.
  void Record(absl::string_view method, int route_id, absl::string_view path, int status, size_t bytes, double seconds,
              absl::string_view request_id, absl::string_view remote);

  const Router& router_;
  const Options options_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Gauge& in_flight_;

  // Metric children by (route, method[, code]); prometheus-cpp's own lookup allocates. A
  // std::mutex on this per-request path: Debian's Abseil checks every absl::Mutex lock for
  // deadlocks.
  std::mutex mu_;
  absl::flat_hash_map<std::tuple<int, int, int>, prometheus::Counter*> counters_;  // mu_
  absl::flat_hash_map<std::pair<int, int>, prometheus::Histogram*> histograms_;    // mu_
};

}  // namespace portunus::gateway
