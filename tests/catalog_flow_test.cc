// The catalog end to end with the real registry and skopeo: registry notifications through the
// gateway's webhook into portunus-catalog, processed against the registry, under outages,
// crashes, duplicates and garbage; lost events restored by a sync pass.
//
// These run the registry without token auth (anonymous pushes), so they need neither the auth
// service nor users: the catalog reads the registry without tokens and repositories live in the
// global namespace. What they check is read from the catalog's tables.
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/catalog/testdata/registry_events.h"
#include "services/common/testing/registry_process.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus {
namespace {

using harness::CommandResult;
using harness::OciImage;
using harness::OciImageBuilder;
using harness::PgQueryValue;
using harness::PollUntil;
using harness::Skopeo;
using harness::Stack;

int64_t QueryInt(const std::string& dsn, const std::string& sql) {
  absl::StatusOr<std::string> v = PgQueryValue(dsn, sql);
  int64_t n = -1;
  if (!v.ok() || !absl::SimpleAtoi(*v, &n)) return -1;
  return n;
}

std::string QueryText(const std::string& dsn, const std::string& sql) {
  absl::StatusOr<std::string> v = PgQueryValue(dsn, sql);
  return v.ok() ? *v : "<" + v.status().ToString() + ">";
}

class CatalogFlowTest : public ::testing::Test {
 protected:
  // Starts catalog + gateway and a registry notifying the gateway. `config` overrides keys.
  void StartAll(std::map<std::string, std::string> config = {}) {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    registry_port_ = harness::PickFreePort();
    Stack::Options o;
    o.services = {"catalog", "gateway"};
    o.db_dsn = db_->dsn();
    o.registry_url = absl::StrCat("http://127.0.0.1:", registry_port_);
    o.config = {{"catalog.sync.enabled", "false"},
                {"catalog.events.poll_interval", "1s"},
                {"catalog.events.retry_backoff", "200ms"}};
    for (auto& [k, v] : config) o.config[k] = v;
    auto stack = Stack::Create(o);
    ASSERT_TRUE(stack.ok()) << stack.status();
    stack_ = std::move(*stack);
    StartRegistry();
    ASSERT_TRUE(stack_->Start().ok());
  }

  void StartRegistry() {
    testing::RegistryProcessOptions r;
    r.port = registry_port_;
    r.notify_url = stack_->webhook_url();
    r.notify_authorization = "Bearer " + stack_->webhook_secret();
    r.notify_threshold = "3";
    r.notify_backoff = "200ms";
    r.storage_dir = storage_.path();
    auto registry = testing::RegistryProcess::Start(r);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
  }

  OciImage Image(const std::string& name, const std::string& content) {
    auto image = OciImageBuilder().File("etc/" + name, content).Build(images_.Sub(name), "v");
    EXPECT_TRUE(image.ok()) << image.status();
    return image.ok() ? *image : OciImage{};
  }

  void Push(const OciImage& image, const std::string& target) {
    absl::StatusOr<CommandResult> r = skopeo_.Copy(
        image.ref(), absl::StrCat("docker://", registry_->host(), "/", target), {});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ok()) << r->Describe();
  }

  int64_t Tags() { return QueryInt(db_->dsn(), "SELECT count(*) FROM catalog.tags"); }

  bool WaitTags(int64_t n, absl::Duration timeout = absl::Seconds(60)) {
    return PollUntil([&] { return Tags() == n; }, timeout);
  }

  std::unique_ptr<testing::TestDatabase> db_;
  int registry_port_ = 0;
  harness::TempDir storage_{"catalog-registry"};
  harness::TempDir images_{"catalog-images"};
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<testing::RegistryProcess> registry_;
  Skopeo skopeo_;
};

