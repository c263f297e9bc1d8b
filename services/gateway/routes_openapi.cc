#include "absl/strings/string_view.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {

// openapi_document_data.cc, generated from docs/openapi.json (CMakeLists.txt).
extern const unsigned char kOpenApiDocument[];
extern const unsigned long kOpenApiDocument_size;

absl::string_view OpenApiDocument() {
  return absl::string_view(reinterpret_cast<const char*>(kOpenApiDocument),
                           kOpenApiDocument_size);
}

void RegisterOpenApiRoutes(Router& router, Upstreams& /*upstreams*/) {
  router.Add("GET", "/api/openapi.json", [](HttpRequest&&, PathParams, HttpResponder respond) {
    respond(JsonResponse(200, std::string(OpenApiDocument())));
  });
}

}  // namespace portunus::gateway
