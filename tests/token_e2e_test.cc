// Issue 4 end to end: the real registry (docker-registry 2.8) trusts Portunus tokens, and every
// push, pull, tag listing and delete by a real client (skopeo) is decided by the identity model.
//
//   - the access matrix: owner, contributor, viewer, non-member, admin, bot with an application
//     token, disabled user, locked user and anonymous, across private, protected and public team
//     namespaces and personal namespaces, under each of the three push policies (one stack per
//     policy; the pull/list/delete part, which the push policy does not change, runs once);
//   - `skopeo login`; the catalog is for admins only; a cross-repository blob mount;
//   - `portunusctl keys generate` + bundle + `keys rotate` while Portunus keeps running;
//   - a token with a tampered signature or an expired `exp` is refused by the registry;
//   - the token endpoint's own answers (401 + Basic challenge, 400 for malformed scopes, an
//     unknown service warned about in the log, `sub` never the client's `account`).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/auth/v1/identity.grpc.pb.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

namespace v1 = ::portunus::auth::v1;
using ::testing::HasSubstr;

// The principals of the matrix, in the order of the expectation strings below.
enum Who { kOwner, kContributor, kViewer, kOutsider, kAdmin, kBot, kDisabled, kLocked, kAnonymous };
constexpr int kWhoCount = 9;
const char* const kWhoNames[kWhoCount] = {"owner",  "contributor", "viewer",   "outsider", "admin",
                                          "ci-bot", "disabled",    "locked", "anonymous"};

std::string Basic(const std::string& user, const std::string& secret) {
  return "Basic " + absl::Base64Escape(user + ":" + secret);
}

// The claims (or header) of a JWT, decoded without verifying it.
nlohmann::json JwtPart(const std::string& jwt, int part) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  if (parts.size() != 3) return nullptr;
  std::string json;
  if (!absl::WebSafeBase64Unescape(parts[part], &json)) return nullptr;
  return nlohmann::json::parse(json, nullptr, false);
}

// A running stack (PostgreSQL database, every service, the registry) with the matrix's accounts,
// team and namespaces.
class World {
 public:
  static absl::StatusOr<std::unique_ptr<World>> Create(std::unique_ptr<testing::TestDatabase> db,
                                                       const std::string& push_policy) {
    auto w = std::unique_ptr<World>(new World());
    w->db_ = std::move(db);
    Stack::Options options;
    options.db_dsn = w->db_->dsn();
    options.config = {{"user_permission.push_images.policy", push_policy},
                      {"delete.enabled", "true"},
                      {"auth.bcrypt_cost", "4"},
                      {"auth.lockout.max_attempts", "3"}};
    absl::StatusOr<std::unique_ptr<Stack>> stack = Stack::Create(options);
    if (!stack.ok()) return stack.status();
    w->stack_ = std::move(*stack);
    absl::StatusOr<std::unique_ptr<RegistryServer>> registry =
        RegistryServer::Start(w->stack_->RegistryOptions());
    if (!registry.ok()) return registry.status();
    w->registry_ = std::move(*registry);
    if (absl::Status s = w->stack_->Start(); !s.ok()) return s;
    w->channel_ = grpc::CreateChannel(w->stack_->grpc_address("auth"),
                                      grpc::InsecureChannelCredentials());
    if (absl::Status s = w->Populate(); !s.ok()) return s;
    return w;
  }

  Stack& stack() { return *stack_; }
  RegistryServer& registry() { return *registry_; }
  const std::string& image() const { return image_.layout; }

  std::string Password(Who who) const { return "password-" + std::string(kWhoNames[who]); }
  std::optional<Credentials> Creds(Who who) const {
    if (who == kAnonymous) return std::nullopt;
    if (who == kBot) return Credentials{kWhoNames[kBot], bot_token_};
    return Credentials{kWhoNames[who], Password(who)};
  }
  std::string Ref(const std::string& repo) const {
    return "docker://" + registry_->host_port() + "/" + repo;
  }
  // An image with unique content, as OCI layout reference.
  absl::StatusOr<OciImage> UniqueImage(const std::string& tag) {
    return OciImageBuilder().File("unique.txt", tag).Build(dir_.Sub("images"), tag);
  }
  absl::StatusOr<OciImage> Image() const { return image_; }

