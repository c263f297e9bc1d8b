// The token endpoint's HTTP translation (routes_token.cc), against an in-memory TokenService on
// a real gRPC port: what reaches the auth service, and what the client sees for every answer.
// The decisions themselves are tested in services/auth and end to end in tests/.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/worker_pool.h"
#include "services/gateway/gateway_module.h"

namespace portunus::gateway {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace v1 = ::portunus::auth::v1;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Response = http::response<http::string_body>;

const std::string kAliceBasic = "Basic " + absl::Base64Escape("alice:secret");

// Answers like the auth service would for one known account ("alice", password "secret",
// refresh token "prt_good"): malformed scopes (containing "::") are INVALID_ARGUMENT, anything
// else unknown UNAUTHENTICATED. Records the last request.
class FakeTokenService final : public v1::TokenService::Service {
 public:
  grpc::Status IssueToken(grpc::ServerContext*, const v1::IssueTokenRequest* req,
                          v1::IssueTokenResponse* resp) override {
    {
      absl::MutexLock lock(&mu_);
      last_ = *req;
    }
    if (!unavailable_.empty()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, unavailable_);
    for (const std::string& s : req->scopes()) {
      if (s.find("::") != std::string::npos) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "malformed scope \"" + s + "\": the name is empty");
      }
    }
    std::string subject;
    const v1::Credentials& c = req->credentials();
    if (req->grant_type() == v1::REFRESH_TOKEN) {
      if (req->refresh_token() != "prt_good") {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid refresh token");
      }
      subject = "alice";
    } else if (c.has_username_secret()) {
      if (c.username_secret().username() != "alice" || c.username_secret().secret() != "secret") {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid credentials");
      }
      subject = "alice";
    } else if (c.has_authorization()) {
      if (c.authorization() != kAliceBasic) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid credentials");
      }
      subject = "alice";
    }
    resp->set_token("header.claims-for-" + subject + ".signature");
    resp->set_expires_in(900);
    resp->set_issued_at("2026-11-23T01:00:00Z");
    resp->set_subject(subject);
    resp->set_scope("repository:alice/app:pull");
    if (req->offline_token() && !subject.empty()) resp->set_refresh_token("prt_new");
    return grpc::Status::OK;
  }

  v1::IssueTokenRequest last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  std::string unavailable_;

 private:
  absl::Mutex mu_;
  v1::IssueTokenRequest last_ ABSL_GUARDED_BY(mu_);
};

EnvLookup Env(std::map<std::string, std::string> vars) {
  vars.emplace("PORTUNUS_INTERNAL_SECRET", std::string(40, 's'));
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class TokenRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int auth_port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &auth_port);
    builder.RegisterService(&backend_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ConfigBinder binder;
    BindCommonConfig(&binder, &common_);
    BindGatewayConfig(&binder, &config_);
    ASSERT_TRUE(binder
                    .Load("", Env({{"PORTUNUS_GATEWAY_LISTEN", "127.0.0.1:0"},
                                   {"PORTUNUS_GATEWAY_ACCESS_LOG", "false"},
                                   {"PORTUNUS_AUTH_ADDRESS", absl::StrCat("127.0.0.1:", auth_port)}}))
                    .ok());
    runtime_ = std::make_unique<ServiceRuntime>(
        ServiceRuntime{"gateway", common_, nullptr, workers_, metrics_, readiness_, clock_});
    module_ = std::make_unique<GatewayModule>(*runtime_, config_);
    ASSERT_TRUE(module_->Start().ok());
  }
  void TearDown() override {
    if (module_) module_->Stop(absl::Now());
    if (server_) server_->Shutdown();
  }

  Response Request(const std::string& raw) {
    net::io_context ioc;
    net::ip::tcp::socket socket(ioc);
    socket.connect({net::ip::make_address("127.0.0.1"),
                    static_cast<unsigned short>(module_->http_port())});
    net::write(socket, net::buffer(raw));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 20);
    http::read(socket, buffer, parser);
    return parser.release();
  }
  Response Get(const std::string& target, const std::string& authorization = "") {
    std::string raw = absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n");
    if (!authorization.empty()) absl::StrAppend(&raw, "Authorization: ", authorization, "\r\n");
    return Request(raw + "\r\n");
  }
  Response Post(const std::string& target, const std::string& form,
                const std::string& content_type = "application/x-www-form-urlencoded") {
    return Request(absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: x\r\nContent-Type: ",
                                content_type, "\r\nContent-Length: ", form.size(), "\r\n\r\n",
                                form));
  }

  FakeTokenService backend_;
  std::unique_ptr<grpc::Server> server_;
  CommonConfig common_;
  GatewayConfig config_;
  WorkerPool workers_{1};
  MetricsServer metrics_;
  Readiness readiness_;
  testing::FakeClock clock_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<GatewayModule> module_;
};