TEST_F(CatalogFlowTest, APushIsRecordedWithDigestSizeAndPlatform) {
  StartAll();
  OciImage image = Image("motd", "hello\n");
  const absl::Time start = absl::Now();
  Push(image, "app:v1");
  ASSERT_TRUE(WaitTags(1)) << stack_->process("catalog")->ReadLog();
  const absl::Duration visible = absl::Now() - start;
  const std::string dsn = db_->dsn();
  EXPECT_EQ(QueryText(dsn, "SELECT t.digest FROM catalog.tags t"), image.digest);
  EXPECT_EQ(QueryText(dsn, "SELECT r.name || ':' || t.name FROM catalog.tags t"
                           " JOIN catalog.repositories r ON r.id = t.repository_id"),
            "app:v1");
  const nlohmann::json& m = image.manifests[0];
  int64_t size = m["config"]["size"].get<int64_t>();
  for (const auto& l : m["layers"]) size += l["size"].get<int64_t>();
  EXPECT_EQ(QueryInt(dsn, "SELECT size FROM catalog.manifests"), size);
  EXPECT_EQ(QueryText(dsn, "SELECT platforms->0->>'os' || '/' || (platforms->0->>'architecture')"
                           " FROM catalog.manifests"),
            "linux/amd64");
  EXPECT_EQ(QueryText(dsn, "SELECT config_digest FROM catalog.manifests"),
            m["config"]["digest"].get<std::string>());
  // Blob events and HEAD pulls were dropped; the manifest push is done.
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.events WHERE status = 'done' AND action = 'push'"), 1);
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.events WHERE status <> 'done'"), 0);
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.manifest_feed"), 1);
  std::printf("push to visible: %.0f ms (skopeo push included)\n", absl::ToDoubleMilliseconds(visible));

  // Deleting the manifest in the registry removes the tag and the empty repository.
  absl::StatusOr<CommandResult> del = skopeo_.Delete(
      absl::StrCat("docker://", registry_->host(), "/app:v1"), std::nullopt);
  ASSERT_TRUE(del.ok() && del->ok()) << (del.ok() ? del->Describe() : del.status().ToString());
  ASSERT_TRUE(WaitTags(0));
  EXPECT_TRUE(PollUntil([&] { return QueryInt(dsn, "SELECT count(*) FROM catalog.repositories") == 0; },
                        absl::Seconds(30)));
}

TEST_F(CatalogFlowTest, TagsPushedWhileTheCatalogIsDownAppearWhenItComesBack) {
  StartAll();
  ASSERT_TRUE(stack_->StopService("catalog").ok());
  OciImage image = Image("motd", "twenty\n");
  for (int i = 1; i <= 20; ++i) Push(image, absl::StrCat("app:t", i));
  ASSERT_TRUE(stack_->StartService("catalog").ok());
  ASSERT_TRUE(stack_->WaitReady("catalog", absl::Seconds(60)).ok());
  // The registry kept retrying (the gateway answered 503 while the catalog was down).
  ASSERT_TRUE(WaitTags(20, absl::Seconds(90))) << "tags: " << Tags();
  EXPECT_EQ(QueryInt(db_->dsn(), "SELECT count(*) FROM catalog.events WHERE action = 'push'"), 20);
}

TEST_F(CatalogFlowTest, EventsLostForGoodAreRestoredByTheNextSync) {
  StartAll({{"catalog.sync.enabled", "true"}, {"catalog.sync.strategy", "on-start"}});
  OciImage image = Image("motd", "kept\n");
  Push(image, "app:seen");
  ASSERT_TRUE(WaitTags(1));
  // The endpoint is down, and the registry restarts: its in-memory retry queue is gone.
  ASSERT_TRUE(stack_->StopService("gateway").ok());
  OciImage lost = Image("lost", "lost\n");
  Push(lost, "app:lost1");
  Push(lost, "other:lost2");
  registry_->Stop();
  registry_.reset();
  StartRegistry();
  ASSERT_TRUE(stack_->StartService("gateway").ok());
  ASSERT_TRUE(stack_->WaitReady("gateway", absl::Seconds(60)).ok());
  absl::SleepFor(absl::Seconds(2));  // would the events come? (they must not: lost for good)
  EXPECT_EQ(Tags(), 1);
  // The next sync pass (here: the catalog's startup pass) restores them.
  ASSERT_TRUE(stack_->StopService("catalog").ok());
  ASSERT_TRUE(stack_->StartService("catalog").ok());
  ASSERT_TRUE(WaitTags(3, absl::Seconds(60))) << "tags: " << Tags();
  EXPECT_EQ(QueryText(db_->dsn(), "SELECT state FROM catalog.sync_runs ORDER BY id DESC LIMIT 1"),
            "succeeded");
  EXPECT_EQ(QueryText(db_->dsn(), "SELECT t.digest FROM catalog.tags t WHERE t.name = 'lost1'"),
            lost.digest);
}

