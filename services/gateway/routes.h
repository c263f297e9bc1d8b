// Route registration: one file per API area.
//
// Each area lives in its own `routes_<area>.cc` with one entry point
//     void Register<Area>Routes(Router& router, Upstreams& upstreams);
// declared here and called once from BuildRouter() in gateway_module.cc. A route file only
// translates: HTTP request -> protobuf request (rest.h: ParseJsonBody, ParsePaging, path
// params), one Upstreams::Call to the backend that owns the feature, protobuf response -> JSON
// (rest.h: ProtoResponse/MessagesToJsonArray, ErrorResponse). It holds no business rules and
// never blocks the io thread. Stubs are created once at registration from the long-lived
// channels (upstreams.auth(), .catalog(), .scanner(), .health()) and captured by the handlers:
//
//   void RegisterExampleRoutes(Router& router, Upstreams& up) {
//     auto stub = std::shared_ptr<v1::UserService::Stub>(v1::UserService::NewStub(up.auth()));
//     router.Add("GET", "/api/v1/users/:id",
//                [&up, stub](HttpRequest&& req, PathParams params, HttpResponder respond) {
//       v1::GetUserRequest rpc;
//       int64_t id;
//       if (!absl::SimpleAtoi(params.Get("id"), &id)) {
//         return respond(ErrorResponse(InvalidFieldError("id", "must be an integer"),
//                                      req.request_id));
//       }
//       rpc.set_id(id);
//       up.Call(*stub, &v1::UserService::Stub::PrepareAsyncGetUser, rpc, req,
//               [respond, rid = req.request_id](absl::Status s, v1::User& user) {
//                 respond(s.ok() ? ProtoResponse(200, user) : ErrorResponse(s, rid));
//               });
//     });
//   }
//
// Every response automatically gets the gateway's security headers and X-Request-Id, and is
// counted in the metrics under its route pattern (frontend.h).
#pragma once

#include <functional>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/http_server.h"
#include "services/gateway/router.h"
#include "services/gateway/upstream.h"

namespace portunus::gateway {

// GET|HEAD /api/v1/_ping: 200 with an empty body, without calling any backend (Portus 2.3+).
void RegisterPingRoutes(Router& router, Upstreams& upstreams);

// routes_health.cc, from the health service (portunus.health.v1.HealthService):
//   GET /api/v1/health   Portus's {"<component>": {"msg", "success"}}, 200 healthy / 503 not
//   GET /_ping           MSR's {"Error": "", "Healthy": true}, 200 / 503 with the reason
//   GET /api/v0/meta/cluster_status   MSR's replica_health, replica_timestamp, current_issues
//                        (+ replicas, components); credentials required: 401 / 403 otherwise
// The first two answer from a copy of the health service's answer kept for `cache_ttl`.
struct HealthRouteOptions {
  absl::Duration cache_ttl = absl::Milliseconds(250);
  const Clock* clock = nullptr;  // null: the real clock
};
void RegisterHealthRoutes(Router& router, Upstreams& upstreams, HealthRouteOptions options = {});

// GET /gateway_status: nginx stub_status text from the gateway's HTTP server counters.
void RegisterGatewayStatusRoute(Router& router, std::function<HttpServerStats()> stats);

// Portus's REST API v1 for the identity model (routes_auth.cc), served by portunus-auth:
// /api/v1/users (+ /bootstrap, /:id, /:id/application_tokens, /application_tokens/:id),
// /api/v1/teams (+ /:id, /:id/members, /:id/members/:member_id, /:id/namespaces),
// /api/v1/namespaces (+ /validate, /:id) and GET /api/v1/explain.
void RegisterAuthRoutes(Router& router, Upstreams& upstreams);

// GET /api/openapi.json: docs/openapi.json, the OpenAPI 3 document of every route registered
// here, compiled into the binary (routes_openapi.cc). A route without an entry there fails
// gateway_tests (openapi_test.cc): document new routes in docs/openapi.json.
void RegisterOpenApiRoutes(Router& router, Upstreams& upstreams);

// routes_scanner.cc, from the scanner (portunus.scanner.v1) and, for tag ids, the catalog:
//   POST /api/v1/vulnerabilities           rescan every image (admin), 202
//   POST /api/v1/vulnerabilities/:tag_id   rescan one tag's image (admin), 202
//   GET  /api/v1/tags/:id/vulnerabilities  the tag's vulnerabilities (paged, ?severity=)
void RegisterScannerRoutes(Router& router, Upstreams& upstreams);
// The document served there.
absl::string_view OpenApiDocument();

// GET|POST /v2/token and /auth/token: Docker registry tokens (TokenService), routes_token.cc.
void RegisterTokenRoutes(Router& router, Upstreams& upstreams);

// The catalog's routes (routes_catalog.cc lists them): the registry's webhook
// POST /v2/webhooks/events and Portus API v1's repositories, tags, search, events and sync.
void RegisterCatalogRoutes(Router& router, Upstreams& upstreams);

}  // namespace portunus::gateway
