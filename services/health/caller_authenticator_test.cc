#include "services/health/caller_authenticator.h"

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

namespace portunus::health {
namespace {

namespace av1 = ::portunus::auth::v1;

// The auth service's AccessService.Authenticate as health sees it: "Basic admin" is the admin
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

// Health started before auth: callers get kUnavailable (never a wrong answer), and once auth
// listens the very next call works, although gRPC's channel is in its reconnect backoff by then.
// Auth stopping and coming back behaves the same.
TEST(GrpcCallerAuthenticatorTest, WorksOnceAuthAppearsAfterHealthStarted) {
  const int port = UnusedPort();
  ASSERT_NE(port, 0);
  GrpcCallerAuthenticator authenticator(MakeChannel(absl::StrCat("127.0.0.1:", port)),
                                        /*connect_wait=*/absl::Milliseconds(300));
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
  EXPECT_TRUE(RequireAdmin(*up).ok());
  absl::StatusOr<Caller> bob = authenticator.Authenticate({"Basic bob", ""}, absl::Seconds(5), "r3");
  ASSERT_TRUE(bob.ok()) << bob.status();
  EXPECT_EQ(RequireAdmin(*bob).code(), absl::StatusCode::kPermissionDenied);
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

TEST(RequireAdminTest, AnonymousUsersAdminsAndInternal) {
  Caller anonymous;
  EXPECT_EQ(RequireAdmin(anonymous).code(), absl::StatusCode::kUnauthenticated);
  Caller bob{false, false, false, "bob"};
  absl::Status s = RequireAdmin(bob);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "the cluster status is only for administrators and bob is not one");
  EXPECT_TRUE(RequireAdmin(Caller{false, true, false, "alice"}).ok());
  EXPECT_TRUE(RequireAdmin(Caller{false, false, true, "portunus"}).ok());
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
}  // namespace portunus::health
