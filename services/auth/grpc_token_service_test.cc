#include "services/auth/grpc_token_service.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "services/auth/fake_refresh_token_store.h"
#include "services/auth/fake_token_ports.h"
#include "services/auth/fake_token_signer.h"
#include "services/common/metrics.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/worker_pool.h"

namespace portunus::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kAliceBasic[] = "Basic YWxpY2U6c2VjcmV0";
constexpr char kAdminBasic[] = "Basic YWRtaW46cGFzc3dvcmQ=";
const TokenPrincipal kAlice{TokenPrincipal::Kind::kUser, 7, "alice", false};
const TokenPrincipal kAdmin{TokenPrincipal::Kind::kUser, 1, "admin", true};

class GrpcTokenServiceTest : public ::testing::Test {
 protected:
  GrpcTokenServiceTest()
      : runtime_{"auth", common_, nullptr, workers_, metrics_, readiness_, clock_},
        issuer_(TokenIssuer::Options{"portunus-test", "registry.test"}, authenticator_, authorizer_,
                refresh_, signer_, random_, clock_),
        service_(issuer_, authenticator_, runtime_) {
    readiness_.Set(true, "");
    authenticator_.AddAuthorization(kAliceBasic, kAlice);
    authenticator_.AddPassword("alice", "secret", kAlice);
    authenticator_.AddAuthorization(kAdminBasic, kAdmin);
    authorizer_.Grant("alice", "repository", "team/app", {"pull", "push"});
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = v1::TokenService::NewStub(server_->InProcessChannel(grpc::ChannelArguments()));
  }
  ~GrpcTokenServiceTest() override { server_->Shutdown(); }

  grpc::Status Issue(const v1::IssueTokenRequest& request, v1::IssueTokenResponse* response,
                     const std::string& authorization = "") {
    grpc::ClientContext ctx;
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    return stub_->IssueToken(&ctx, request, response);
  }

  std::string Metrics() {
    prometheus::TextSerializer s;
    return s.Serialize(metrics_.registry().Collect());
  }

  CommonConfig common_;
  WorkerPool workers_{2};
  MetricsServer metrics_;
  Readiness readiness_;
  testing::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  ServiceRuntime runtime_;
  FakeTokenAuthenticator authenticator_;
  FakeTokenAuthorizer authorizer_;
  FakeRefreshTokenStore refresh_;
  FakeTokenSigner signer_;
  FakeRandom random_;
  TokenIssuer issuer_;
  GrpcTokenService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::TokenService::Stub> stub_;
};

TEST_F(GrpcTokenServiceTest, IssuesWithCredentialsFromMetadata) {
  v1::IssueTokenRequest request;
  request.set_service("registry.test");
  request.add_scopes("repository:team/app:pull,push,delete");
  request.add_scopes("repository:other/app:pull");
  v1::IssueTokenResponse response;
  grpc::Status s = Issue(request, &response, kAliceBasic);  // not cached: runs on a worker
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.token(), "fake-token-1");
  EXPECT_EQ(response.expires_in(), 900);
  EXPECT_EQ(response.issued_at(), "2023-11-14T22:13:20Z");
  EXPECT_EQ(response.subject(), "alice");
  EXPECT_EQ(response.scope(), "repository:team/app:pull,push");
  ASSERT_EQ(response.granted_size(), 1);
  EXPECT_EQ(response.granted(0).name(), "team/app");
  EXPECT_EQ(authenticator_.slow_calls(), 1);

  authenticator_.MarkCached(kAliceBasic);  // now answered inline, and reused
  v1::IssueTokenResponse again;
  ASSERT_TRUE(Issue(request, &again, kAliceBasic).ok());
  EXPECT_EQ(again.token(), response.token());
  EXPECT_EQ(authenticator_.slow_calls(), 1);
  EXPECT_THAT(Metrics(), HasSubstr("portunus_tokens_issued_total{outcome=\"reused\"} 1"));
  EXPECT_THAT(Metrics(), HasSubstr("portunus_tokens_issued_total{outcome=\"issued\"} 1"));
}

TEST_F(GrpcTokenServiceTest, ExplicitCredentialsWinOverMetadata) {
  v1::IssueTokenRequest request;
  request.mutable_credentials()->set_authorization(kAliceBasic);
  v1::IssueTokenResponse response;
  ASSERT_TRUE(Issue(request, &response, "Basic bm9ib2R5Ong=").ok());
  EXPECT_EQ(response.subject(), "alice");
}