  // GET <gateway>/v2/token?query as `authorization` ("" for anonymous).
  absl::StatusOr<HttpResponse> Token(const std::string& query, const std::string& authorization) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    return HttpGet(stack_->gateway_url() + "/v2/token?" + query, std::move(headers));
  }
  // The token string of a successful token request, or "" (with a test failure).
  std::string TokenFor(const std::string& scope_query, const std::string& authorization) {
    absl::StatusOr<HttpResponse> r =
        Token("service=registry.local&" + scope_query, authorization);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("token")) return "";
    return j["token"].get<std::string>();
  }

 private:
  World() : dir_("token-e2e") {}

  std::unique_ptr<grpc::ClientContext> As(const std::string& authorization) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    return ctx;
  }
  static absl::Status Check(const grpc::Status& s, const std::string& what) {
    if (s.ok()) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(what, ": ", s.error_message()));
  }

  absl::Status Populate() {
    auto users = v1::UserService::NewStub(channel_);
    auto teams = v1::TeamService::NewStub(channel_);
    auto namespaces = v1::NamespaceService::NewStub(channel_);
    const std::string admin = Basic("admin", Password(kAdmin));
    {
      v1::BootstrapRequest req;
      req.mutable_user()->set_username("admin");
      req.mutable_user()->set_email("admin@example.com");
      req.mutable_user()->set_password(Password(kAdmin));
      v1::CreatedApplicationToken resp;
      if (auto s = Check(users->Bootstrap(As("").get(), req, &resp), "bootstrap"); !s.ok()) return s;
    }
    for (Who who : {kOwner, kContributor, kViewer, kOutsider, kDisabled, kLocked, kBot}) {
      v1::CreateUserRequest req;
      req.mutable_user()->set_username(kWhoNames[who]);
      if (who == kBot) {
        req.mutable_user()->set_bot(true);
      } else {
        req.mutable_user()->set_email(absl::StrCat(kWhoNames[who], "@example.com"));
        req.mutable_user()->set_password(Password(who));
      }
      v1::User user;
      if (auto s = Check(users->CreateUser(As(admin).get(), req, &user), kWhoNames[who]); !s.ok()) {
        return s;
      }
    }
    {
      v1::CreateApplicationTokenRequest req;
      req.set_id(kWhoNames[kBot]);
      req.set_application("ci");
      v1::CreatedApplicationToken resp;
      if (auto s = Check(users->CreateApplicationToken(As(admin).get(), req, &resp), "bot token");
          !s.ok()) {
        return s;
      }
      bot_token_ = resp.plain_token();
    }
    const std::string owner = Basic("owner", Password(kOwner));
    {
      v1::CreateTeamRequest req;
      req.set_name("dev");
      v1::Team team;
      if (auto s = Check(teams->CreateTeam(As(owner).get(), req, &team), "team"); !s.ok()) return s;
    }
    const std::pair<Who, const char*> members[] = {{kContributor, "contributor"},
                                                   {kViewer, "viewer"},
                                                   {kBot, "contributor"},
                                                   {kDisabled, "contributor"},
                                                   {kLocked, "contributor"}};
    for (const auto& [who, role] : members) {
      v1::AddTeamMemberRequest req;
      req.set_id("dev");
      req.set_user(kWhoNames[who]);
      req.set_role(role);
      v1::TeamMember m;
      if (auto s = Check(teams->AddTeamMember(As(owner).get(), req, &m), kWhoNames[who]); !s.ok()) {
        return s;
      }
    }
    for (const char* visibility : {"private", "protected", "public"}) {
      v1::CreateNamespaceRequest req;
      req.set_name(absl::StrCat("dev-", visibility));
      req.set_team("dev");
      req.set_visibility(visibility);
      v1::Namespace ns;
      if (auto s = Check(namespaces->CreateNamespace(As(owner).get(), req, &ns), req.name());
          !s.ok()) {
        return s;
      }
    }
    {
      v1::UpdateUserRequest req;
      req.set_id("disabled");
      req.mutable_user()->set_enabled(false);
      v1::User user;
      if (auto s = Check(users->UpdateUser(As(admin).get(), req, &user), "disable"); !s.ok()) return s;
    }
    // Three failed logins lock the account (auth.lockout.max_attempts).
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<HttpResponse> r = Token("service=registry.local", Basic("locked", "wrong!"));
      if (!r.ok()) return r.status();
      if (r->status != 401) return absl::InternalError("a wrong password was not refused");
    }
    absl::StatusOr<OciImage> img = OciImageBuilder()
                                       .File("etc/motd", "portunus token e2e\n")
                                       .Build(dir_.Sub("base"), "v1");
    if (!img.ok()) return img.status();
    image_ = *img;
    // Something to pull in every team namespace.
    Skopeo skopeo;
    for (const char* ns : {"dev-private", "dev-protected", "dev-public"}) {
      Skopeo::CopyOptions o;
      o.dest_creds = Credentials{"admin", Password(kAdmin)};
      absl::StatusOr<CommandResult> r = skopeo.Copy(image_.ref(), Ref(absl::StrCat(ns, "/app:base")), o);
      if (!r.ok()) return r.status();
      if (!r->ok()) return absl::InternalError("admin push failed: " + r->Describe());
    }
    return absl::OkStatus();
  }

  TempDir dir_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<RegistryServer> registry_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string bot_token_;
  OciImage image_;
};


