// The whole auth service (module wiring, gRPC transport, PostgreSQL, the LISTEN/NOTIFY feed and
// both caches) over an in-process channel: what the gateway and the other services see.
#include "services/auth/auth_module.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "portunus/auth/v1/identity.grpc.pb.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/auth/key_directory.h"
#include "services/auth/migrations.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/test_database.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Basic(const std::string& user, const std::string& secret) {
  return "Basic " + absl::Base64Escape(user + ":" + secret);
}

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    pool_ = std::make_unique<PgPool>(PgPool::Options{db_->dsn(), 4});
    ASSERT_TRUE(Migrator(*pool_, "auth", Migrations()).Apply().ok());
    common_.internal_secret = "internal-secret";
    config_.bcrypt_cost = 4;
    config_.lockout_max_attempts = 3;
    config_.delete_enabled = true;
    // One RS256 signing key, as `portunusctl keys generate` leaves it.
    std::string tmpl = (std::filesystem::temp_directory_path() / "portunus-auth-XXXXXX").string();
    keys_root_ = ::mkdtemp(tmpl.data());
    config_.token.keys_dir = keys_root_ + "/keys";
    config_.token.issuer = "portunus";
    config_.token.algorithm = "auto";
    config_.token.kid_format = "libtrust";
    config_.token.lifetime = absl::Minutes(15);
    config_.token.reuse_cache_size = 100;
    config_.token.keys_reload_interval = absl::Seconds(10);
    config_.token.refresh_token_lifetime = absl::Hours(24);
    common_.registry.service = "registry.test";
    absl::StatusOr<GeneratedKeyPem> pem = GenerateSigningKey(
        JwtAlgorithm::kRS256, 2048, absl::Hours(24), "signer", absl::Now());
    ASSERT_TRUE(pem.ok()) << pem.status();
    KeyDirectory keys(config_.token.keys_dir);
    absl::StatusOr<std::string> name = keys.Add(*pem, JwtAlgorithm::kRS256, absl::Now());
    ASSERT_TRUE(name.ok()) << name.status();
    ASSERT_TRUE(keys.SetActive(*name).ok());
    runtime_ = std::make_unique<ServiceRuntime>(
        ServiceRuntime{"auth", common_, pool_.get(), workers_, metrics_, readiness_, RealClock::Get()});
    absl::StatusOr<std::unique_ptr<ServiceModule>> module = CreateModule(*runtime_, config_);
    ASSERT_TRUE(module.ok()) << module.status();
    module_ = std::move(*module);
    grpc::ServerBuilder builder;
    for (grpc::Service* s : module_->GrpcServices()) builder.RegisterService(s);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(module_->Start().ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!module_->NotReadyReason().empty()) {
      ASSERT_LT(absl::Now(), deadline) << module_->NotReadyReason();
      absl::SleepFor(absl::Milliseconds(5));
    }
    readiness_.Set(true, "");
    auto channel = server_->InProcessChannel({});
    access_ = v1::AccessService::NewStub(channel);
    users_ = v1::UserService::NewStub(channel);
    teams_ = v1::TeamService::NewStub(channel);
    namespaces_ = v1::NamespaceService::NewStub(channel);
    tokens_ = v1::TokenService::NewStub(channel);

    // The first admin, then people.
    grpc::ClientContext ctx;
    v1::BootstrapRequest boot;
    boot.mutable_user()->set_username("root");
    boot.mutable_user()->set_email("root@example.com");
    boot.mutable_user()->set_password("rootpassword");
    v1::CreatedApplicationToken token;
    ASSERT_TRUE(users_->Bootstrap(&ctx, boot, &token).ok());
    root_ = "Bearer " + token.plain_token();
    alice_id_ = MakeUser("alice");
    bob_id_ = MakeUser("bob");
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (module_) module_->Stop(absl::Now());
    if (!keys_root_.empty()) std::filesystem::remove_all(keys_root_);
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& authorization) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    return ctx;
  }

  int64_t MakeUser(const std::string& name) {
    v1::CreateUserRequest req;
    req.mutable_user()->set_username(name);
    req.mutable_user()->set_email(name + "@example.com");
    req.mutable_user()->set_password("password-" + name);
    v1::User user;
    grpc::Status s = users_->CreateUser(As(root_).get(), req, &user);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return user.id();
  }

  v1::AuthorizeResponse Authorize(const v1::Principal& p, const std::string& repo,
                                  std::vector<std::string> actions) {
    v1::AuthorizeRequest req;
    *req.mutable_principal() = p;
    v1::Scope* s = req.add_scopes();
    s->set_type("repository");
    s->set_name(repo);
    for (const auto& a : actions) s->add_actions(a);
    v1::AuthorizeResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(access_->Authorize(&ctx, req, &resp).ok());
    return resp;
  }

  v1::Principal Login(const std::string& authorization, grpc::Status* status = nullptr) {
    v1::AuthenticateRequest req;
    v1::AuthenticateResponse resp;
    grpc::Status s = access_->Authenticate(As(authorization).get(), req, &resp);
    if (status != nullptr) *status = s;
    return resp.principal();
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  CommonConfig common_;
  AuthConfig config_;
  WorkerPool workers_{2};
  MetricsServer metrics_;
  Readiness readiness_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<ServiceModule> module_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AccessService::Stub> access_;
  std::unique_ptr<v1::UserService::Stub> users_;
  std::unique_ptr<v1::TeamService::Stub> teams_;
  std::unique_ptr<v1::NamespaceService::Stub> namespaces_;
  std::unique_ptr<v1::TokenService::Stub> tokens_;
  std::string keys_root_;
  std::string root_;
  int64_t alice_id_ = 0, bob_id_ = 0;
};

