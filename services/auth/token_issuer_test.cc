#include "services/auth/token_issuer.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/fake_refresh_token_store.h"
#include "services/auth/fake_token_ports.h"
#include "services/auth/fake_token_signer.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

constexpr char kAliceBasic[] = "Basic YWxpY2U6c2VjcmV0";  // alice:secret
constexpr char kBobBasic[] = "Basic Ym9iOmh1bnRlcjI=";    // bob:hunter2

const TokenPrincipal kAlice{TokenPrincipal::Kind::kUser, 7, "alice", false};
const TokenPrincipal kBob{TokenPrincipal::Kind::kUser, 8, "bob", false};

class TokenIssuerTest : public ::testing::Test {
 protected:
  TokenIssuerTest() {
    authenticator_.AddAuthorization(kAliceBasic, kAlice);
    authenticator_.AddPassword("alice", "secret", kAlice);
    authenticator_.AddAuthorization(kBobBasic, kBob);
    authorizer_.Grant("alice", "repository", "team/app", {"pull", "push"});
    authorizer_.Grant("alice", "repository", "team/lib", {"pull"});
    authorizer_.Grant("", "repository", "public/app", {"pull"});
  }

  TokenIssuer& issuer() {
    if (!issuer_) {
      issuer_ = std::make_unique<TokenIssuer>(options_, authenticator_, authorizer_, refresh_,
                                              signer_, random_, clock_);
    }
    return *issuer_;
  }

  static TokenRequest Get(const std::string& authorization, std::vector<std::string> scopes) {
    TokenRequest r;
    r.credentials.authorization = authorization;
    r.service = "registry.test";
    r.scopes = std::move(scopes);
    return r;
  }

  TokenIssuer::Options options_{"portunus-test", "registry.test"};
  FakeTokenAuthenticator authenticator_;
  FakeTokenAuthorizer authorizer_;
  FakeRefreshTokenStore refresh_;
  FakeTokenSigner signer_;
  FakeRandom random_;
  testing::FakeClock clock_;
  std::unique_ptr<TokenIssuer> issuer_;
};

TEST_F(TokenIssuerTest, GrantsOnlyWhatThePrincipalMayAndSignsTheSpecClaims) {
  TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull,push,delete",
                                     "repository:team/lib:pull,push repository:other/x:pull"});
  r.account = "mallory";  // client-supplied: never the subject
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "fake-token-1");
  EXPECT_EQ(t->subject, "alice");
  EXPECT_EQ(t->expires_in, 900);
  EXPECT_EQ(t->issued_at, clock_.Now());
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull", "push"}},
                                      ResourceScope{"repository", "team/lib", {"pull"}}));
  const TokenClaims c = signer_.last_claims();
  EXPECT_EQ(c.issuer, "portunus-test");
  EXPECT_EQ(c.subject, "alice");
  EXPECT_EQ(c.audience, "registry.test");
  EXPECT_EQ(c.issued_at, clock_.Now());
  EXPECT_EQ(c.not_before, clock_.Now() - absl::Seconds(10));
  EXPECT_EQ(c.expires_at, clock_.Now() + absl::Minutes(15));
  EXPECT_THAT(c.jwt_id, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(c.access, t->granted);
}

TEST_F(TokenIssuerTest, NeverGrantsMoreThanAskedEvenWhenThePolicyOffersMore) {
  authorizer_.Grant("alice", "repository", "team/app", {"pull", "push", "delete", "*"});
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get(kAliceBasic, {"repository:team/app:pull"}));
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull"}}));
  t = issuer().Issue(Get(kAliceBasic, {"repository:team/app:*"}));
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted,
              ElementsAre(ResourceScope{"repository", "team/app", {"pull", "push", "delete", "*"}}));
  authorizer_.Grant("alice", "repository", "team/app", {"pull", "push"});
  t = issuer().Issue(Get(kAliceBasic, {"repository:team/app:*"}));
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull", "push"}}));
}

TEST_F(TokenIssuerTest, MergesScopesBeforeAsking) {
  absl::StatusOr<IssuedToken> t = issuer().Issue(
      Get(kAliceBasic, {"repository:team/app:pull", "repository(plugin):team/app:push"}));
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull", "push"}}));
}

TEST_F(TokenIssuerTest, LoginWithoutScopesGetsAnEmptyToken) {
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get(kAliceBasic, {}));
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted, IsEmpty());
  EXPECT_EQ(authorizer_.calls(), 0);
}

