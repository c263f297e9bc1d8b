#include "tests/harness/rest.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace portunus::harness {

Reply CallRest(const std::string& base_url, const std::string& method, const std::string& path,
               const As& as, const std::string& body) {
  HttpRequest req;
  req.method = method;
  req.url = base_url + path;
  req.body = body;
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (!as.header.empty()) req.headers.emplace_back(as.header, as.value);
  req.basic_user = as.basic_user;
  req.basic_password = as.basic_password;
  absl::StatusOr<HttpResponse> resp = Http(req);
  Reply r;
  if (!resp.ok()) {
    ADD_FAILURE() << method << " " << path << ": " << resp.status();
    return r;
  }
  r.status = resp->status;
  r.raw = *resp;
  r.body = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  EXPECT_LT(r.status, 500) << method << " " << path << " -> " << resp->body;
  return r;
}

}  // namespace portunus::harness
