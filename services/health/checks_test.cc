// Domain tests of the component checks (database, registry, services, sync brake) with fakes:
// every message an operator can see, exactly.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/health/database_check.h"
#include "services/health/fake_http_getter.h"
#include "services/health/fake_sources.h"
#include "services/health/registry_check.h"
#include "services/health/service_check.h"
#include "services/health/sync_brake_check.h"

namespace portunus::health {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MigrationState UpToDate() { return MigrationState{true, 3, 0, 3}; }

TEST(DatabaseCheckTest, UpToDateWhenEverySchemaIsMigrated) {
  FakeSchemaInspector inspector;
  inspector.Set("auth", UpToDate());
  inspector.Set("catalog", UpToDate());
  DatabaseCheck check(inspector);
  auto r = check.Run(absl::Seconds(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->message, "database is up-to-date");
  EXPECT_EQ(check.name(), "database");
}

TEST(DatabaseCheckTest, InitializingWhileAnySchemaHasPendingMigrations) {
  FakeSchemaInspector inspector;
  inspector.Set("auth", UpToDate());
  inspector.Set("catalog", MigrationState{true, 1, 2, 3});
  DatabaseCheck check(inspector);
  auto r = check.Run(absl::Seconds(1));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message, "database is initializing");
}

TEST(DatabaseCheckTest, NotCreatedBeatsInitializing) {
  FakeSchemaInspector inspector;
  inspector.Set("auth", MigrationState{true, 0, 3, 3});
  MigrationState missing;
  missing.database_exists = false;
  inspector.Set("catalog", missing);
  DatabaseCheck check(inspector);
  EXPECT_EQ(check.Run(absl::Seconds(1))->message, "database has not been created");
}

TEST(DatabaseCheckTest, UnreachableStopsAtTheFirstSchemaAndNamesTheReason) {
  FakeSchemaInspector inspector;
  inspector.Set("auth",
                absl::UnavailableError("cannot connect to database: connection to server failed: "
                                       "Connection refused"));
  inspector.Set("catalog", UpToDate());
  DatabaseCheck check(inspector);
  auto r = check.Run(absl::Seconds(1));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message,
            "cannot connect to database: connection to server failed: Connection refused");
  EXPECT_THAT(inspector.inspected(), ElementsAre("auth"));
}

// A registry as ENVIRONMENT.md §4 shows it: 401 with a Bearer challenge to anonymous callers,
// Docker-Distribution-Api-Version on every answer.
class RegistryCheckTest : public ::testing::Test {
 protected:
  static HttpResponse Registry(long status, std::string body = "{}", std::string challenge = "") {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers["docker-distribution-api-version"] = "registry/2.0";
    if (!challenge.empty()) r.headers["www-authenticate"] = challenge;
    return r;
  }
  void HealthyRegistry() {
    http_.Answer(
        kUrl + "/v2/", "",
        Registry(
            401,
            R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]})",
            R"(Bearer realm="http://gw/v2/token",service="registry.test")"));
    http_.Answer(kUrl + "/v2/", "Bearer token", Registry(200));
    http_.Answer(kUrl + "/v2/_catalog?n=1", "Bearer token",
                 Registry(200, R"({"repositories":["ns/app"]})"));
  }
  const std::string kUrl = "http://registry:5000";
  FakeHttpGetter http_;
  FakeRegistryTokenSource tokens_;
};

TEST_F(RegistryCheckTest, ReachableAndUsableWithAnInternalToken) {
  HealthyRegistry();
  RegistryCheck check(kUrl + "/", http_, tokens_);  // a trailing slash is tolerated
  auto r = check.Run(absl::Seconds(3));
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->message, "registry is reachable");
  EXPECT_THAT(tokens_.last_scopes(), ElementsAre("registry:catalog:*"));
  EXPECT_THAT(http_.requests(), ElementsAre(kUrl + "/v2/", kUrl + "/v2/ [Bearer token]",
                                            kUrl + "/v2/_catalog?n=1 [Bearer token]"));
}

TEST_F(RegistryCheckTest, NotReachableNamesTheUrlAndTheTransportError) {
  http_.FailAll(absl::UnavailableError("Recv failure: Connection reset by peer"));
  RegistryCheck check(kUrl, http_, tokens_);
  auto r = check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message,
            "registry is not reachable: GET " + kUrl + "/v2/: Recv failure: Connection reset by peer");
}

TEST_F(RegistryCheckTest, RejectedTokensMeanReachableButNotUsable) {
  HealthyRegistry();
  // Wrong issuer/service/certificate in the registry's auth.token: it rejects our tokens.
  http_.Answer(
      kUrl + "/v2/", "Bearer token",
      Registry(
          401,
          R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]})",
          R"(Bearer realm="http://gw/v2/token",service="registry.test",error="invalid_token")"));
  RegistryCheck check(kUrl, http_, tokens_);
  auto r = check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message,
            "registry is reachable but not usable: it rejects Portunus's tokens: GET /v2/ with a "
            "token answered 401: UNAUTHORIZED: authentication required (invalid_token)");
}