TEST_F(CatalogFlowTest, AKilledCatalogLosesNothingAndAppliesNothingTwice) {
  StartAll();
  ASSERT_TRUE(stack_->StopService("catalog").ok());
  constexpr int kTags = 40;
  std::vector<OciImage> images;
  for (int i = 0; i < kTags; ++i) images.push_back(Image(absl::StrCat("f", i), absl::StrCat(i, "\n")));
  for (int i = 0; i < kTags; ++i) Push(images[i], absl::StrCat("app:t", i));
  ASSERT_TRUE(stack_->StartService("catalog").ok());
  // Kill it with SIGKILL as soon as processing is under way.
  const std::string dsn = db_->dsn();
  // (skopeo also GETs each manifest it pushed: those pull events are queued too.)
  const std::string pushes_done =
      "SELECT count(*) FROM catalog.events WHERE status = 'done' AND action = 'push'";
  ASSERT_TRUE(PollUntil([&] { return QueryInt(dsn, pushes_done) > 0; }, absl::Seconds(60),
                        absl::Milliseconds(2)));
  stack_->process("catalog")->Kill();
  const int64_t done_at_kill = QueryInt(dsn, pushes_done);
  std::printf("killed with %lld of %d events done\n", static_cast<long long>(done_at_kill), kTags);
  ASSERT_TRUE(stack_->StartService("catalog").ok());
  ASSERT_TRUE(WaitTags(kTags, absl::Seconds(90))) << "tags: " << Tags();
  ASSERT_TRUE(PollUntil([&] { return QueryInt(dsn, pushes_done) == kTags; }, absl::Seconds(30)))
      << QueryText(dsn, "SELECT string_agg(status || ' ' || action || ' ' || coalesce(tag, '') || ' ' ||"
                        " attempts || ' ' || coalesce(last_error, ''), E'\\n' ORDER BY id) FROM catalog.events");
  ASSERT_TRUE(PollUntil([&] { return QueryInt(dsn, "SELECT count(*) FROM catalog.events WHERE status <> 'done'") == 0; },
                        absl::Seconds(30)));
  // Every event was committed exactly once. Attempts are counted in the transaction that
  // applies, so a killed attempt leaves no trace; an event may still take more than one attempt
  // when an apply failed (a registry or auth call timing out on a loaded machine), and each
  // such failure is logged. Any attempt beyond the logged failures would be a second commit.
  std::map<int64_t, int> logged_failures;
  const std::string log = stack_->process("catalog")->ReadLog();
  for (const char* msg : {"event failed, will retry", "event failed, giving up"}) {
    for (const nlohmann::json& j : harness::LogEntries(log, msg)) {
      if (j.contains("event") && j["event"].is_number_integer()) ++logged_failures[j["event"].get<int64_t>()];
    }
  }
  const std::string retried = QueryText(
      dsn, "SELECT coalesce(string_agg(id || ' ' || attempts, ',' ORDER BY id), '')"
           " FROM catalog.events WHERE attempts <> 1");
  for (absl::string_view item : absl::StrSplit(retried, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> id_attempts = absl::StrSplit(item, ' ');
    int64_t id = 0;
    int attempts = 0;
    ASSERT_TRUE(absl::SimpleAtoi(id_attempts.first, &id) && absl::SimpleAtoi(id_attempts.second, &attempts));
    EXPECT_EQ(attempts - 1, logged_failures[id])
        << "event " << id << " took " << attempts << " attempts with " << logged_failures[id]
        << " logged failures";
  }
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.manifest_feed"), kTags);
  EXPECT_EQ(QueryInt(dsn, "SELECT count(DISTINCT digest) FROM catalog.tags"), kTags);
}

TEST_F(CatalogFlowTest, DuplicatesAreOneRowAndGarbageIsRejectedWithoutStallingTheQueue) {
  StartAll();
  auto post = [&](const std::string& body, const std::string& auth) {
    harness::HttpRequest req;
    req.method = "POST";
    req.url = stack_->gateway_url() + "/v2/webhooks/events";
    req.body = body;
    req.headers = {{"Content-Type", "application/vnd.docker.distribution.events.v1+json"},
                   {"Authorization", auth}};
    return harness::Http(req);
  };
  const std::string good = "Bearer " + stack_->webhook_secret();
  auto unauthorized = post(catalog::testdata::kDeleteTag, "Bearer wrong");
  ASSERT_TRUE(unauthorized.ok()) << unauthorized.status();
  EXPECT_EQ(unauthorized->status, 401);
  for (int i = 0; i < 3; ++i) {
    auto r = post(catalog::testdata::kDeleteTag, good);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status, 202) << r->body;
  }
  auto garbage = post("{\"events\": [{\"id\": 42, \"action\": \"explode\"}]}", good);
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->status, 202) << garbage->body;
  auto not_json = post(std::string("\x00\xff garbage", 10), good);
  ASSERT_TRUE(not_json.ok());
  EXPECT_EQ(not_json->status, 202) << not_json->body;
  const std::string dsn = db_->dsn();
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.events WHERE event_id = '82b2d6aa-657c-4762-bca6-0036ce3d613e'"), 1);
  EXPECT_EQ(QueryInt(dsn, "SELECT count(*) FROM catalog.events WHERE status = 'rejected'"), 2);
  EXPECT_EQ(QueryText(dsn, "SELECT string_agg(last_error, ' | ' ORDER BY id) FROM catalog.events WHERE status = 'rejected'"),
            "event has no id | body is not valid JSON");
  // The queue moves on: a real push after the garbage is recorded.
  Push(Image("after", "after\n"), "app:after");
  ASSERT_TRUE(WaitTags(1));
}

}  // namespace
}  // namespace portunus
