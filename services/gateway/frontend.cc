#include "services/gateway/frontend.h"

#include <chrono>

#include "services/common/log.h"
#include "services/common/metrics.h"

namespace portunus::gateway {
namespace {

constexpr const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
constexpr int kOtherMethod = 7;

int MethodIndex(absl::string_view method) {
  for (int i = 0; i < kOtherMethod; ++i) {
    if (method == kMethods[i]) return i;
  }
  return kOtherMethod;
}

const char* MethodLabel(int index) { return index < kOtherMethod ? kMethods[index] : "OTHER"; }

using Clock = std::chrono::steady_clock;

}  // namespace

HttpHeaders GatewayResponseHeaders() {
  return {{"X-Frame-Options", "DENY"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-XSS-Protection", "1; mode=block"},
          {"Cache-Control", "no-cache"}};
}

// One request between handler start and response. If every responder copy is dropped without
// an answer, the server answers 500 and this records it.
struct Frontend::Exchange {
  Exchange(Frontend& f, HttpResponder r, const HttpRequest& req, int route)
      : frontend(f),
        respond(std::move(r)),
        method(req.method),
        path(req.path),
        request_id(req.request_id),
        remote(req.remote_addr),
        route_id(route),
        start(Clock::now()) {
    frontend.in_flight_.Increment();
  }
  ~Exchange() {
    if (!finished) Finish(500, 0);
  }
  void Finish(int status, size_t bytes) {
    finished = true;
    frontend.in_flight_.Decrement();
    frontend.Record(method, route_id, path, status, bytes,
                    std::chrono::duration<double>(Clock::now() - start).count(), request_id,
                    remote);
  }

  Frontend& frontend;
  HttpResponder respond;
  const std::string method;
  const std::string path;
  const std::string request_id;
  const std::string remote;
  const int route_id;
  const Clock::time_point start;
  bool finished = false;
};

Frontend::Frontend(const Router& router, prometheus::Registry& registry, Options options)
    : router_(router),
      options_(options),
      requests_(prometheus::BuildCounter()
                    .Name("http_requests_total")
                    .Help("HTTP requests answered, by method, route pattern and status code.")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("http_request_duration_seconds")
                    .Help("Time from the start of request handling to the response, by method "
                          "and route pattern.")
                    .Register(registry)),
      in_flight_(prometheus::BuildGauge()
                     .Name("http_requests_in_flight")
                     .Help("HTTP requests being handled now.")
                     .Register(registry)
                     .Add({})) {}

Frontend::~Frontend() = default;

void Frontend::Install(HttpServerOptions* options) {
  options->default_headers = GatewayResponseHeaders();
  options->on_reject = [this](const HttpRequest& request, const HttpResponse& response) {
    OnReject(request, response);
  };
}

void Frontend::Handle(HttpRequest&& request, HttpResponder respond) {
  Router::Match match = router_.Find(request.method, request.path);
  auto exchange = std::make_shared<Exchange>(*this, std::move(respond), request, match.route_id);
  HttpResponder wrapped = [exchange](HttpResponse response) {
    if (exchange->finished) return;  // the server logs a second call
    exchange->Finish(response.status, response.body.size());
    exchange->respond(std::move(response));
  };
  if (match.handler == nullptr) {
    wrapped(Router::NoRouteResponse(match, request));
    return;
  }
  (*match.handler)(std::move(request), std::move(match.params), std::move(wrapped));
}

void Frontend::OnReject(const HttpRequest& request, const HttpResponse& response) {
  Record(request.method, -1, request.path, response.status, response.body.size(), 0,
         request.request_id, request.remote_addr);
}

void Frontend::Record(absl::string_view method, int route_id, absl::string_view path, int status,
                      size_t bytes, double seconds, absl::string_view request_id,
                      absl::string_view remote) {
  const int m = MethodIndex(method);
  const bool known_route = route_id >= 0 && static_cast<size_t>(route_id) < router_.routes().size();
  const absl::string_view route_label =
      known_route ? absl::string_view(router_.routes()[static_cast<size_t>(route_id)].pattern)
                  : absl::string_view("none");
  prometheus::Counter* counter;
  prometheus::Histogram* histogram;
  {
    std::lock_guard<std::mutex> lock(mu_);
    prometheus::Counter*& c = counters_[std::make_tuple(route_id, m, status)];
    if (c == nullptr) {
      c = &requests_.Add({{"method", MethodLabel(m)},
                          {"route", std::string(route_label)},
                          {"code", std::to_string(status)}});
    }
    counter = c;
    prometheus::Histogram*& h = histograms_[std::make_pair(route_id, m)];
    if (h == nullptr) {
      h = &duration_.Add({{"method", MethodLabel(m)}, {"route", std::string(route_label)}},
                         LatencyBuckets());
    }
    histogram = h;
  }
  counter->Increment();
  histogram->Observe(seconds);
  if (options_.access_log) {
    LogInfo("http request", {{"method", method},
                             {"path", path},
                             {"route", route_label},
                             {"status", status},
                             {"bytes", bytes},
                             {"duration_s", seconds},
                             {"request_id", request_id},
                             {"remote", remote}});
  }
}

}  // namespace portunus::gateway
