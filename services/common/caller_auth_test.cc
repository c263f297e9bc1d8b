#include "services/common/caller_auth.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "services/common/request_context.h"

namespace portunus {
namespace {

namespace av1 = ::portunus::auth::v1;

// The auth service's AccessService.Authenticate as a service sees it: "Basic admin" is the admin
// alice, "Basic bob" the user bob, anything else is refused.
class FakeAccessService final : public av1::AccessService::CallbackService {
 public:
  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* ctx,
                                         const av1::AuthenticateRequest* req,
                                         av1::AuthenticateResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const std::string& authorization = req->credentials().authorization();
    if (authorization == "Basic admin" || authorization == "Basic bob") {
      const bool admin = authorization == "Basic admin";
      resp->mutable_principal()->set_kind(av1::Principal::USER);
      resp->mutable_principal()->set_name(admin ? "alice" : "bob");
      resp->mutable_principal()->set_admin(admin);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong credentials"));
    }
    return reactor;
  }
};

// A port nothing listens on right now (the kernel's pick for :0, released again).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<grpc::Server> StartAuth(FakeAccessService* service, int port) {
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  return bound == port ? std::move(server) : nullptr;
}

// With connect_wait (health): started before auth, callers get kUnavailable (never a wrong
// answer), and once auth listens the very next call works, although gRPC's channel is in its
// reconnect backoff by then. Auth stopping and coming back behaves the same.
TEST(GrpcCallerAuthenticatorTest, WorksOnceAuthAppearsAfterTheCallerStarted) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  GrpcCallerAuthenticator::Options options;
  options.connect_wait = absl::Milliseconds(300);
  GrpcCallerAuthenticator authenticator(MakeChannel(absl::StrCat("127.0.0.1:", port)), options);
  const CallerCredentials admin{"Basic admin", ""};
  // Anonymous callers need no auth service at all.
  ASSERT_TRUE(authenticator.Authenticate({}, absl::Seconds(5), "r0").ok());
  for (int i = 0; i < 4; ++i) {  // failed attempts grow gRPC's reconnect backoff
    absl::StatusOr<Caller> down = authenticator.Authenticate(admin, absl::Seconds(5), "r1");
    ASSERT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
    EXPECT_NE(down.status().message().find("auth service"), absl::string_view::npos);
  }

  FakeAccessService service;
  std::unique_ptr<grpc::Server> auth = StartAuth(&service, port);
  ASSERT_NE(auth, nullptr) << "port " << port << " was taken meanwhile";
  absl::StatusOr<Caller> up = authenticator.Authenticate(admin, absl::Seconds(5), "r2");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(up->admin);
  EXPECT_EQ(up->name, "alice");
  EXPECT_EQ(up->kind, Caller::Kind::kUser);
  EXPECT_TRUE(RequireAdmin(*up, "x").ok());
  absl::StatusOr<Caller> bob = authenticator.Authenticate({"Basic bob", ""}, absl::Seconds(5), "r3");
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(RequireAdmin(*bob, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(authenticator.Authenticate({"Basic nope", ""}, absl::Seconds(5), "r4").status().code(),
            absl::StatusCode::kUnauthenticated);

  // Auth goes away and comes back on the same address.
  auth->Shutdown(std::chrono::system_clock::now());
  auth->Wait();
  auth.reset();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(authenticator.Authenticate(admin, absl::Seconds(5), "r5").status().code(),
              absl::StatusCode::kUnavailable);
  }
  auth = StartAuth(&service, port);
  ASSERT_NE(auth, nullptr) << "port " << port << " was taken meanwhile";
  absl::StatusOr<Caller> back = authenticator.Authenticate(admin, absl::Seconds(5), "r6");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->admin);
  auth->Shutdown(std::chrono::system_clock::now());
}

// Without connect_wait and with the internal secret (scanner): the internal principal needs no
// auth service; anyone else gets kUnavailable while it is unreachable.
TEST(GrpcCallerAuthenticatorTest, InternalSecretIsRecognisedWithoutAskingAuth) {
  GrpcCallerAuthenticator::Options options;
  options.internal_secret = "s3cret";
  // No auth service listens on port 1.
  GrpcCallerAuthenticator auth(MakeChannel("127.0.0.1:1"), options);
  absl::StatusOr<Caller> c =
      auth.Authenticate({"Basic cG9ydHVudXM6czNjcmV0", ""}, absl::Seconds(1), "r");  // portunus:s3cret
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->internal());
  EXPECT_EQ(c->name, "portunus");
  absl::StatusOr<Caller> anon = auth.Authenticate({}, absl::Seconds(1), "r");
  ASSERT_TRUE(anon.ok());
  EXPECT_TRUE(anon->anonymous());
  absl::StatusOr<Caller> bob =
      auth.Authenticate({"Basic Ym9iOng=", ""}, absl::Milliseconds(200), "r");
  EXPECT_EQ(bob.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(bob.status().message().find("cannot check credentials: auth service"),
            absl::string_view::npos)
      << bob.status();
}

TEST(RequireAdminTest, AnonymousUsersAdminsAndInternal) {
  Caller anonymous;
  absl::Status a = RequireAdmin(anonymous, "the cluster status");
  EXPECT_EQ(a.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(a.message(), "the cluster status requires administrator credentials");
  absl::Status s = RequireAdmin(Caller::User("bob"), "the cluster status");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "the cluster status is only for administrators and bob is not one");
  EXPECT_TRUE(RequireAdmin(Caller::User("alice", /*admin=*/true), "x").ok());
  EXPECT_TRUE(RequireAdmin(Caller::Internal(), "x").ok());
  Caller bot{Caller::Kind::kBot, 7, "ci-bot", false};
  EXPECT_EQ(RequireAdmin(bot, "x").code(), absl::StatusCode::kPermissionDenied);
}

TEST(IsInternalCredentialTest, OnlyTheExactSecretAsPortunus) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const auto basic = [](const std::string& user_pass) {
    return "Basic " + absl::Base64Escape(user_pass);
  };
  EXPECT_TRUE(IsInternalCredential(basic("portunus:" + secret), secret));
  EXPECT_TRUE(IsInternalCredential("basic " + absl::Base64Escape("portunus:" + secret), secret));
  EXPECT_FALSE(IsInternalCredential(basic("portunus:" + secret + "x"), secret));
  EXPECT_FALSE(IsInternalCredential(basic("admin:" + secret), secret));
  EXPECT_FALSE(IsInternalCredential(basic("portunus:"), ""));
  EXPECT_FALSE(IsInternalCredential("Bearer " + secret, secret));
  EXPECT_FALSE(IsInternalCredential("Basic !!!notbase64", secret));
  EXPECT_FALSE(IsInternalCredential("", secret));
}

}  // namespace
}  // namespace portunus