TEST_F(TokenRoutesTest, GetForwardsEveryParameterAndAnswersTheSpecShape) {
  for (const std::string path : {"/v2/token", "/auth/token"}) {
    Response r = Get(path +
                         "?account=mallory&service=registry.test"
                         "&scope=repository:alice/app:pull,push"
                         "&scope=repository:a/b:pull%20registry:catalog:*"
                         "&offline_token=true&client_id=docker",
                     kAliceBasic);
    EXPECT_EQ(r.result_int(), 200) << r.body();
    EXPECT_EQ(r.body(),
              "{\"token\":\"header.claims-for-alice.signature\",\"access_token\":"
              "\"header.claims-for-alice.signature\",\"expires_in\":900,\"issued_at\":"
              "\"2026-11-23T01:00:00Z\",\"refresh_token\":\"prt_new\"}");
    EXPECT_EQ(r[http::field::cache_control], "no-store");
    EXPECT_THAT(std::string(r[http::field::content_type]), HasSubstr("application/json"));
    const v1::IssueTokenRequest sent = backend_.last();
    EXPECT_EQ(sent.credentials().authorization(), kAliceBasic);
    EXPECT_EQ(sent.service(), "registry.test");
    EXPECT_THAT(sent.scopes(), ElementsAre("repository:alice/app:pull,push",
                                           "repository:a/b:pull registry:catalog:*"));
    EXPECT_EQ(sent.account(), "mallory");  // forwarded for the log; never the subject
    EXPECT_EQ(sent.client_id(), "docker");
    EXPECT_TRUE(sent.offline_token());
    EXPECT_EQ(sent.grant_type(), v1::GRANT_TYPE_UNSPECIFIED);
  }
  // Anonymous: no credentials at all.
  Response anon = Get("/v2/token?service=registry.test&scope=repository:pub/app:pull");
  EXPECT_EQ(anon.result_int(), 200);
  EXPECT_FALSE(backend_.last().has_credentials());
}

TEST_F(TokenRoutesTest, RefusalsAre401WithABasicChallengeAndNoDetail) {
  Response r = Get("/v2/token?service=registry.test&account=alice",
                   "Basic " + absl::Base64Escape("alice:wrong"));
  EXPECT_EQ(r.result_int(), 401);
  EXPECT_THAT(std::string(r[http::field::www_authenticate]), HasSubstr("Basic realm="));
  EXPECT_THAT(r.body(), HasSubstr("\"message\":\"invalid credentials\""));
  EXPECT_THAT(r.body(), Not(HasSubstr("password")));

  Response bad_scope = Get("/v2/token?scope=repository::pull", kAliceBasic);
  EXPECT_EQ(bad_scope.result_int(), 400);
  EXPECT_THAT(bad_scope.body(), HasSubstr("malformed scope"));
  EXPECT_THAT(bad_scope.body(), HasSubstr("repository::pull"));

  backend_.unavailable_ = "no signing key";
  EXPECT_EQ(Get("/v2/token", kAliceBasic).result_int(), 503);
}

