#include "services/common/registry_token_source.h"

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/testing/fake_clock.h"

namespace portunus {
namespace {

// A TokenService that checks the internal credentials and records the request.
class FakeTokenService final : public auth::v1::TokenService::Service {
 public:
  grpc::Status IssueToken(grpc::ServerContext*, const auth::v1::IssueTokenRequest* req,
                          auth::v1::IssueTokenResponse* resp) override {
    last = *req;
    if (req->credentials().username_secret().username() != "portunus" ||
        req->credentials().username_secret().secret() != "s3cret-s3cret-s3cret-s3cret-s3cret") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid credentials");
    }
    resp->set_token("tok-" + req->service());
    resp->set_expires_in(300);
    return grpc::Status::OK;
  }
  auth::v1::IssueTokenRequest last;
};

TEST(GrpcRegistryTokenSourceTest, AsksAuthAsTheInternalPrincipal) {
  FakeTokenService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  testing::FakeClock clock;
  GrpcRegistryTokenSource source(server->InProcessChannel(grpc::ChannelArguments()),
                                 "s3cret-s3cret-s3cret-s3cret-s3cret", absl::Seconds(5), clock);
  absl::StatusOr<RegistryToken> t =
      source.Fetch("registry.test", {"repository:team/app:pull", "registry:catalog:*"});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "tok-registry.test");
  EXPECT_EQ(t->expires_at, clock.Now() + absl::Seconds(300));
  EXPECT_EQ(service.last.service(), "registry.test");
  EXPECT_THAT(service.last.scopes(),
              ::testing::ElementsAre("repository:team/app:pull", "registry:catalog:*"));

  GrpcRegistryTokenSource wrong(server->InProcessChannel(grpc::ChannelArguments()), "nope",
                                absl::Seconds(5), clock);
  EXPECT_EQ(wrong.Fetch("registry.test", {}).status().code(), absl::StatusCode::kUnauthenticated);
  server->Shutdown();
  // Nobody listens on port 1: the call fails as unavailable (retry later).
  GrpcRegistryTokenSource down(MakeChannel("127.0.0.1:1"), "x", absl::Seconds(2), clock);
  EXPECT_EQ(down.Fetch("registry.test", {}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace portunus