TEST_F(GrpcTokenServiceTest, ErrorsMapToTheirCodes) {
  v1::IssueTokenRequest request;
  request.add_scopes("repository:team/app:pull ::::");
  v1::IssueTokenResponse response;
  grpc::Status s = Issue(request, &response, kAliceBasic);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("invalid scope \"::::\""));

  request.clear_scopes();
  s = Issue(request, &response, "Basic bm9ib2R5Ong=");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid credentials");

  readiness_.Set(false, "database is initializing");
  s = Issue(request, &response, kAliceBasic);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(Metrics(), HasSubstr("portunus_tokens_issued_total{outcome=\"invalid\"} 1"));
  EXPECT_THAT(Metrics(), HasSubstr("portunus_tokens_issued_total{outcome=\"unauthenticated\"} 1"));
}

TEST_F(GrpcTokenServiceTest, PasswordGrantUsesTheFormCredentialsOnly) {
  v1::IssueTokenRequest request;
  request.set_grant_type(v1::PASSWORD);
  request.set_client_id("docker");
  request.set_offline_token(true);
  request.mutable_credentials()->mutable_username_secret()->set_username("alice");
  request.mutable_credentials()->mutable_username_secret()->set_secret("secret");
  v1::IssueTokenResponse response;
  // An Authorization header of another account is ignored for the password grant.
  ASSERT_TRUE(Issue(request, &response, kAdminBasic).ok());
  EXPECT_EQ(response.subject(), "alice");
  EXPECT_THAT(response.refresh_token(), ::testing::StartsWith("prt_"));

  v1::IssueTokenRequest refresh;
  refresh.set_grant_type(v1::REFRESH_TOKEN);
  refresh.set_client_id("docker");
  refresh.set_refresh_token(response.refresh_token());
  refresh.add_scopes("repository:team/app:pull");
  v1::IssueTokenResponse refreshed;
  ASSERT_TRUE(Issue(refresh, &refreshed).ok());
  EXPECT_EQ(refreshed.subject(), "alice");
  EXPECT_EQ(refreshed.scope(), "repository:team/app:pull");
}

TEST_F(GrpcTokenServiceTest, RefreshTokensAreListedAndRevokedByTheirOwnerOrAnAdmin) {
  v1::IssueTokenRequest login;
  login.set_grant_type(v1::PASSWORD);
  login.set_client_id("docker");
  login.set_offline_token(true);
  login.mutable_credentials()->mutable_username_secret()->set_username("alice");
  login.mutable_credentials()->mutable_username_secret()->set_secret("secret");
  v1::IssueTokenResponse response;
  ASSERT_TRUE(Issue(login, &response).ok());

  grpc::ClientContext anon;
  v1::ListRefreshTokensResponse list;
  EXPECT_EQ(stub_->ListRefreshTokens(&anon, {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext as_alice;
  as_alice.AddMetadata("authorization", kAliceBasic);
  ASSERT_TRUE(stub_->ListRefreshTokens(&as_alice, {}, &list).ok());
  ASSERT_EQ(list.refresh_tokens_size(), 1);
  EXPECT_EQ(list.refresh_tokens(0).client_id(), "docker");
  EXPECT_EQ(list.refresh_tokens(0).expires_at(), "2024-02-12T22:13:20Z");

  v1::RevokeRefreshTokensRequest revoke_admins;
  revoke_admins.set_user_id(kAdmin.user_id);
  grpc::ClientContext as_alice2;
  as_alice2.AddMetadata("authorization", kAliceBasic);
  v1::RevokeRefreshTokensResponse revoked;
  EXPECT_EQ(stub_->RevokeRefreshTokens(&as_alice2, revoke_admins, &revoked).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  v1::RevokeRefreshTokensRequest revoke_alices;
  revoke_alices.set_user_id(kAlice.user_id);
  grpc::ClientContext as_admin;
  as_admin.AddMetadata("authorization", kAdminBasic);
  ASSERT_TRUE(stub_->RevokeRefreshTokens(&as_admin, revoke_alices, &revoked).ok());
  EXPECT_EQ(revoked.revoked(), 1);

  v1::IssueTokenRequest refresh;
  refresh.set_grant_type(v1::REFRESH_TOKEN);
  refresh.set_client_id("docker");
  refresh.set_refresh_token(response.refresh_token());
  v1::IssueTokenResponse refused;
  EXPECT_EQ(Issue(refresh, &refused).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace portunus::auth