TEST_F(TokenRoutesTest, OAuthPasswordAndRefreshGrants) {
  Response r = Post("/v2/token",
                    "grant_type=password&username=alice&password=secret&service=registry.test"
                    "&client_id=cli&access_type=offline&scope=repository%3Aalice%2Fapp%3Apull"
                    "+repository%3Aa%2Fb%3Apush");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  EXPECT_THAT(r.body(), HasSubstr("\"refresh_token\":\"prt_new\""));
  EXPECT_THAT(r.body(), HasSubstr("\"scope\":\"repository:alice/app:pull\""));
  v1::IssueTokenRequest sent = backend_.last();
  EXPECT_EQ(sent.grant_type(), v1::PASSWORD);
  EXPECT_EQ(sent.credentials().username_secret().username(), "alice");
  EXPECT_EQ(sent.client_id(), "cli");
  EXPECT_TRUE(sent.offline_token());
  EXPECT_THAT(sent.scopes(), ElementsAre("repository:alice/app:pull repository:a/b:push"));

  Response refreshed = Post("/auth/token", "grant_type=refresh_token&refresh_token=prt_good"
                                           "&service=registry.test&client_id=cli");
  EXPECT_EQ(refreshed.result_int(), 200) << refreshed.body();
  EXPECT_EQ(backend_.last().refresh_token(), "prt_good");

  Response revoked = Post("/v2/token", "grant_type=refresh_token&refresh_token=prt_gone"
                                       "&service=registry.test&client_id=cli");
  EXPECT_EQ(revoked.result_int(), 401);
  EXPECT_THAT(revoked.body(), HasSubstr("\"error\":\"invalid_grant\""));
  EXPECT_THAT(std::string(revoked[http::field::www_authenticate]), HasSubstr("Basic"));

  Response wrong = Post("/v2/token", "grant_type=password&username=alice&password=nope");
  EXPECT_EQ(wrong.result_int(), 401);

  Response unsupported = Post("/v2/token", "grant_type=client_credentials");
  EXPECT_EQ(unsupported.result_int(), 400);
  EXPECT_THAT(unsupported.body(), HasSubstr("unsupported_grant_type"));
  Response missing = Post("/v2/token", "");
  EXPECT_EQ(missing.result_int(), 400);
  EXPECT_THAT(missing.body(), HasSubstr("grant_type is required"));
  Response json = Post("/v2/token", "{\"grant_type\":\"password\"}", "application/json");
  EXPECT_EQ(json.result_int(), 400);
  EXPECT_THAT(json.body(), HasSubstr("application/x-www-form-urlencoded"));
}

// Hostile Authorization headers and parameters: never a 500, never a token for someone.
TEST_F(TokenRoutesTest, HostileInputNever500s) {
  const std::vector<std::string> headers = {
      "Basic", "Basic ", "Basic ====", "Basic " + absl::Base64Escape("::::"),
      "Basic " + absl::Base64Escape(std::string("al\0ice:x", 8)),
      "Basic " + absl::Base64Escape("\xff\xfe:\xc3\x28"), "Basic \xc3\xa9t\xc3\xa9",
      "Bearer", "Digest x", std::string(8000, 'A'), "basic " + absl::Base64Escape("alice:secret2"),
      "Basic " + absl::Base64Escape(std::string(3000, ':'))};
  for (const std::string& h : headers) {
    Response r = Get("/v2/token?service=registry.test&scope=repository:alice/app:pull", h);
    EXPECT_EQ(r.result_int(), 401) << absl::CEscape(h.substr(0, 60));
    EXPECT_THAT(r.body(), HasSubstr("invalid credentials"));
  }
  // Parameters that cannot reach a proto string are named.
  Response r = Get("/v2/token?scope=repository:%ff%fe:pull", kAliceBasic);
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_THAT(r.body(), HasSubstr("scope"));
  r = Get("/v2/token?service=" + std::string(5000, 'x'), kAliceBasic);
  EXPECT_EQ(r.result_int(), 400);

  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 60, '\0');
    for (char& c : junk) c = static_cast<char>(0x21 + rng() % 94);  // printable, no spaces
    Response fuzz = Get("/v2/token?scope=" + junk + "&service=" + junk,
                        "Basic " + absl::Base64Escape(junk));
    EXPECT_NE(fuzz.result_int(), 500) << junk;
    EXPECT_LT(fuzz.result_int(), 500) << junk;
  }
}

}  // namespace
}  // namespace portunus::gateway