// A denied operation fails the way the registry (or the token endpoint) refuses it.
void ExpectRefused(const CommandResult& r, const std::string& what) {
  const std::string err = absl::AsciiStrToLower(r.err + r.out);
  EXPECT_TRUE(absl::StrContains(err, "denied") || absl::StrContains(err, "unauthorized") ||
              absl::StrContains(err, "authentication required"))
      << what << " failed, but not with the registry's refusal: " << r.Describe();
}

void ExpectOutcome(const absl::StatusOr<CommandResult>& r, bool allowed, const std::string& what) {
  ASSERT_TRUE(r.ok()) << what << ": " << r.status();
  if (allowed) {
    EXPECT_TRUE(r->ok()) << what << " should be allowed: " << r->Describe();
  } else {
    EXPECT_FALSE(r->ok()) << what << " should be refused";
    if (!r->ok()) ExpectRefused(*r, what);
  }
}

// Expectation strings: one character per principal in enum order (owner contributor viewer
// outsider admin bot disabled locked anonymous); Y allowed, N refused, - not applicable.
struct PolicyCase {
  const char* policy;
  const char* team_push;      // into dev-private, dev-protected and dev-public alike
  const char* personal_push;  // into one's own personal namespace (bots have none)
};
void PrintTo(const PolicyCase& c, std::ostream* os) { *os << c.policy; }
const PolicyCase kPolicies[] = {
    {"allow-teams", "YYNNYYNNN", "YYYYYNNN-"},
    {"allow-personal", "NNNNYNNNN", "YYYYYNNN-"},
    {"admin-only", "NNNNYNNNN", "NNNNYNNN-"},
};
// Pull and tag listing per visibility; delete (delete.enabled, not delete.contributors).
const std::pair<const char*, const char*> kPull[] = {
    {"dev-private", "YYYNYYNNN"}, {"dev-protected", "YYYYYYNNN"}, {"dev-public", "YYYYYYNNY"}};
constexpr char kDelete[] = "YNNNYNNNN";