TEST_F(TokenIssuerTest, AnonymousTokensHaveNoSubject) {
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get("", {"repository:public/app:pull,push"}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->subject, "");
  EXPECT_EQ(signer_.last_claims().subject, "");
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "public/app", {"pull"}}));
}

TEST_F(TokenIssuerTest, MalformedScopeIsRefusedBeforeCheckingCredentials) {
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get(kAliceBasic, {"repository:Team/App:pull"}));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("repository:Team/App:pull"));
  EXPECT_EQ(authenticator_.slow_calls(), 0);
  EXPECT_EQ(signer_.sign_count(), 0u);
}

TEST_F(TokenIssuerTest, BadCredentialsAreUnauthenticated) {
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get("Basic bm9ib2R5Ong=", {"repository:a:pull"}));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  authenticator_.Disable(kAlice.user_id);
  EXPECT_EQ(issuer().Issue(Get(kAliceBasic, {})).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer_.sign_count(), 0u);
}

TEST_F(TokenIssuerTest, UnknownServiceGetsATokenThatGrantsNothing) {
  TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull"});
  r.service = "registry.other";
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  ASSERT_TRUE(t.ok());
  EXPECT_THAT(t->granted, IsEmpty());
  EXPECT_EQ(signer_.last_claims().audience, "registry.other");
  EXPECT_EQ(authorizer_.calls(), 0);
}

TEST_F(TokenIssuerTest, EmptyServiceMeansTheConfiguredOne) {
  TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull"});
  r.service.clear();
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(signer_.last_claims().audience, "registry.test");
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull"}}));
}

TEST_F(TokenIssuerTest, OutagesAreSurfacedNotTurnedIntoDenials) {
  authenticator_.FailNextCall(absl::UnavailableError("database down"));
  EXPECT_EQ(issuer().Issue(Get(kAliceBasic, {})).status().code(), absl::StatusCode::kUnavailable);
  authorizer_.FailNextCall(absl::UnavailableError("facts not loaded"));
  EXPECT_EQ(issuer().Issue(Get(kAliceBasic, {"repository:team/app:pull"})).status().code(),
            absl::StatusCode::kUnavailable);
  signer_.FailNextCall(absl::UnavailableError("no signing key"));
  EXPECT_EQ(issuer().Issue(Get(kAliceBasic, {"repository:team/app:pull"})).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(TokenIssuerTest, LifetimeIsConfigurableButNeverUnderSixtySeconds) {
  options_.lifetime = absl::Seconds(5);
  absl::StatusOr<IssuedToken> t = issuer().Issue(Get(kAliceBasic, {}));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->expires_in, 60);
}

TEST_F(TokenIssuerTest, IdenticalRequestsGetTheSameTokenWhileMostOfItsLifetimeRemains) {
  const TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull"});
  absl::StatusOr<IssuedToken> first = issuer().Issue(r);
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Minutes(7));
  absl::StatusOr<IssuedToken> again = issuer().Issue(r);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->token, first->token);
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->issued_at, first->issued_at);
  EXPECT_EQ(again->expires_in, 8 * 60);
  EXPECT_EQ(signer_.sign_count(), 1u);

  // Another principal, another scope: other tokens.
  EXPECT_NE(issuer().Issue(Get(kAliceBasic, {"repository:team/lib:pull"}))->token, first->token);
  EXPECT_NE(issuer().Issue(Get(kBobBasic, {"repository:team/app:pull"}))->token, first->token);

  // Past half of the lifetime: a fresh token.
  clock_.Advance(absl::Seconds(31));
  absl::StatusOr<IssuedToken> later = issuer().Issue(r);
  ASSERT_TRUE(later.ok());
  EXPECT_NE(later->token, first->token);
  EXPECT_FALSE(later->reused);
  EXPECT_EQ(later->expires_in, 900);
}

TEST_F(TokenIssuerTest, ReuseStopsWhenPermissionsChange) {
  const TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull,push"});
  absl::StatusOr<IssuedToken> first = issuer().Issue(r);
  ASSERT_TRUE(first.ok());
  authorizer_.Grant("someone", "repository", "x/y", {"pull"});  // any change moves the generation
  absl::StatusOr<IssuedToken> second = issuer().Issue(r);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->token, first->token);
  EXPECT_EQ(issuer().Issue(r)->token, second->token);
  issuer().ForgetUser(kAlice.user_id);
  EXPECT_NE(issuer().Issue(r)->token, second->token);
}

