// Routes of the catalog (services/catalog). Translation only (routes.h); the catalog
// authenticates the caller from the forwarded headers.
//
//   POST   /v2/webhooks/events                   EventService.IngestNotification  202
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "portunus/catalog/v1/events.grpc.pb.h"
#include "services/common/status_mapping.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace pb = ::portunus::catalog::v1;

// Registry notification envelopes hold one event of about 1.5 KiB (2.8 sends one per POST);
// this leaves room for envelopes of hundreds of events and refuses anything absurd with 413
// whatever gateway.max_body_bytes allows.
constexpr size_t kMaxWebhookBody = 1 << 20;

void RegisterWebhook(Router& router, Upstreams& up) {
  auto events = std::shared_ptr<pb::EventService::Stub>(pb::EventService::NewStub(up.catalog()));
  router.Add("POST", "/v2/webhooks/events",
             [&up, events](HttpRequest&& req, PathParams, HttpResponder respond) {
               if (req.body.size() > kMaxWebhookBody) {
                 return respond(ErrorResponse(
                     413, absl::StrCat("notification body larger than ", kMaxWebhookBody, " bytes"),
                     req.request_id));
               }
               pb::IngestNotificationRequest rpc;
               rpc.set_authorization(req.Header("authorization"));
               rpc.set_content_type(req.Header("content-type"));
               rpc.set_body(req.body);
               up.Call(*events, &pb::EventService::Stub::PrepareAsyncIngestNotification, rpc, req,
                       [respond, rid = req.request_id](absl::Status s,
                                                       pb::IngestNotificationResponse& counts) {
                         if (!s.ok()) {
                           HttpResponse r = ErrorResponse(s, rid);
                           if (r.status == 401) r.SetHeader("WWW-Authenticate", "Bearer");
                           return respond(std::move(r));
                         }
                         respond(ProtoResponse(202, counts));
                       });
             });
}

}  // namespace

void RegisterCatalogRoutes(Router& router, Upstreams& upstreams) {
  RegisterWebhook(router, upstreams);
}

}  // namespace portunus::gateway