TEST_F(AuthServiceTest, AuthenticatesFromRequestOrMetadata) {
  grpc::Status s;
  v1::Principal alice = Login(Basic("alice", "password-alice"), &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(alice.kind(), v1::Principal::USER);
  EXPECT_EQ(alice.name(), "alice");
  EXPECT_EQ(alice.user_id(), alice_id_);
  EXPECT_EQ(Login(root_).kind(), v1::Principal::USER);
  EXPECT_TRUE(Login(root_).admin());
  EXPECT_EQ(Login("").kind(), v1::Principal::ANONYMOUS);
  EXPECT_EQ(Login(Basic("portunus", "internal-secret")).kind(), v1::Principal::INTERNAL);
  Login(Basic("alice", "wrong-password"), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "invalid credentials");
  // Credentials in the request win over the metadata.
  v1::AuthenticateRequest req;
  req.mutable_credentials()->mutable_username_secret()->set_username("bob");
  req.mutable_credentials()->mutable_username_secret()->set_secret("password-bob");
  v1::AuthenticateResponse resp;
  ASSERT_TRUE(access_->Authenticate(As(root_).get(), req, &resp).ok());
  EXPECT_EQ(resp.principal().name(), "bob");
}

TEST_F(AuthServiceTest, ChangesReachCachedCredentialsAtOnce) {
  grpc::Status s;
  Login(Basic("alice", "password-alice"), &s);  // now cached
  ASSERT_TRUE(s.ok());
  v1::UpdateUserRequest change;
  change.set_id("alice");
  change.mutable_user()->set_password("another-password");
  change.mutable_user()->set_current_password("password-alice");
  v1::User user;
  ASSERT_TRUE(users_->UpdateUser(As(Basic("alice", "password-alice")).get(), change, &user).ok());
  Login(Basic("alice", "password-alice"), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Login(Basic("alice", "another-password"), &s);
  EXPECT_TRUE(s.ok());
  // Disabling drops it too.
  v1::UpdateUserRequest off;
  off.set_id("alice");
  off.mutable_user()->set_enabled(false);
  ASSERT_TRUE(users_->UpdateUser(As(root_).get(), off, &user).ok());
  Login(Basic("alice", "another-password"), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServiceTest, LocksOutAfterFailedLogins) {
  grpc::Status s;
  Login(Basic("bob", "password-bob"), &s);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 3; ++i) Login(Basic("bob", "nope-nope-nope"), &s);
  Login(Basic("bob", "password-bob"), &s);  // cached entry dropped by the lock
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::User user;
  grpc::ClientContext ctx;
  v1::UserRef ref;
  ref.set_id("bob");
  ASSERT_TRUE(users_->GetUser(As(root_).get(), ref, &user).ok());
  EXPECT_TRUE(user.has_locked_until());
}

TEST_F(AuthServiceTest, AuthorizesFromTheCacheRightAfterChanges) {
  const std::string alice = Basic("alice", "password-alice");
  v1::CreateTeamRequest team;
  team.set_name("devs");
  v1::Team t;
  ASSERT_TRUE(teams_->CreateTeam(As(alice).get(), team, &t).ok());
  EXPECT_EQ(t.role(), "owner");
  v1::AddTeamMemberRequest add;
  add.set_id("devs");
  add.set_user("bob");
  add.set_role("viewer");
  v1::TeamMember member;
  ASSERT_TRUE(teams_->AddTeamMember(As(alice).get(), add, &member).ok());
  EXPECT_EQ(member.role(), "viewer");
  v1::CreateNamespaceRequest ns;
  ns.set_name("acme");
  ns.set_team("devs");
  v1::Namespace created;
  ASSERT_TRUE(namespaces_->CreateNamespace(As(alice).get(), ns, &created).ok());
  EXPECT_EQ(created.visibility(), "private");
  EXPECT_TRUE(created.permissions().push());

  v1::Principal bob = Login(Basic("bob", "password-bob"));
  v1::AuthorizeResponse r = Authorize(bob, "acme/app", {"pull", "push"});
  ASSERT_EQ(r.decisions_size(), 1);
  EXPECT_THAT(r.decisions(0).granted(), ElementsAre("pull"));
  ASSERT_EQ(r.decisions(0).denied_size(), 1);
  EXPECT_EQ(r.decisions(0).denied(0).reason(),
            "bob is a viewer of team devs; pushing to namespace acme needs the contributor or owner role");

  // Promote bob: the very next decision sees it.
  v1::UpdateTeamMemberRequest promote;
  promote.set_id("devs");
  promote.set_member_id("bob");
  promote.set_role("contributor");
  ASSERT_TRUE(teams_->UpdateTeamMember(As(alice).get(), promote, &member).ok());
  r = Authorize(bob, "acme/app", {"*"});
  EXPECT_THAT(r.decisions(0).granted(), ElementsAre("pull", "push"));
  EXPECT_EQ(r.decisions(0).denied(0).action(), "delete");

  v1::Principal anonymous;
  r = Authorize(anonymous, "acme/app", {"pull"});
  EXPECT_EQ(r.decisions(0).denied(0).reason(),
            "namespace acme is private and anonymous users are not members of team devs");

  v1::ListPullableNamespacesRequest pull_req;
  *pull_req.mutable_principal() = bob;
  v1::ListPullableNamespacesResponse pullable;
  grpc::ClientContext ctx;
  ASSERT_TRUE(access_->ListPullableNamespaces(&ctx, pull_req, &pullable).ok());
  EXPECT_THAT(pullable.names(), ElementsAre("acme", "bob"));
  EXPECT_TRUE(pullable.global());
}

TEST_F(AuthServiceTest, ExplainIsForAdmins) {
  v1::ExplainRequest req;
  req.set_account("bob");
  req.add_scope("repository:alice/app:pull repository:bob/app:push");
  req.add_scope("registry:catalog:*");
  v1::ExplainResponse resp;
  ASSERT_TRUE(access_->Explain(As(root_).get(), req, &resp).ok());
  EXPECT_EQ(resp.principal().name(), "bob");
  ASSERT_EQ(resp.decisions_size(), 3);
  EXPECT_EQ(resp.decisions(0).denied(0).reason(), "namespace alice is the private personal namespace of alice");
  EXPECT_THAT(resp.decisions(1).granted(), ElementsAre("push"));
  EXPECT_EQ(resp.decisions(2).denied(0).reason(), "the registry catalog is available to administrators only");

  grpc::Status s = access_->Explain(As(Basic("alice", "password-alice")).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = access_->Explain(As("").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  req.clear_scope();
  req.add_scope("repository:::");
  s = access_->Explain(As(root_).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "scope");
  req.set_account("ghost");
  s = access_->Explain(As(root_).get(), req, &resp);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "account");
}

TEST_F(AuthServiceTest, EnsureNamespaceIsForTheInternalPrincipal) {
  v1::EnsureNamespaceRequest req;
  req.set_name("orphan");
  v1::EnsureNamespaceResponse resp;
  EXPECT_EQ(access_->EnsureNamespace(As(root_).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(access_->EnsureNamespace(As(Basic("portunus", "internal-secret")).get(), req, &resp).ok());
  EXPECT_TRUE(resp.created());
  const int64_t id = resp.namespace_id();
  ASSERT_TRUE(access_->EnsureNamespace(As(Basic("portunus", "internal-secret")).get(), req, &resp).ok());
  EXPECT_FALSE(resp.created());
  EXPECT_EQ(resp.namespace_id(), id);
  // Only admins may use a namespace that nobody owns yet.
  v1::AuthorizeResponse r = Authorize(Login(Basic("bob", "password-bob")), "orphan/app", {"pull"});
  EXPECT_EQ(r.decisions(0).granted_size(), 0);
}

TEST_F(AuthServiceTest, ErrorsNameTheFieldAndTheRule) {
  v1::CreateUserRequest bad;
  bad.mutable_user()->set_username("Robert'); DROP TABLE users;--");
  bad.mutable_user()->set_email("x@example.com");
  bad.mutable_user()->set_password("password1");
  v1::User user;
  grpc::Status s = users_->CreateUser(As(root_).get(), bad, &user);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "user.username");
  v1::ListUsersRequest list;
  v1::ListUsersResponse users;
  EXPECT_EQ(users_->ListUsers(As("").get(), list, &users).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(users_->ListUsers(As(Basic("bob", "password-bob")).get(), list, &users).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  list.mutable_paging()->set_per_page(2);
  ASSERT_TRUE(users_->ListUsers(As(root_).get(), list, &users).ok());
  EXPECT_EQ(users.total(), 3);
  EXPECT_EQ(users.users_size(), 2);
  v1::UserRef root;
  root.set_id("root");
  google::protobuf::Empty empty;
  s = users_->DeleteUser(As(root_).get(), root, &empty);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("last enabled administrator"));
  v1::BootstrapRequest again;
  again.mutable_user()->set_username("eve");
  v1::CreatedApplicationToken token;
  EXPECT_EQ(users_->Bootstrap(As("").get(), again, &token).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthServiceTest, ApplicationTokensEndToEnd) {
  const std::string alice = Basic("alice", "password-alice");
  v1::CreateApplicationTokenRequest req;
  req.set_id("alice");
  req.set_application("laptop");
  v1::CreatedApplicationToken token;
  ASSERT_TRUE(users_->CreateApplicationToken(As(alice).get(), req, &token).ok());
  EXPECT_EQ(Login("Bearer " + token.plain_token()).name(), "alice");
  v1::Principal p;
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("portus-auth", "alice:" + token.plain_token());
    v1::AuthenticateResponse resp;
    ASSERT_TRUE(access_->Authenticate(&ctx, v1::AuthenticateRequest(), &resp).ok());
    EXPECT_EQ(resp.principal().name(), "alice");
  }
  v1::ApplicationTokenRef ref;
  ref.set_id(std::to_string(token.id()));
  google::protobuf::Empty empty;
  EXPECT_EQ(users_->DeleteApplicationToken(As(root_).get(), ref, &empty).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(users_->DeleteApplicationToken(As(alice).get(), ref, &empty).ok());
  grpc::Status s;
  Login("Bearer " + token.plain_token(), &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// The token server wired to the identity model: subject, partial grants, OAuth2 refresh tokens
// that die with the account.
TEST_F(AuthServiceTest, IssuesRegistryTokensFromTheIdentityModel) {
  auto issue = [&](const std::string& authorization, std::vector<std::string> scopes,
                   v1::IssueTokenResponse* resp) {
    v1::IssueTokenRequest req;
    req.set_service("registry.test");
    req.set_account("bob");  // never the subject
    for (auto& s : scopes) req.add_scopes(s);
    return tokens_->IssueToken(As(authorization).get(), req, resp);
  };
  v1::IssueTokenResponse resp;
  grpc::Status s = issue(Basic("alice", "password-alice"),
                         {"repository:alice/app:pull,push repository:bob/app:pull,push"}, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.subject(), "alice");
  EXPECT_EQ(resp.scope(), "repository:alice/app:pull,push");
  EXPECT_GE(resp.expires_in(), 60);
  EXPECT_THAT(resp.token(), HasSubstr("."));

  EXPECT_EQ(issue(Basic("alice", "wrong"), {}, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  s = issue(Basic("alice", "password-alice"), {"repository::pull"}, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("repository::pull"));

  // Anonymous: nothing in a private namespace.
  ASSERT_TRUE(issue("", {"repository:alice/app:pull"}, &resp).ok());
  EXPECT_EQ(resp.subject(), "");
  EXPECT_EQ(resp.granted_size(), 0);

  // OAuth2 password grant with a refresh token; the refresh token dies with the account.
  v1::IssueTokenRequest pw;
  pw.set_grant_type(v1::PASSWORD);
  pw.set_service("registry.test");
  pw.set_client_id("test");
  pw.set_offline_token(true);
  pw.mutable_credentials()->mutable_username_secret()->set_username("alice");
  pw.mutable_credentials()->mutable_username_secret()->set_secret("password-alice");
  pw.add_scopes("repository:alice/app:pull");
  v1::IssueTokenResponse first;
  s = tokens_->IssueToken(As("").get(), pw, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_FALSE(first.refresh_token().empty());
  v1::IssueTokenRequest refresh;
  refresh.set_grant_type(v1::REFRESH_TOKEN);
  refresh.set_service("registry.test");
  refresh.set_client_id("test");
  refresh.set_refresh_token(first.refresh_token());
  refresh.add_scopes("repository:alice/app:push");
  v1::IssueTokenResponse again;
  s = tokens_->IssueToken(As("").get(), refresh, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.subject(), "alice");
  EXPECT_EQ(again.scope(), "repository:alice/app:push");

  v1::UpdateUserRequest off;
  off.set_id("alice");
  off.mutable_user()->set_enabled(false);
  v1::User user;
  ASSERT_TRUE(users_->UpdateUser(As(root_).get(), off, &user).ok());
  EXPECT_EQ(tokens_->IssueToken(As("").get(), refresh, &again).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace portunus::auth
