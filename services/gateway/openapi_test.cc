// docs/openapi.json against the gateway's real route table: every route any area registers
// (the GatewayModule's router) must be documented, every documented operation must exist, and the document
// must hang together ($refs resolve, path parameters declared, unique operation ids). The
// gateway serves the same bytes at GET /api/openapi.json.
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/fake_clock.h"
#include "services/common/worker_pool.h"
#include "services/gateway/gateway_module.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

using Json = nlohmann::json;

// "/api/v1/users/:id/*rest" -> "/api/v1/users/{id}/{rest}".
std::string OpenApiPath(const std::string& pattern) {
  std::vector<std::string> out;
  for (absl::string_view seg : absl::StrSplit(pattern, '/')) {
    if (!seg.empty() && (seg[0] == ':' || seg[0] == '*')) {
      out.push_back(absl::StrCat("{", seg.substr(1), "}"));
    } else {
      out.emplace_back(seg);
    }
  }
  return absl::StrJoin(out, "/");
}

// The gateway exactly as RunService builds it (not started): its router holds every route of
// every area, including those the module adds itself.
class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ConfigBinder binder;
    BindCommonConfig(&binder, &common_);
    BindGatewayConfig(&binder, &config_);
    ASSERT_TRUE(binder
                    .Load("", [](const std::string& name) -> std::optional<std::string> {
                      if (name == "PORTUNUS_INTERNAL_SECRET") return std::string(40, 's');
                      if (name == "PORTUNUS_AUTH_ADDRESS") return std::string("127.0.0.1:1");
                      return std::nullopt;
                    })
                    .ok());
    runtime_ = std::make_unique<ServiceRuntime>(
        ServiceRuntime{"gateway", common_, nullptr, workers_, metrics_, readiness_, clock_});
    module_ = std::make_unique<GatewayModule>(*runtime_, config_);
    doc_ = Json::parse(OpenApiDocument(), nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(doc_.is_discarded()) << "docs/openapi.json is not valid JSON";
  }

  const Router& router() const { return module_->router(); }

  CommonConfig common_;
  GatewayConfig config_;
  WorkerPool workers_{1};
  MetricsServer metrics_;
  Readiness readiness_;
  testing::FakeClock clock_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<GatewayModule> module_;
  Json doc_;
};

const std::set<std::string> kMethods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

TEST_F(OpenApiTest, EveryRegisteredRouteIsDocumented) {
  std::vector<std::string> missing;
  for (const Router::RouteInfo& r : router().routes()) {
    const std::string path = OpenApiPath(r.pattern);
    const std::string method = absl::AsciiStrToLower(r.method);
    if (!doc_["paths"].contains(path) || !doc_["paths"][path].contains(method)) {
      missing.push_back(absl::StrCat(r.method, " ", r.pattern, "  ->  paths[\"", path, "\"].", method));
    }
  }
  EXPECT_TRUE(missing.empty()) << "routes missing from docs/openapi.json (" << missing.size()
                               << "):\n  " << absl::StrJoin(missing, "\n  ");
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsARoute) {
  std::set<std::string> routes;
  for (const Router::RouteInfo& r : router().routes()) {
    routes.insert(absl::StrCat(absl::AsciiStrToLower(r.method), " ", OpenApiPath(r.pattern)));
  }
  std::vector<std::string> stale;
  for (auto& [path, ops] : doc_["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      if (!kMethods.count(method)) continue;  // "parameters", "summary", ...
      if (!routes.count(absl::StrCat(method, " ", path))) stale.push_back(absl::StrCat(method, " ", path));
    }
  }
  EXPECT_TRUE(stale.empty()) << "documented in docs/openapi.json but not registered:\n  "
                             << absl::StrJoin(stale, "\n  ");
}

// Every "$ref" in `j` resolves inside the document.
void CheckRefs(const Json& doc, const Json& j, const std::string& where, std::vector<std::string>* bad) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if (k == "$ref") {
        const std::string ref = v.get<std::string>();
        if (!absl::StartsWith(ref, "#/")) {
          bad->push_back(where + ": " + ref);
          continue;
        }
        const Json* cur = &doc;
        for (absl::string_view part : absl::StrSplit(ref.substr(2), '/')) {
          const std::string key(part);
          if (!cur->is_object() || !cur->contains(key)) {
            bad->push_back(where + ": " + ref);
            cur = nullptr;
            break;
          }
          cur = &(*cur)[key];
        }
      } else {
        CheckRefs(doc, v, where + "/" + k, bad);
      }
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) CheckRefs(doc, j[i], absl::StrCat(where, "/", i), bad);
  }
}

TEST_F(OpenApiTest, TheDocumentHangsTogether) {
  EXPECT_TRUE(absl::StartsWith(doc_.value("openapi", ""), "3.")) << doc_.value("openapi", "");
  EXPECT_TRUE(doc_["info"].contains("title"));
  EXPECT_TRUE(doc_["info"].contains("version"));
  std::vector<std::string> bad;
  CheckRefs(doc_, doc_, "", &bad);
  EXPECT_TRUE(bad.empty()) << "unresolved $refs:\n  " << absl::StrJoin(bad, "\n  ");

  std::set<std::string> operation_ids;
  for (auto& [path, ops] : doc_["paths"].items()) {
    std::set<std::string> path_params;
    for (absl::string_view seg : absl::StrSplit(path, '/')) {
      if (absl::StartsWith(seg, "{")) path_params.insert(std::string(seg.substr(1, seg.size() - 2)));
    }
    for (auto& [method, op] : ops.items()) {
      if (!kMethods.count(method)) continue;
      SCOPED_TRACE(method + " " + path);
      EXPECT_TRUE(op.contains("summary"));
      ASSERT_TRUE(op.contains("responses"));
      EXPECT_FALSE(op["responses"].empty());
      const std::string id = op.value("operationId", "");
      EXPECT_FALSE(id.empty());
      EXPECT_TRUE(operation_ids.insert(id).second) << "duplicate operationId " << id;
      std::set<std::string> declared;
      for (const Json& p : op.value("parameters", Json::array())) {
        if (p.value("in", "") == "path") {
          declared.insert(p.value("name", ""));
          EXPECT_TRUE(p.value("required", false)) << p.dump();
        }
      }
      EXPECT_EQ(declared, path_params);
    }
  }
}

TEST_F(OpenApiTest, TheGatewayServesTheDocument) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/api/openapi.json";
  req.request_id = "rid";
  std::promise<HttpResponse> promise;
  router().Dispatch(std::move(req), [&promise](HttpResponse r) { promise.set_value(std::move(r)); });
  HttpResponse r = promise.get_future().get();
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.Header("Content-Type"), ::testing::HasSubstr("application/json"));
  EXPECT_EQ(r.body, std::string(OpenApiDocument()));
  EXPECT_TRUE(doc_["paths"].contains("/api/openapi.json"));
}

}  // namespace
}  // namespace portunus::gateway
