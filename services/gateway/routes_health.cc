// Health routes (issue 6): Portus's GET /api/v1/health, MSR's GET /_ping and
// GET /api/v0/meta/cluster_status, all from the health service (portunus.health.v1), and the
// gateway's own GET /gateway_status in nginx stub_status format.
//
// /api/v1/health and /_ping are what load balancers poll, so they are answered from a copy of
// the health service's last answer, rendered once and kept for a short time (the health service
// itself only reports its background checks, so a fresh copy every 250 ms adds at most that much
// to its check interval). One refresh runs at a time; requests arriving meanwhile get the
// previous copy, and only the very first requests wait for an answer.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "portunus/health/v1/health_service.grpc.pb.h"
#include "services/common/clock.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace hv1 = ::portunus::health::v1;
using Json = nlohmann::ordered_json;

// The bodies of /api/v1/health and /_ping for one health answer.
struct HealthAnswers {
  int status = 503;  // 200 when healthy
  std::string health;
  std::string ping;
};

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::shared_ptr<const HealthAnswers> Render(const hv1::GetHealthResponse& r) {
  auto answers = std::make_shared<HealthAnswers>();
  answers->status = r.healthy() ? 200 : 503;
  // Exactly Portus's shape: {"<component>": {"msg": "...", "success": bool}, ...}.
  Json health = Json::object();
  for (const hv1::Component& c : r.components()) {
    health[c.name()] = Json{{"msg", c.msg()}, {"success", c.success()}};
  }
  answers->health = Dump(health);
  // MSR's shape.
  answers->ping = Dump(Json{{"Error", r.healthy() ? "" : r.error()}, {"Healthy", r.healthy()}});
  return answers;
}

std::shared_ptr<const HealthAnswers> RenderUnreachable(const absl::Status& status) {
  auto answers = std::make_shared<HealthAnswers>();
  const std::string msg = absl::StrCat("health service is not reachable: ", status.message());
  answers->health = Dump(Json{{"health", Json{{"msg", msg}, {"success", false}}}});
  answers->ping = Dump(Json{{"Error", msg}, {"Healthy", false}});
  return answers;
}

// The cached health answer. Thread-safe; shared by the routes' handlers.
class HealthCache : public std::enable_shared_from_this<HealthCache> {
 public:
  using Done = std::function<void(std::shared_ptr<const HealthAnswers>)>;

  HealthCache(Upstreams& upstreams, HealthRouteOptions options)
      : upstreams_(upstreams),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
        stub_(hv1::HealthService::NewStub(upstreams.health())) {}

  // Calls `done` with the current answer: at once when there is one (refreshing it in the
  // background when it is older than the TTL), else when the first answer arrives.
  void Get(const HttpRequest& request, Done done) {
    std::shared_ptr<const HealthAnswers> current;
    bool refresh = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current = answers_;
      const bool fresh = current && clock_.Now() - fetched_ < options_.cache_ttl;
      if (!fresh && !refreshing_) refreshing_ = refresh = true;
      if (!current) waiters_.push_back(std::move(done));
    }
    if (refresh) Refresh(request);
    if (current) done(std::move(current));
  }

 private:
  void Refresh(const HttpRequest& request) {
    upstreams_.Call(*stub_, &hv1::HealthService::Stub::PrepareAsyncGetHealth,
                    hv1::GetHealthRequest(), request,
                    [self = shared_from_this()](absl::Status s, hv1::GetHealthResponse& r) {
                      self->Store(s.ok() ? Render(r) : RenderUnreachable(s));
                    });
  }

  void Store(std::shared_ptr<const HealthAnswers> answers) {
    std::vector<Done> waiters;
    {
      std::lock_guard<std::mutex> lock(mu_);
      answers_ = answers;
      fetched_ = clock_.Now();
      refreshing_ = false;
      waiters.swap(waiters_);
    }
    for (Done& w : waiters) w(answers);
  }

  Upstreams& upstreams_;
  const HealthRouteOptions options_;
  const Clock& clock_;
  const std::unique_ptr<hv1::HealthService::Stub> stub_;
  // A std::mutex, not absl::Mutex, on this per-request path: Debian's Abseil runs its deadlock
  // detector on every absl::Mutex lock.
  std::mutex mu_;
  std::shared_ptr<const HealthAnswers> answers_;  // guarded by mu_, as are the next three
  absl::Time fetched_;
  bool refreshing_ = false;
  std::vector<Done> waiters_;
};

