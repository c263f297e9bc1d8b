#include "services/gateway/router.h"

#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::gateway {
namespace {

using ::testing::HasSubstr;

// A handler that records which route ran and with which parameters.
RouteHandler Tag(std::string tag, std::string* ran, PathParams* params = nullptr) {
  return [tag, ran, params](HttpRequest&&, PathParams p, HttpResponder respond) {
    *ran = tag;
    if (params != nullptr) *params = p;
    respond(HttpResponse(200, "text/plain", tag));
  };
}

HttpResponse Dispatch(const Router& router, std::string method, std::string path) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.request_id = "rid";
  std::optional<HttpResponse> out;
  router.Dispatch(std::move(req), [&out](HttpResponse r) { out = std::move(r); });
  EXPECT_TRUE(out.has_value());
  return out.value_or(HttpResponse(0));
}

TEST(RouterTest, MatchesLiteralsAndDecodedParameters) {
  Router router;
  std::string ran;
  PathParams params;
  router.Add("GET", "/api/v1/users/:id/application_tokens", Tag("tokens", &ran, &params));
  router.Add("GET", "/api/v1/users/:id", Tag("user", &ran, &params));

  EXPECT_EQ(Dispatch(router, "GET", "/api/v1/users/42/application_tokens").status, 200);
  EXPECT_EQ(ran, "tokens");
  EXPECT_EQ(params.Get("id"), "42");

  EXPECT_EQ(Dispatch(router, "GET", "/api/v1/users/jo%20hn%2Fx").status, 200);
  EXPECT_EQ(ran, "user");
  EXPECT_EQ(params.Get("id"), "jo hn/x");  // %2F stays inside the segment
  EXPECT_FALSE(params.Has("other"));

  // Empty segments and a trailing slash do not matter.
  EXPECT_EQ(Dispatch(router, "GET", "//api/v1//users/7/").status, 200);
  EXPECT_EQ(params.Get("id"), "7");

  Router::Match m = router.Find("GET", "/api/v1/users/9");
  EXPECT_EQ(m.status, 0);
  EXPECT_EQ(m.pattern, "/api/v1/users/:id");
  EXPECT_EQ(router.routes()[static_cast<size_t>(m.route_id)].pattern, "/api/v1/users/:id");
}

TEST(RouterTest, LiteralsWinOverParametersAndFallBackByMethod) {
  Router router;
  std::string ran;
  PathParams params;
  router.Add("GET", "/api/v1/teams/:id", Tag("team", &ran, &params));
  router.Add("GET", "/api/v1/teams/members", Tag("members", &ran));
  router.Add("DELETE", "/api/v1/teams/:id", Tag("delete", &ran, &params));

  Dispatch(router, "GET", "/api/v1/teams/members");
  EXPECT_EQ(ran, "members");
  Dispatch(router, "GET", "/api/v1/teams/5");
  EXPECT_EQ(ran, "team");
  // The literal path has no DELETE, the parameter route has: it runs.
  EXPECT_EQ(Dispatch(router, "DELETE", "/api/v1/teams/members").status, 200);
  EXPECT_EQ(ran, "delete");
  EXPECT_EQ(params.Get("id"), "members");
}

TEST(RouterTest, WildcardMatchesOneOrMoreSegments) {
  Router router;
  std::string ran;
  PathParams params;
  router.Add("GET", "/api/v1/repositories/by_name/*name", Tag("repo", &ran, &params));
  EXPECT_EQ(Dispatch(router, "GET", "/api/v1/repositories/by_name/team/app/x").status, 200);
  EXPECT_EQ(params.Get("name"), "team/app/x");
  EXPECT_EQ(Dispatch(router, "GET", "/api/v1/repositories/by_name").status, 404);
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  std::string ran;
  router.Add("GET", "/api/v1/users", Tag("list", &ran));
  router.Add("POST", "/api/v1/users", Tag("create", &ran));

  HttpResponse nf = Dispatch(router, "GET", "/api/v1/nope");
  EXPECT_EQ(nf.status, 404);
  EXPECT_THAT(nf.body, HasSubstr("\"message\":\"not found: GET /api/v1/nope\""));
  EXPECT_THAT(nf.body, HasSubstr("\"request_id\":\"rid\""));

  HttpResponse na = Dispatch(router, "PUT", "/api/v1/users");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.Header("Allow"), "GET, HEAD, OPTIONS, POST");
  EXPECT_THAT(na.body, HasSubstr("method PUT is not allowed"));
  EXPECT_EQ(router.Find("PUT", "/api/v1/users").pattern, "/api/v1/users");

  HttpResponse options = Dispatch(router, "OPTIONS", "/api/v1/users");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.Header("Allow"), "GET, HEAD, OPTIONS, POST");

  // HEAD runs the GET handler.
  EXPECT_EQ(Dispatch(router, "HEAD", "/api/v1/users").status, 200);
  EXPECT_EQ(ran, "list");

  EXPECT_EQ(Dispatch(router, "GET", "/api/v1/us%zzers").status, 400);
}

TEST(RouterTest, RejectsBadPatternsAndDuplicates) {
  Router router;
  auto h = [](HttpRequest&&, PathParams, HttpResponder r) { r(HttpResponse(200)); };
  EXPECT_TRUE(router.TryAdd("GET", "/a/:id", h).ok());
  EXPECT_EQ(router.TryAdd("GET", "/a/:other", h).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(router.TryAdd("get", "/b", h).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.TryAdd("GET", "b", h).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.TryAdd("GET", "/b/:", h).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.TryAdd("GET", "/b/:x/:x", h).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.TryAdd("GET", "/b/*rest/more", h).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.TryAdd("GET", "/c", nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(router.routes().size(), 1u);
}

TEST(RouterDeathTest, AddAbortsOnAProgrammingError) {
  Router router;
  auto h = [](HttpRequest&&, PathParams, HttpResponder r) { r(HttpResponse(200)); };
  router.Add("GET", "/x", h);
  EXPECT_DEATH(router.Add("GET", "/x", h), "invalid route");
}

}  // namespace
}  // namespace portunus::gateway