class TokenMatrixTest : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(TokenMatrixTest, EveryOutcomeMatchesThePolicy) {
  const PolicyCase& pc = GetParam();
  PORTUNUS_TEST_DATABASE(db);
  HARNESS_ASSIGN_OR_FAIL(std::unique_ptr<World> w, World::Create(std::move(db), pc.policy));
  HARNESS_ASSIGN_OR_FAIL(OciImage image, w->Image());

  for (int i = 0; i < kWhoCount; ++i) {
    const Who who = static_cast<Who>(i);
    Skopeo skopeo;  // each principal with its own blob cache: no mounts from others' pushes
    Skopeo::CopyOptions push;
    push.dest_creds = w->Creds(who);
    for (const char* ns : {"dev-private", "dev-protected", "dev-public"}) {
      const std::string repo = absl::StrCat(ns, "/by-", kWhoNames[who], ":v1");
      ExpectOutcome(skopeo.Copy(image.ref(), w->Ref(repo), push), pc.team_push[i] == 'Y',
                    absl::StrCat(pc.policy, ": ", kWhoNames[who], " pushes ", repo));
    }
    if (pc.personal_push[i] != '-') {
      const std::string repo = absl::StrCat(kWhoNames[who], "/mine:v1");
      ExpectOutcome(skopeo.Copy(image.ref(), w->Ref(repo), push), pc.personal_push[i] == 'Y',
                    absl::StrCat(pc.policy, ": ", kWhoNames[who], " pushes ", repo));
    }
  }
  if (std::string(pc.policy) != "allow-teams") return;  // the rest does not depend on it

  TempDir pulled("pulled");
  for (int i = 0; i < kWhoCount; ++i) {
    const Who who = static_cast<Who>(i);
    Skopeo skopeo;
    for (const auto& [ns, expect] : kPull) {
      const std::string repo = absl::StrCat(ns, "/app");
      Skopeo::CopyOptions pull;
      pull.src_creds = w->Creds(who);
      ExpectOutcome(skopeo.Copy(w->Ref(repo + ":base"),
                                absl::StrCat("oci:", pulled.Sub(absl::StrCat(kWhoNames[who], ns)),
                                             ":base"),
                                pull),
                    expect[i] == 'Y', absl::StrCat(kWhoNames[who], " pulls ", repo));
      ExpectOutcome(skopeo.ListTags(w->Ref(repo), w->Creds(who)), expect[i] == 'Y',
                    absl::StrCat(kWhoNames[who], " lists the tags of ", repo));
    }
  }