const char* StateName(hv1::Replica::State state) {
  switch (state) {
    case hv1::Replica::READY:
      return "ready";
    case hv1::Replica::NOT_READY:
      return "not_ready";
    case hv1::Replica::STALE:
      return "stale";
    case hv1::Replica::STOPPED:
      return "stopped";
    default:
      return "unknown";
  }
}

// MSR's cluster_status shape, plus the details Portunus has.
std::string RenderClusterStatus(const hv1::GetClusterStatusResponse& r) {
  Json health = Json::object(), timestamps = Json::object(), replicas = Json::object();
  for (const hv1::Replica& rep : r.replicas()) {
    health[rep.id()] = rep.health();
    timestamps[rep.id()] = rep.last_heartbeat();
    replicas[rep.id()] = Json{{"service", rep.service()},
                              {"hostname", rep.hostname()},
                              {"pid", rep.pid()},
                              {"address", rep.address()},
                              {"version", rep.version()},
                              {"started_at", rep.started_at()},
                              {"last_heartbeat", rep.last_heartbeat()},
                              {"state", StateName(rep.state())}};
  }
  Json issues = Json::array();
  for (const hv1::Issue& i : r.current_issues()) {
    issues.push_back(Json{{"critical", i.critical()}, {"description", i.description()}});
  }
  Json components = Json::object();
  for (const hv1::Component& c : r.components()) {
    components[c.name()] = Json{{"msg", c.msg()}, {"success", c.success()}};
  }
  return Dump(Json{{"current_issues", issues},
                   {"replica_health", health},
                   {"replica_timestamp", timestamps},
                   {"replicas", replicas},
                   {"components", components},
                   {"generated_at", r.generated_at()}});
}

}  // namespace

void RegisterHealthRoutes(Router& router, Upstreams& upstreams, HealthRouteOptions options) {
  auto cache = std::make_shared<HealthCache>(upstreams, options);
  router.Add("GET", "/api/v1/health",
             [cache](HttpRequest&& req, PathParams, HttpResponder respond) {
               cache->Get(req, [respond](std::shared_ptr<const HealthAnswers> a) {
                 respond(JsonResponse(a->status, a->health));
               });
             });
  router.Add("GET", "/_ping", [cache](HttpRequest&& req, PathParams, HttpResponder respond) {
    cache->Get(req, [respond](std::shared_ptr<const HealthAnswers> a) {
      respond(JsonResponse(a->status, a->ping));
    });
  });

  auto stub =
      std::shared_ptr<hv1::HealthService::Stub>(hv1::HealthService::NewStub(upstreams.health()));
  router.Add("GET", "/api/v0/meta/cluster_status",
             [&upstreams, stub](HttpRequest&& req, PathParams, HttpResponder respond) {
               // The caller's credentials travel as metadata; the health service asks auth.
               upstreams.Call(*stub, &hv1::HealthService::Stub::PrepareAsyncGetClusterStatus,
                              hv1::GetClusterStatusRequest(), req,
                              [respond, id = req.request_id](absl::Status s,
                                                             hv1::GetClusterStatusResponse& r) {
                                if (s.ok())
                                  return respond(JsonResponse(200, RenderClusterStatus(r)));
                                HttpResponse error = ErrorResponse(s, id);
                                if (error.status == 401) {
                                  error.SetHeader("WWW-Authenticate", "Basic realm=\"Portunus\"");
                                }
                                respond(std::move(error));
                              });
             });
}

void RegisterGatewayStatusRoute(Router& router, std::function<HttpServerStats()> stats) {
  router.Add("GET", "/gateway_status",
             [stats = std::move(stats)](HttpRequest&&, PathParams, HttpResponder respond) {
               const HttpServerStats s = stats();
               // nginx's stub_status, byte for byte (trailing spaces included), so its parsers
               // (collectd, telegraf, nginx-prometheus-exporter) read it.
               respond(HttpResponse(200, "text/plain",
                                    absl::StrFormat("Active connections: %d \n"
                                                    "server accepts handled requests\n"
                                                    " %d %d %d \n"
                                                    "Reading: %d Writing: %d Waiting: %d \n",
                                                    s.active, s.accepts, s.handled, s.requests,
                                                    s.reading, s.writing, s.waiting)));
             });
}

}  // namespace portunus::gateway