TEST_F(TokenIssuerTest, ReuseCanBeTurnedOff) {
  options_.reuse = false;
  const TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull"});
  EXPECT_NE(issuer().Issue(r)->token, issuer().Issue(r)->token);
  EXPECT_EQ(signer_.sign_count(), 2u);
}

TEST_F(TokenIssuerTest, AnswersWithoutBlockingOnlyWhenNothingNeedsIo) {
  const TokenRequest r = Get(kAliceBasic, {"repository:team/app:pull"});
  EXPECT_FALSE(issuer().TryIssueWithoutBlocking(r).has_value());  // credentials not cached
  authenticator_.MarkCached(kAliceBasic);
  std::optional<absl::StatusOr<IssuedToken>> fast = issuer().TryIssueWithoutBlocking(r);
  ASSERT_TRUE(fast.has_value());
  ASSERT_TRUE(fast->ok());
  EXPECT_THAT((*fast)->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull"}}));
  EXPECT_EQ(authenticator_.slow_calls(), 0);

  // Anonymous and malformed requests need no I/O either.
  EXPECT_TRUE(issuer().TryIssueWithoutBlocking(Get("", {"repository:public/app:pull"})).has_value());
  std::optional<absl::StatusOr<IssuedToken>> bad = issuer().TryIssueWithoutBlocking(Get("", {"::::"}));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status().code(), absl::StatusCode::kInvalidArgument);

  // A refresh token to store, or a policy that reads the database: a worker's job.
  TokenRequest offline = r;
  offline.offline_token = true;
  EXPECT_FALSE(issuer().TryIssueWithoutBlocking(offline).has_value());
  authorizer_.set_blocking(true);
  EXPECT_FALSE(issuer().TryIssueWithoutBlocking(Get(kAliceBasic, {"repository:team/lib:pull"})).has_value());
  EXPECT_TRUE(issuer().Issue(Get(kAliceBasic, {"repository:team/lib:pull"})).ok());
}

TEST_F(TokenIssuerTest, PasswordGrantWithOfflineAccessReturnsAHashedStoredRefreshToken) {
  TokenRequest r;
  r.grant = GrantType::kPassword;
  r.credentials.username = "alice";
  r.credentials.secret = "secret";
  r.client_id = "docker";
  r.service = "registry.test";
  r.offline_token = true;
  r.scopes = {"repository:team/app:pull"};
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->refresh_token, MatchesRegex("prt_[A-Za-z0-9_-]{43}"));
  ASSERT_EQ(refresh_.size(), 1u);
  EXPECT_EQ(refresh_.digests()[0], Sha256(t->refresh_token));
  absl::StatusOr<std::vector<RefreshTokenRecord>> list = issuer().ListRefreshTokens(kAlice.user_id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].service, "registry.test");
  EXPECT_EQ((*list)[0].client_id, "docker");
  EXPECT_EQ((*list)[0].expires_at, clock_.Now() + absl::Hours(24 * 90));

  // Without access_type=offline: no refresh token.
  r.offline_token = false;
  t = issuer().Issue(r);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->refresh_token, "");
  EXPECT_EQ(refresh_.size(), 1u);

  // Wrong password: refused like any bad credentials.
  r.credentials.secret = "wrong";
  EXPECT_EQ(issuer().Issue(r).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokenIssuerTest, OAuthRequestsNeedTheirFields) {
  TokenRequest r;
  r.grant = GrantType::kPassword;
  r.credentials.username = "alice";
  r.credentials.secret = "secret";
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("client_id"));
  r.client_id = "docker";
  r.credentials.username.clear();
  EXPECT_EQ(issuer().Issue(r).status().code(), absl::StatusCode::kInvalidArgument);
  TokenRequest refresh;
  refresh.grant = GrantType::kRefreshToken;
  refresh.client_id = "docker";
  t = issuer().Issue(refresh);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("refresh_token"));
}

class RefreshTokenFlowTest : public TokenIssuerTest {
 protected:
  std::string Login() {
    TokenRequest r;
    r.grant = GrantType::kPassword;
    r.credentials.username = "alice";
    r.credentials.secret = "secret";
    r.client_id = "docker";
    r.service = "registry.test";
    r.offline_token = true;
    absl::StatusOr<IssuedToken> t = issuer().Issue(r);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->refresh_token : "";
  }
  static TokenRequest Refresh(const std::string& token, std::vector<std::string> scopes = {}) {
    TokenRequest r;
    r.grant = GrantType::kRefreshToken;
    r.refresh_token = token;
    r.client_id = "docker";
    r.service = "registry.test";
    r.scopes = std::move(scopes);
    return r;
  }
};

