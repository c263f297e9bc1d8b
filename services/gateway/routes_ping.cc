#include "services/gateway/routes.h"

namespace portunus::gateway {

void RegisterPingRoutes(Router& router, Upstreams& /*upstreams*/) {
  router.Add("GET", "/api/v1/_ping",
             [](HttpRequest&&, PathParams, HttpResponder respond) { respond(HttpResponse(200)); });
}

}  // namespace portunus::gateway
