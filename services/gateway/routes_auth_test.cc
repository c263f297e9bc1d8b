// The identity routes' HTTP mapping against a recording in-process auth backend: which RPC a
// request becomes (path parameters, body, paging), which HTTP answer each outcome becomes, and
// which requests never reach the backend. The rules themselves are tested in services/auth and
// end to end in tests/identity_rest_test.cc.
#include <future>
#include <set>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "portunus/auth/v1/identity.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace v1 = ::portunus::auth::v1;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// Records the last request of each kind; answers from canned data.
class FakeAuth final : public v1::UserService::CallbackService,
                       public v1::TeamService::CallbackService,
                       public v1::NamespaceService::CallbackService,
                       public v1::AccessService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* ctx,
                                      const v1::ListUsersRequest* req,
                                      v1::ListUsersResponse* resp) override {
    Record(ctx, *req);
    for (int i = 0; i < 2; ++i) resp->add_users()->set_username(absl::StrCat("u", i));
    resp->set_total(40);
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* GetUser(grpc::CallbackServerContext* ctx, const v1::UserRef* req,
                                    v1::User* resp) override {
    Record(ctx, *req);
    if (req->id() == "anonymous") {
      return Finish(ctx, ToGrpcStatus(absl::UnauthenticatedError("authentication required")));
    }
    if (req->id() == "ghost") return Finish(ctx, ToGrpcStatus(absl::NotFoundError("no user ghost")));
    if (req->id() == "boom") return Finish(ctx, ToGrpcStatus(absl::InternalError("db exploded")));
    resp->set_id(7);
    resp->set_username(req->id());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* UpdateUser(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateUserRequest* req, v1::User* resp) override {
    Record(ctx, *req);
    resp->set_username(req->id());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* DeleteUser(grpc::CallbackServerContext* ctx, const v1::UserRef* req,
                                       google::protobuf::Empty*) override {
    Record(ctx, *req);
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* CreateUser(grpc::CallbackServerContext* ctx,
                                       const v1::CreateUserRequest* req, v1::User* resp) override {
    Record(ctx, *req);
    if (req->user().username() == "taken") {
      return Finish(ctx, ToGrpcStatus(absl::AlreadyExistsError("user taken already exists")));
    }
    resp->set_username(req->user().username());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* Bootstrap(grpc::CallbackServerContext* ctx,
                                      const v1::BootstrapRequest* req,
                                      v1::CreatedApplicationToken* resp) override {
    Record(ctx, *req);
    resp->set_id(1);
    resp->set_application("portunusctl");
    resp->set_plain_token("secret");
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* UpdateTeam(grpc::CallbackServerContext* ctx,
                                       const v1::UpdateTeamRequest* req, v1::Team* resp) override {
    Record(ctx, *req);
    resp->set_name(req->name());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* UpdateTeamMember(grpc::CallbackServerContext* ctx,
                                             const v1::UpdateTeamMemberRequest* req,
                                             v1::TeamMember* resp) override {
    Record(ctx, *req);
    if (req->role() == "admin") {
      return Finish(ctx, ToGrpcStatus(InvalidFieldError("role", "must be viewer, contributor or owner")));
    }
    resp->set_role(req->role());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* UpdateNamespace(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateNamespaceRequest* req,
                                            v1::Namespace* resp) override {
    Record(ctx, *req);
    resp->set_visibility(req->visibility());
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* ValidateNamespace(grpc::CallbackServerContext* ctx,
                                              const v1::ValidateNamespaceRequest* req,
                                              v1::ValidateNamespaceResponse* resp) override {
    Record(ctx, *req);
    resp->set_valid(true);
    return Finish(ctx, grpc::Status::OK);
  }
  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* ctx,
                                    const v1::ExplainRequest* req,
                                    v1::ExplainResponse* resp) override {
    Record(ctx, *req);
    resp->set_account(req->account());
    return Finish(ctx, grpc::Status::OK);
  }

  // The last request received (as text format) and its authorization metadata; "" when none.
  std::string last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  std::string last_authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  void Record(grpc::CallbackServerContext* ctx, const google::protobuf::Message& m) {
    absl::MutexLock lock(&mu_);
    last_ = absl::StrCat(m.GetDescriptor()->name(), " ", m.ShortDebugString());
    authorization_ = MetadataValue(*ctx, "authorization");
    ++calls_;
  }
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, grpc::Status s) {
    grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
    r->Finish(s);
    return r;
  }

  absl::Mutex mu_;
  std::string last_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class AuthRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(static_cast<v1::UserService::CallbackService*>(&auth_));
    builder.RegisterService(static_cast<v1::TeamService::CallbackService*>(&auth_));
    builder.RegisterService(static_cast<v1::NamespaceService::CallbackService*>(&auth_));
    builder.RegisterService(static_cast<v1::AccessService::CallbackService*>(&auth_));
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    Upstreams::Options o;
    o.auth_address = o.catalog_address = o.scanner_address = o.health_address =
        absl::StrCat("127.0.0.1:", port);
    upstreams_ = std::make_unique<Upstreams>(o);
    router_ = std::make_unique<Router>(RouterOptions{"https://portus.example.com"});
    RegisterAuthRoutes(*router_, *upstreams_);
  }
  void TearDown() override {
    upstreams_->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  HttpResponse Send(std::string method, std::string target, std::string body = "",
                    HttpHeaders headers = {}) {
    HttpRequest req;
    req.method = std::move(method);
    req.SetTarget(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.request_id = "rid-1";
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    std::future<HttpResponse> future = promise->get_future();
    router_->Dispatch(std::move(req), [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "no response";
      return HttpResponse(0);
    }
    return future.get();
  }

  static Json Body(const HttpResponse& r) {
    return Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }

  FakeAuth auth_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Upstreams> upstreams_;
  std::unique_ptr<Router> router_;
};

TEST_F(AuthRoutesTest, EveryRouteOfTheIssueIsRegistered) {
  std::set<std::string> routes;
  for (const auto& r : router_->routes()) routes.insert(r.method + " " + r.pattern);
  for (const char* want : {
           "GET /api/v1/users", "POST /api/v1/users", "POST /api/v1/users/bootstrap",
           "GET /api/v1/users/:id", "PUT /api/v1/users/:id", "DELETE /api/v1/users/:id",
           "GET /api/v1/users/:id/application_tokens", "POST /api/v1/users/:id/application_tokens",
           "DELETE /api/v1/users/application_tokens/:id", "GET /api/v1/teams", "POST /api/v1/teams",
           "GET /api/v1/teams/:id", "PUT /api/v1/teams/:id", "DELETE /api/v1/teams/:id",
           "GET /api/v1/teams/:id/members", "POST /api/v1/teams/:id/members",
           "PUT /api/v1/teams/:id/members/:member_id", "DELETE /api/v1/teams/:id/members/:member_id",
           "GET /api/v1/teams/:id/namespaces", "GET /api/v1/namespaces", "POST /api/v1/namespaces",
           "GET /api/v1/namespaces/validate", "GET /api/v1/namespaces/:id",
           "PUT /api/v1/namespaces/:id", "DELETE /api/v1/namespaces/:id", "GET /api/v1/explain"}) {
    EXPECT_TRUE(routes.count(want)) << want;
  }
}

TEST_F(AuthRoutesTest, ListsPassPagingAndAnswerWithPortusHeaders) {
  HttpResponse r = Send("GET", "/api/v1/users?page=2&per_page=10&sort_attr=username&sort_order=desc",
                        "", {{"authorization", "Bearer tok"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(auth_.last(),
            "ListUsersRequest paging { page: 2 per_page: 10 sort_attr: \"username\" sort_order: "
            "\"desc\" }");
  EXPECT_EQ(auth_.last_authorization(), "Bearer tok");
  Json body = Body(r);
  ASSERT_TRUE(body.is_array()) << r.body;
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body[1]["username"], "u1");
  EXPECT_EQ(r.Header("X-Total"), "40");
  EXPECT_EQ(r.Header("X-Total-Pages"), "4");
  EXPECT_EQ(r.Header("X-Page"), "2");
  EXPECT_THAT(r.Header("Link"),
              HasSubstr("<https://portus.example.com/api/v1/users?page=3&per_page=10&sort_attr="
                        "username&sort_order=desc>; rel=\"next\""));

  // Bad paging never reaches the backend.
  const int calls = auth_.calls();
  HttpResponse bad = Send("GET", "/api/v1/users?per_page=0");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(Body(bad)["field"], "per_page");
  EXPECT_EQ(auth_.calls(), calls);
}

TEST_F(AuthRoutesTest, PathParametersAndBodiesBecomeTheRequest) {
  HttpResponse r = Send("PUT", "/api/v1/users/bob", R"({"user":{"display_name":"Bob"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(auth_.last(), "UpdateUserRequest id: \"bob\" user { display_name: \"Bob\" }");

  // The id comes from the path only.
  HttpResponse id_in_body = Send("PUT", "/api/v1/users/bob", R"({"id":"alice","user":{}})");
  EXPECT_EQ(id_in_body.status, 422);
  EXPECT_EQ(Body(id_in_body)["field"], "id");
  HttpResponse no_user = Send("PUT", "/api/v1/users/bob", R"({})");
  EXPECT_EQ(no_user.status, 422);
  EXPECT_EQ(Body(no_user)["field"], "user");

  r = Send("PUT", "/api/v1/teams/devs/members/carol", R"({"role":"owner"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(auth_.last(),
            "UpdateTeamMemberRequest id: \"devs\" member_id: \"carol\" role: \"owner\"");
  r = Send("PUT", "/api/v1/teams/devs/members/carol", R"({"role":"admin"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["field"], "role");

  // Portus's wrapped forms and the flat ones.
  r = Send("PUT", "/api/v1/teams/7", R"({"team":{"name":"ops"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(auth_.last(), "UpdateTeamRequest id: \"7\" name: \"ops\"");
  r = Send("PUT", "/api/v1/teams/7", R"({"name":"ops2"})");
  EXPECT_EQ(auth_.last(), "UpdateTeamRequest id: \"7\" name: \"ops2\"");
  r = Send("PUT", "/api/v1/namespaces/acme", R"({"namespace":{"visibility":"public"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(auth_.last(), "UpdateNamespaceRequest id: \"acme\" visibility: \"public\"");
  r = Send("PUT", "/api/v1/namespaces/acme", R"({"namespace":{"visibility":1}})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["field"], "namespace.visibility");
  r = Send("PUT", "/api/v1/namespaces/acme", R"({"namespace":{"id":"x"}})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Body(r)["field"], "namespace.id");

  r = Send("GET", "/api/v1/namespaces/validate?name=a%2Fb");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(auth_.last(), "ValidateNamespaceRequest name: \"a/b\"");
  EXPECT_EQ(Body(r)["valid"], true);

  r = Send("GET", "/api/v1/explain?account=bob&scope=repository:a/b:pull&scope=registry:catalog:*");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(auth_.last(),
            "ExplainRequest account: \"bob\" scope: \"repository:a/b:pull\" scope: "
            "\"registry:catalog:*\"");
}

TEST_F(AuthRoutesTest, StatusCodesOfPortus) {
  HttpResponse created = Send("POST", "/api/v1/users",
                              R"({"user":{"username":"eve","email":"e@x.io","password":"12345678"}})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["username"], "eve");
  HttpResponse dup = Send("POST", "/api/v1/users", R"({"user":{"username":"taken"}})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Body(dup)["message"], "user taken already exists");
  HttpResponse boot = Send("POST", "/api/v1/users/bootstrap",
                           R"({"user":{"username":"admin","email":"a@x.io","password":"12345678"}})");
  EXPECT_EQ(boot.status, 201);
  EXPECT_EQ(Body(boot), Json::parse(R"({"id":1,"application":"portunusctl","plain_token":"secret"})"));
  EXPECT_EQ(Send("DELETE", "/api/v1/users/bob").status, 204);

  HttpResponse anon = Send("GET", "/api/v1/users/anonymous");
  EXPECT_EQ(anon.status, 401);
  EXPECT_EQ(anon.Header("WWW-Authenticate"), "Basic realm=\"Portunus\"");
  EXPECT_EQ(Send("GET", "/api/v1/users/ghost").status, 404);
  HttpResponse boom = Send("GET", "/api/v1/users/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_THAT(boom.body, ::testing::Not(HasSubstr("exploded")));
}

TEST_F(AuthRoutesTest, BadInputIsNamedAndNeverReachesTheBackend) {
  const int calls = auth_.calls();
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    const char* field;
  } cases[] = {
      {"GET", "/api/v1/users/%FF", "", "id"},
      {"DELETE", "/api/v1/teams/devs/members/%C3%28", "", "member_id"},
      {"GET", "/api/v1/namespaces/validate?name=%ED%A0%80", "", "name"},
      {"GET", "/api/v1/namespaces/validate", "", "name"},
      {"GET", "/api/v1/explain?account=bob", "", "scope"},
      {"GET", "/api/v1/explain?account=%FF&scope=repository:a:pull", "", "account"},
      {"POST", "/api/v1/users", R"({"user":{"username":"x","nope":1}})", "user.nope"},
      {"POST", "/api/v1/users", R"({"user":{"admin":"yes"}})", "user.admin"},
      {"POST", "/api/v1/users", "{\"user\":{\"username\":\"\xff\"}}", "user.username"},
      {"POST", "/api/v1/users", R"({})", "user"},
      {"POST", "/api/v1/teams/devs/members", R"({"user":"bob","role":"owner","id":"x"})", "id"},
      {"POST", "/api/v1/namespaces", R"({"name":["a"]})", "name"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Send(c.method, c.target, c.body);
    EXPECT_EQ(r.status, 422) << c.target << " " << r.body;
    EXPECT_EQ(Body(r)["field"], c.field) << c.target << " " << r.body;
  }
  HttpResponse long_id = Send("GET", "/api/v1/users/" + std::string(2000, 'a'));
  EXPECT_EQ(long_id.status, 422);
  HttpResponse not_json = Send("POST", "/api/v1/teams", "{name:");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(auth_.calls(), calls);
}

}  // namespace
}  // namespace portunus::gateway