TEST_F(RegistryCheckTest, NoTokenMeansReachableButNotUsable) {
  HealthyRegistry();
  tokens_.Set(absl::UnavailableError("auth service: failed to connect to all addresses"));
  RegistryCheck check(kUrl, http_, tokens_);
  auto r = check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message,
            "registry is reachable but not usable: cannot get a token for the internal principal: "
            "auth service: failed to connect to all addresses");
}

TEST_F(RegistryCheckTest, UnreadableCatalogMeansReachableButNotUsable) {
  HealthyRegistry();
  http_.Answer(
      kUrl + "/v2/_catalog?n=1", "Bearer token",
      Registry(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
               R"(Bearer realm="x",scope="registry:catalog:*",error="insufficient_scope")"));
  RegistryCheck check(kUrl, http_, tokens_);
  EXPECT_EQ(check.Run(absl::Seconds(3))->message,
            "registry is reachable but not usable: cannot read the catalog: GET /v2/_catalog "
            "answered 401: UNAUTHORIZED: authentication required (insufficient_scope)");
}

TEST_F(RegistryCheckTest, SomethingThatIsNotARegistry) {
  HttpResponse web;
  web.status = 200;
  web.body = "<html>hello</html>";
  http_.Answer(kUrl + "/v2/", "", web);
  RegistryCheck check(kUrl, http_, tokens_);
  auto r = check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message,
            "registry is reachable but not usable: http://registry:5000 does not look like a "
            "Docker registry (GET /v2/ answered 200 without Docker-Distribution-Api-Version)");
}

TEST_F(RegistryCheckTest, ServerErrorOnPing) {
  http_.Answer(kUrl + "/v2/", "", Registry(503, "upstream storage down\n"));
  RegistryCheck check(kUrl, http_, tokens_);
  EXPECT_EQ(check.Run(absl::Seconds(3))->message,
            "registry is reachable but not usable: GET /v2/ answered 503: upstream storage down");
}

TEST_F(RegistryCheckTest, RegistryWithoutAuthIsUsableAnonymously) {
  http_.Answer(kUrl + "/v2/", "", Registry(200));
  http_.Answer(kUrl + "/v2/_catalog?n=1", "", Registry(200, R"({"repositories":[]})"));
  RegistryCheck check(kUrl, http_, tokens_);
  auto r = check.Run(absl::Seconds(3));
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->message, "registry is reachable");
}

TEST(DescribeRegistryErrorTest, JoinsErrorsAndFallsBackToTheBody) {
  HttpResponse r;
  r.body = R"({"errors":[{"code":"A","message":"one"},{"code":"B"},{"message":"three"}]})";
  EXPECT_EQ(DescribeRegistryError(r), "A: one; B; three");
  r.body = std::string(300, 'x');
  EXPECT_EQ(DescribeRegistryError(r), std::string(200, 'x'));
  r.body = "line1\nline2";
  EXPECT_EQ(DescribeRegistryError(r), "line1 line2");
  r.body = "";
  r.headers["www-authenticate"] = R"(Bearer realm="r",error="invalid_token")";
  EXPECT_EQ(DescribeRegistryError(r), "invalid_token");
}

TEST(ServiceCheckTest, ServingNotServingAndUnreachable) {
  FakeServingProber prober;
  std::string reason;
  ServiceCheck check("catalog", prober, [&reason](const std::string& service) {
    EXPECT_EQ(service, "catalog");
    return reason;
  });
  EXPECT_EQ(check.name(), "catalog");
  auto r = check.Run(absl::Seconds(1));
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->message, "catalog is serving");

  prober.Set(false);
  EXPECT_EQ(check.Run(absl::Seconds(1))->message, "catalog is not serving");
  reason = "database is initializing";
  r = check.Run(absl::Seconds(1));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message, "catalog is not serving: database is initializing");

  prober.Set(absl::UnavailableError("failed to connect to all addresses"));
  r = check.Run(absl::Seconds(1));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message, "catalog is not reachable: failed to connect to all addresses");
}

TEST(SyncBrakeCheckTest, OnlyAnActiveBrakeIsReportedAndOnlyAsAWarning) {
  FakeSyncBrakeSource source;
  SyncBrakeCheck check(source);
  EXPECT_TRUE(check.omitted_until_reported());
  EXPECT_FALSE(check.Run(absl::Seconds(1)).has_value());

  source.Set(SyncBrakeState{true, "the registry's catalog lists 0 of 120 known repositories"});
  auto r = check.Run(absl::Seconds(1));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->success);
  EXPECT_TRUE(r->warning);
  EXPECT_EQ(r->message,
            "catalog sync safety brake is active: the registry's catalog lists 0 of 120 known "
            "repositories");

  // The catalog being down is the catalog component's news, not this one's.
  source.Set(absl::UnavailableError("connection refused"));
  EXPECT_FALSE(check.Run(absl::Seconds(1)).has_value());
}

}  // namespace
}  // namespace portunus::health
