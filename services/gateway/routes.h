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

#include "services/gateway/router.h"
#include "services/gateway/upstream.h"

namespace portunus::gateway {

// GET|HEAD /api/v1/_ping: 200 with an empty body, without calling any backend (Portus 2.3+).
void RegisterPingRoutes(Router& router, Upstreams& upstreams);

}  // namespace portunus::gateway