TEST_F(RefreshTokenFlowTest, RefreshTokenGetsAccessTokensForItsAccount) {
  const std::string refresh = Login();
  absl::StatusOr<IssuedToken> t = issuer().Issue(Refresh(refresh, {"repository:team/app:pull,push"}));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->subject, "alice");
  EXPECT_THAT(t->granted, ElementsAre(ResourceScope{"repository", "team/app", {"pull", "push"}}));
  EXPECT_EQ(t->refresh_token, "");
  TokenRequest offline = Refresh(refresh);
  offline.offline_token = true;
  t = issuer().Issue(offline);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->refresh_token, refresh);  // the same one, not a new one per refresh
  EXPECT_EQ(refresh_.size(), 1u);
}

TEST_F(RefreshTokenFlowTest, RefreshTokenIsBoundToItsService) {
  TokenRequest other = Refresh(Login());
  other.service = "registry.other";
  absl::StatusOr<IssuedToken> t = issuer().Issue(other);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(t.status().message(), "invalid refresh token");
}

TEST_F(RefreshTokenFlowTest, DeadOnceTheAccountIsDisabledOrDeleted) {
  const std::string refresh = Login();
  ASSERT_TRUE(issuer().Issue(Refresh(refresh)).ok());
  authenticator_.Disable(kAlice.user_id);
  absl::StatusOr<IssuedToken> t = issuer().Issue(Refresh(refresh));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(t.status().message(), "invalid refresh token");
}

TEST_F(RefreshTokenFlowTest, ForgedTokensAreRefused) {
  const std::string refresh = Login();
  for (const std::string& forged : {std::string("prt_forged"), std::string("garbage"),
                                    std::string(4096, 'x'), refresh + "x",
                                    std::string("prt_\0\0", 6)}) {
    EXPECT_EQ(issuer().Issue(Refresh(forged)).status().code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST_F(RefreshTokenFlowTest, ExpiresAfterItsLifetime) {
  options_.refresh_token_lifetime = absl::Hours(1);
  const std::string refresh = Login();
  clock_.Advance(absl::Minutes(59));
  ASSERT_TRUE(issuer().Issue(Refresh(refresh)).ok());
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(issuer().Issue(Refresh(refresh)).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(RefreshTokenFlowTest, RevokedTokensAreRefused) {
  const std::string refresh = Login();
  absl::StatusOr<std::vector<RefreshTokenRecord>> list = issuer().ListRefreshTokens(kAlice.user_id);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(issuer().RevokeRefreshToken((*list)[0].id, kBob.user_id).code(),
            absl::StatusCode::kNotFound);  // not bob's to revoke
  ASSERT_TRUE(issuer().Issue(Refresh(refresh)).ok());
  ASSERT_TRUE(issuer().RevokeRefreshToken((*list)[0].id, kAlice.user_id).ok());
  EXPECT_EQ(issuer().Issue(Refresh(refresh)).status().code(), absl::StatusCode::kUnauthenticated);
  const std::string a = Login(), b = Login();
  EXPECT_EQ(*issuer().RevokeRefreshTokens(kAlice.user_id), 2);
  EXPECT_EQ(issuer().Issue(Refresh(a)).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(issuer().Issue(Refresh(b)).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(RefreshTokenFlowTest, StoreOutageIsUnavailableNotUnauthenticated) {
  const std::string refresh = Login();
  refresh_.FailNextCall(absl::UnavailableError("database down"));
  EXPECT_EQ(issuer().Issue(Refresh(refresh)).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(TokenIssuerTest, AnonymousAndInternalPrincipalsGetNoRefreshToken) {
  TokenRequest r = Get("", {});
  r.offline_token = true;
  absl::StatusOr<IssuedToken> t = issuer().Issue(r);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->refresh_token, "");
  authenticator_.AddAuthorization("Basic internal", {TokenPrincipal::Kind::kInternal, 0, "portunus", false});
  r = Get("Basic internal", {});
  r.offline_token = true;
  t = issuer().Issue(r);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->refresh_token, "");
  EXPECT_EQ(refresh_.size(), 0u);
}

}  // namespace
}  // namespace portunus::auth