  // Deletes: each on its own manifest (a delete removes every tag of the digest).
  Skopeo admin;
  for (int i = 0; i < kWhoCount; ++i) {
    const Who who = static_cast<Who>(i);
    Skopeo skopeo;
    for (const auto& [ns, unused] : kPull) {
      const std::string tag = absl::StrCat(kWhoNames[who], "-", ns);
      HARNESS_ASSIGN_OR_FAIL(OciImage victim, w->UniqueImage(tag));
      Skopeo::CopyOptions o;
      o.dest_creds = w->Creds(kAdmin);
      const std::string ref = w->Ref(absl::StrCat(ns, "/victim:", tag));
      HARNESS_ASSIGN_OR_FAIL(CommandResult pushed, admin.Copy(victim.ref(), ref, o));
      ASSERT_TRUE(pushed.ok()) << pushed.Describe();
      ExpectOutcome(skopeo.Delete(ref, w->Creds(who)), kDelete[i] == 'Y',
                    absl::StrCat(kWhoNames[who], " deletes ", ref));
      HARNESS_ASSIGN_OR_FAIL(CommandResult still, admin.Inspect(ref, w->Creds(kAdmin)));
      EXPECT_EQ(still.ok(), kDelete[i] != 'Y') << ref << ": " << still.Describe();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PushPolicies, TokenMatrixTest, ::testing::ValuesIn(kPolicies),
                         [](const ::testing::TestParamInfo<PolicyCase>& info) {
                           std::string name = info.param.policy;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

class TokenE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    auto w = World::Create(std::move(db), "allow-teams");
    ASSERT_TRUE(w.ok()) << w.status();
    w_ = std::move(*w);
  }
  std::unique_ptr<World> w_;
};

TEST_F(TokenE2eTest, LoginCatalogAndCrossRepositoryMount) {
  World& w = *w_;
  // skopeo login stores working credentials; a wrong password is refused.
  Skopeo skopeo;
  HARNESS_ASSIGN_OR_FAIL(CommandResult login,
                         skopeo.Login(w.registry().host_port(), *w.Creds(kOwner)));
  EXPECT_TRUE(login.ok()) << login.Describe();
  HARNESS_ASSIGN_OR_FAIL(CommandResult tags, skopeo.ListTags(w.Ref("dev-private/app"), std::nullopt));
  EXPECT_TRUE(tags.ok()) << tags.Describe();
  EXPECT_THAT(tags.out, HasSubstr("base"));
  Skopeo other;
  HARNESS_ASSIGN_OR_FAIL(CommandResult bad,
                         other.Login(w.registry().host_port(), Credentials{"owner", "nope"}));
  EXPECT_FALSE(bad.ok());

  // The catalog: admins only.
  for (const auto& [who, expect] : std::vector<std::pair<Who, long>>{
           {kAdmin, 200}, {kOwner, 401}, {kBot, 401}, {kAnonymous, 401}}) {
    std::string authorization;
    if (who != kAnonymous) authorization = Basic(w.Creds(who)->user, w.Creds(who)->password);
    const std::string token = w.TokenFor("scope=registry:catalog:*", authorization);
    HARNESS_ASSIGN_OR_FAIL(HttpResponse r, HttpGet(w.registry().url() + "/v2/_catalog",
                                                   {{"Authorization", "Bearer " + token}}));
    EXPECT_EQ(r.status, expect) << kWhoNames[who] << ": " << r.body;
    if (expect == 200) {
      EXPECT_THAT(r.body, HasSubstr("dev-private/app"));
    }
  }

  // Cross-repository blob mount: the owner mounts a layer of dev-private/app into
  // dev-public/copy (201 Created, no upload); a non-member cannot take it out of private.
  HARNESS_ASSIGN_OR_FAIL(OciImage image, w.Image());
  const std::string layer = image.manifests[0]["layers"][0]["digest"].get<std::string>();
  const std::string mount_url = absl::StrCat(w.registry().url(), "/v2/dev-public/copy/blobs/uploads/?mount=",
                                             layer, "&from=dev-private/app");
  const std::string scopes = "scope=repository:dev-public/copy:pull,push&scope=repository:dev-private/app:pull";
  std::string token = w.TokenFor(scopes, Basic("owner", w.Password(kOwner)));
  HttpRequest mount;
  mount.method = "POST";
  mount.url = mount_url;
  mount.headers = {{"Authorization", "Bearer " + token}};
  HARNESS_ASSIGN_OR_FAIL(HttpResponse mounted, Http(mount));
  EXPECT_EQ(mounted.status, 201) << mounted.body;
  EXPECT_EQ(mounted.Header("Docker-Content-Digest"), layer);
  token = w.TokenFor(scopes, Basic("outsider", w.Password(kOutsider)));
  EXPECT_EQ(JwtPart(token, 1)["access"].size(), 1u) << "only dev-public/copy pull";
  mount.headers = {{"Authorization", "Bearer " + token}};
  HARNESS_ASSIGN_OR_FAIL(HttpResponse refused, Http(mount));
  EXPECT_NE(refused.status, 201) << refused.body;
}

TEST_F(TokenE2eTest, TheTokenEndpointAnswersPerSpec) {
  World& w = *w_;
  // sub is the authenticated principal, never `account`; a partial grant is a 200.
  HARNESS_ASSIGN_OR_FAIL(
      HttpResponse r,
      w.Token("service=registry.local&account=admin&scope=repository:dev-private/app:pull,push,delete",
              Basic("viewer", w.Password(kViewer))));
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["token"], body["access_token"]);
  EXPECT_GE(body["expires_in"].get<int>(), 60);
  EXPECT_TRUE(body.contains("issued_at"));
  nlohmann::json claims = JwtPart(body["token"], 1);
  EXPECT_EQ(claims["sub"], "viewer");
  EXPECT_EQ(claims["aud"], "registry.local");
  EXPECT_EQ(claims["iss"], "portunus");
  EXPECT_EQ(claims["access"], nlohmann::json::parse(
                                  R"([{"type":"repository","name":"dev-private/app","actions":["pull"]}])"));
  nlohmann::json header = JwtPart(body["token"], 0);
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(header["kid"].get<std::string>().size(), 59u);  // libtrust: 12 groups of 4
  EXPECT_TRUE(header.contains("x5c"));

  // Bad credentials, disabled, locked: the same 401 with a Basic challenge.
  for (const std::string& auth : {Basic("viewer", "wrong"), Basic("disabled", w.Password(kDisabled)),
                                  Basic("locked", w.Password(kLocked)), Basic("nobody", "x")}) {
    HARNESS_ASSIGN_OR_FAIL(HttpResponse refused, w.Token("service=registry.local", auth));
    EXPECT_EQ(refused.status, 401) << auth;
    EXPECT_THAT(refused.Header("WWW-Authenticate"), HasSubstr("Basic realm="));
    EXPECT_THAT(refused.body, HasSubstr("\"message\":\"invalid credentials\""));
  }
  // Malformed scope: 400 naming it.
  HARNESS_ASSIGN_OR_FAIL(HttpResponse malformed,
                         w.Token("service=registry.local&scope=repository:dev-private/app",
                                 Basic("viewer", w.Password(kViewer))));
  EXPECT_EQ(malformed.status, 400);
  EXPECT_THAT(malformed.body, HasSubstr("repository:dev-private/app"));
  // Hostile Basic headers: never a 500.
  for (const std::string& auth :
       {std::string("Basic"), std::string("Basic ::::"), "Basic " + absl::Base64Escape("::::"),
        "Basic " + absl::Base64Escape(std::string("a\0b:c", 5)), "Basic " + std::string(6000, '=')}) {
    HARNESS_ASSIGN_OR_FAIL(HttpResponse hostile, w.Token("service=registry.local", auth));
    EXPECT_EQ(hostile.status, 401) << auth.substr(0, 40);
  }
  // An unknown service: 200, no access, and a warning naming the configured service.
  HARNESS_ASSIGN_OR_FAIL(HttpResponse unknown,
                         w.Token("service=registry.example&scope=repository:dev-public/app:pull",
                                 Basic("viewer", w.Password(kViewer))));
  ASSERT_EQ(unknown.status, 200);
  EXPECT_TRUE(JwtPart(nlohmann::json::parse(unknown.body)["token"], 1)["access"].empty());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string log;
  while (absl::Now() < deadline) {
    log = w.stack().process("auth")->ReadLog();
    if (absl::StrContains(log, "registry.example")) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_THAT(log, HasSubstr("registry.example"));
  EXPECT_THAT(log, HasSubstr("registry.local"));

  // OAuth2: password grant with a refresh token, then the refresh grant.
  HttpRequest post;
  post.method = "POST";
  post.url = w.stack().gateway_url() + "/v2/token";
  post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  post.body = absl::StrCat("grant_type=password&username=owner&password=", w.Password(kOwner),
                           "&service=registry.local&client_id=e2e&access_type=offline"
                           "&scope=repository%3Adev-private%2Fapp%3Apull");
  HARNESS_ASSIGN_OR_FAIL(HttpResponse oauth, Http(post));
  ASSERT_EQ(oauth.status, 200) << oauth.body;
  nlohmann::json granted = nlohmann::json::parse(oauth.body);
  EXPECT_EQ(granted["scope"], "repository:dev-private/app:pull");
  const std::string refresh = granted["refresh_token"];
  post.body = "grant_type=refresh_token&service=registry.local&client_id=e2e&refresh_token=" + refresh +
              "&scope=repository%3Adev-private%2Fapp%3Apull%2Cpush";
  HARNESS_ASSIGN_OR_FAIL(HttpResponse refreshed, Http(post));
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const std::string token = nlohmann::json::parse(refreshed.body)["access_token"];
  // The refreshed token works at the registry.
  HARNESS_ASSIGN_OR_FAIL(HttpResponse listed, HttpGet(w.registry().url() + "/v2/dev-private/app/tags/list",
                                                      {{"Authorization", "Bearer " + token}}));
  EXPECT_EQ(listed.status, 200) << listed.body;
}

TEST_F(TokenE2eTest, TamperedAndExpiredTokensAreRefusedByTheRegistry) {
  World& w = *w_;
  const std::string url = w.registry().url() + "/v2/dev-public/app/tags/list";
  const std::string token =
      w.TokenFor("scope=repository:dev-public/app:pull", Basic("viewer", w.Password(kViewer)));
  HARNESS_ASSIGN_OR_FAIL(HttpResponse ok, HttpGet(url, {{"Authorization", "Bearer " + token}}));
  EXPECT_EQ(ok.status, 200) << ok.body;

  // One byte of the signature changed.
  std::string tampered = token;
  char& c = tampered[tampered.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  HARNESS_ASSIGN_OR_FAIL(HttpResponse bad, HttpGet(url, {{"Authorization", "Bearer " + tampered}}));
  EXPECT_EQ(bad.status, 401);
  EXPECT_THAT(bad.Header("WWW-Authenticate"), HasSubstr("invalid_token"));
  // Claims changed (more access), signature kept.
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  nlohmann::json claims = JwtPart(token, 1);
  claims["access"][0]["actions"] = {"pull", "push", "delete"};
  std::string forged = parts[0] + "." + absl::WebSafeBase64Escape(claims.dump()) + "." + parts[2];
  HARNESS_ASSIGN_OR_FAIL(HttpResponse bad2, HttpGet(url, {{"Authorization", "Bearer " + forged}}));
  EXPECT_EQ(bad2.status, 401);

  // The same claims re-signed with the real key (the registry's own check of exp, not ours):
  // valid exp accepted, exp beyond the registry's 60 s leeway refused.
  HARNESS_ASSIGN_OR_FAIL(CommandResult active,
                         RunCommand("cat", {w.stack().keys_dir() + "/active"}));
  const std::string key_path =
      absl::StrCat(w.stack().keys_dir(), "/", absl::StripAsciiWhitespace(active.out), ".key");
  const nlohmann::json header = JwtPart(token, 0);
  auto sign = [&](int64_t exp_offset) -> std::string {
    const std::string script = R"PY(
import json, sys, time, jwt
header, claims, key, off = json.loads(sys.argv[1]), json.loads(sys.argv[2]), open(sys.argv[3]).read(), int(sys.argv[4])
now = int(time.time())
claims["exp"] = now + off; claims["nbf"] = now - 300; claims["iat"] = now - 300
print(jwt.encode(claims, key, algorithm=header["alg"], headers={"kid": header["kid"]}))
)PY";
    absl::StatusOr<CommandResult> r = RunCommand(
        "/usr/bin/python3", {"-c", script, header.dump(), JwtPart(token, 1).dump(), key_path,
                             absl::StrCat(exp_offset)});
    EXPECT_TRUE(r.ok() && r->ok()) << (r.ok() ? r->Describe() : r.status().ToString());
    return r.ok() ? std::string(absl::StripAsciiWhitespace(r->out)) : "";
  };
  HARNESS_ASSIGN_OR_FAIL(HttpResponse fresh, HttpGet(url, {{"Authorization", "Bearer " + sign(300)}}));
  EXPECT_EQ(fresh.status, 200) << fresh.body;
  HARNESS_ASSIGN_OR_FAIL(HttpResponse expired, HttpGet(url, {{"Authorization", "Bearer " + sign(-120)}}));
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_THAT(expired.Header("WWW-Authenticate"), HasSubstr("invalid_token"));
}

TEST_F(TokenE2eTest, KeysRotateWithoutRestartingPortunus) {
  World& w = *w_;
  Skopeo skopeo;
  Skopeo::CopyOptions push;
  push.dest_creds = w.Creds(kOwner);
  HARNESS_ASSIGN_OR_FAIL(OciImage image, w.Image());
  const auto kid = [&] {
    return JwtPart(w.TokenFor("scope=repository:dev-private/rotate:pull,push&account=x",
                              Basic("owner", w.Password(kOwner))),
                   0)["kid"]
        .get<std::string>();
  };
  const std::string old_kid = kid();
  const std::string old_token = w.TokenFor("scope=repository:dev-public/app:pull",
                                           Basic("viewer", w.Password(kViewer)));
  const pid_t auth_pid = w.stack().process("auth")->pid();

  // Stage a new key, give the registry both certificates, then rotate.
  HARNESS_ASSIGN_OR_FAIL(CommandResult generated,
                         RunCommand(BinaryPath("portunusctl"),
                                    {"keys", "generate", "--dir", w.stack().keys_dir()}));
  ASSERT_TRUE(generated.ok()) << generated.Describe();
  EXPECT_THAT(generated.out, HasSubstr("staged"));
  HARNESS_ASSERT_OK(w.stack().WriteBundle());
  HARNESS_ASSIGN_OR_FAIL(CommandResult bundle, RunCommand("cat", {w.stack().bundle_path()}));
  std::vector<std::string> certs = absl::StrSplit(bundle.out, "BEGIN CERTIFICATE");
  EXPECT_EQ(certs.size(), 3u) << "both certificates in the bundle";
  HARNESS_ASSERT_OK(w.registry().Restart());
  HARNESS_ASSIGN_OR_FAIL(CommandResult before, skopeo.Copy(image.ref(), w.Ref("dev-private/rotate:before"), push));
  EXPECT_TRUE(before.ok()) << before.Describe();

  HARNESS_ASSIGN_OR_FAIL(CommandResult rotated,
                         RunCommand(BinaryPath("portunusctl"),
                                    {"keys", "rotate", "--dir", w.stack().keys_dir()}));
  ASSERT_TRUE(rotated.ok()) << rotated.Describe();
  // The auth service re-reads the key directory by itself (auth.token.keys_reload_interval).
  std::string new_kid = old_kid;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (new_kid == old_kid && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
    new_kid = kid();
  }
  ASSERT_NE(new_kid, old_kid) << "the auth service never picked up the rotated key";
  EXPECT_EQ(w.stack().process("auth")->pid(), auth_pid);
  EXPECT_TRUE(w.stack().process("auth")->IsRunning());

  HARNESS_ASSIGN_OR_FAIL(CommandResult after, skopeo.Copy(image.ref(), w.Ref("dev-private/rotate:after"), push));
  EXPECT_TRUE(after.ok()) << after.Describe();
  // A token signed before the rotation still verifies (its key stays in the bundle).
  HARNESS_ASSIGN_OR_FAIL(HttpResponse old, HttpGet(w.registry().url() + "/v2/dev-public/app/tags/list",
                                                   {{"Authorization", "Bearer " + old_token}}));
  EXPECT_EQ(old.status, 200) << old.body;
}

}  // namespace
}  // namespace portunus::harness
