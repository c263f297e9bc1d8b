// Vulnerability routes (issue 7), Portus's API over the scanner (portunus.scanner.v1):
//   POST /api/v1/vulnerabilities   rescan every image (admin): 202 {"queued": n}
// The caller's credentials travel with the call; the scanner decides that only administrators
// may queue scans (401 without credentials, 403 for others).
#include <memory>
#include <string>

#include "nlohmann/json.hpp"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {

namespace sv1 = ::portunus::scanner::v1;

void RegisterScannerRoutes(Router& router, Upstreams& upstreams) {
  auto scanner = std::shared_ptr<sv1::ScannerService::Stub>(sv1::ScannerService::NewStub(upstreams.scanner()));
  router.Add("POST", "/api/v1/vulnerabilities",
             [&upstreams, scanner](HttpRequest&& req, PathParams, HttpResponder respond) {
               upstreams.Call(*scanner, &sv1::ScannerService::Stub::PrepareAsyncRescanAll, sv1::RescanAllRequest(),
                              req, [respond, id = req.request_id](absl::Status s, sv1::RescanAllResponse& r) {
                                if (!s.ok()) return respond(ErrorResponse(s, id));
                                respond(JsonResponse(202, nlohmann::json{{"queued", r.queued()}}.dump()));
                              });
             });
}

}  // namespace portunus::gateway
