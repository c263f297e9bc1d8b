// The catalog's REST API (Portus API v1) end to end: skopeo pushes to the real registry, whose
// notifications reach portunus-catalog through the gateway's webhook; then the gateway's
// /api/v1/repositories, /tags, /search, /namespaces/:id/repositories, /events and /sync answer
// each caller with what they may pull (decided by the real auth service), and deletes through
// Portunus remove exactly what was asked from the registry.
//
// The registry runs without token auth (anonymous pushes): the catalog reads it without tokens,
// and the tags have no author (the registry reports the token subject as the actor only with
// token auth). tests/catalog_token_test.cc runs the registry with Portunus token auth.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/registry_process.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"
#include "tests/harness/rest.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

class CatalogRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    Stack::Options o;
    o.services = {"auth", "catalog", "gateway"};
    o.db_dsn = db_->dsn();
    o.registry_url = absl::StrCat("http://127.0.0.1:", PickFreePort());
    o.config = {{"auth.bcrypt_cost", "4"},
                {"delete.enabled", "true"},
                {"catalog.sync.enabled", "false"},
                {"catalog.events.poll_interval", "1s"}};
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(o));
    testing::RegistryProcessOptions r;
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(o.registry_url.substr(o.registry_url.rfind(':') + 1), &port));
    r.port = port;
    r.notify_url = stack_->webhook_url();
    r.notify_authorization = "Bearer " + stack_->webhook_secret();
    auto registry = testing::RegistryProcess::Start(r);
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    HARNESS_ASSERT_OK(stack_->Start());
  }

  Reply Call(const std::string& method, const std::string& path, const As& as,
             const std::string& body = "") {
    return CallRest(stack_->gateway_url(), method, path, as, body);
  }

  // Full names of the repositories `as` lists at `path`.
  std::set<std::string> Names(const std::string& path, const As& as) {
    Reply r = Call("GET", path, as);
    EXPECT_EQ(r.status, 200) << path << ": " << r.raw.body;
    std::set<std::string> names;
    if (!r.body.is_array()) return names;
    for (const Json& repo : r.body) names.insert(repo.value("full_name", ""));
    return names;
  }

  // Admin, alice (owner of team devs: namespaces `secret`, private, and `shared`, public), bob.
  void CreateAccounts() {
    Reply boot = Call("POST", "/api/v1/users/bootstrap", As::Anonymous(),
                      R"({"user":{"username":"admin","email":"admin@example.com","password":"correct-horse"}})");
    ASSERT_EQ(boot.status, 201) << boot.raw.body;
    for (const char* name : {"alice", "bob"}) {
      Reply u = Call("POST", "/api/v1/users", admin_,
                     Json{{"user", {{"username", name}, {"email", absl::StrCat(name, "@example.com")},
                                    {"password", absl::StrCat(name, "-password")}}}}
                         .dump());
      ASSERT_EQ(u.status, 201) << u.raw.body;
    }
    ASSERT_EQ(Call("POST", "/api/v1/teams", alice_, R"({"name":"devs"})").status, 201);
    Reply secret = Call("POST", "/api/v1/namespaces", alice_, R"({"name":"secret","team":"devs"})");
    ASSERT_EQ(secret.status, 201) << secret.raw.body;
    secret_namespace_id_ = secret.body.value("id", int64_t{0});
    ASSERT_EQ(Call("POST", "/api/v1/namespaces", alice_, R"({"name":"shared","team":"devs"})").status, 201);
    Reply pub = Call("PUT", "/api/v1/namespaces/shared", alice_, R"({"namespace":{"visibility":"public"}})");
    ASSERT_EQ(pub.status, 200) << pub.raw.body;
  }

  OciImage Image(const std::string& name, const std::string& content, bool two_platforms = false) {
    OciImageBuilder b;
    b.File("etc/" + name, content);
    if (two_platforms) b.AddPlatform("linux", "arm64", "v8").File("etc/" + name, content + "arm\n");
    auto image = b.Build(images_.Sub(name), "v");
    EXPECT_TRUE(image.ok()) << image.status();
    return image.ok() ? *image : OciImage{};
  }

  void Push(const OciImage& image, const std::string& target) {
    Skopeo::CopyOptions options;
    options.all = image.manifests.size() > 1;
    absl::StatusOr<CommandResult> r =
        skopeo_.Copy(image.ref(), absl::StrCat("docker://", registry_->host(), "/", target), options);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ok()) << r->Describe();
  }

  bool InRegistry(const std::string& ref) {
    absl::StatusOr<CommandResult> r =
        skopeo_.Inspect(absl::StrCat("docker://", registry_->host(), "/", ref), std::nullopt, true);
    return r.ok() && r->ok();
  }

  // Waits until the admin sees `n` tags in total.
  bool WaitTotalTags(int n) {
    return PollUntil(
        [&] {
          Reply r = Call("GET", "/api/v1/tags", admin_);
          return r.status == 200 && r.raw.Header("X-Total") == std::to_string(n);
        },
        absl::Seconds(60), absl::Milliseconds(50));
  }

  int64_t RepositoryId(const std::string& full_name) {
    Reply r = Call("GET", "/api/v1/repositories?all=true", admin_);
    for (const Json& repo : r.body) {
      if (repo.value("full_name", "") == full_name) return repo.value("id", int64_t{0});
    }
    return 0;
  }

  static int64_t ImageSize(const Json& manifest) {
    int64_t size = manifest["config"]["size"].get<int64_t>();
    for (const Json& l : manifest["layers"]) size += l["size"].get<int64_t>();
    return size;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<testing::RegistryProcess> registry_;
  TempDir images_{"catalog-rest-images"};
  Skopeo skopeo_;
  const As admin_ = As::Basic("admin", "correct-horse");
  const As alice_ = As::Basic("alice", "alice-password");
  const As bob_ = As::Basic("bob", "bob-password");
  int64_t secret_namespace_id_ = 0;
};

TEST_F(CatalogRestTest, PushesAppearToThoseWhoMayPullAndDeletesRemoveExactlyWhatWasAsked) {
  CreateAccounts();
  OciImage app = Image("app", "app\n");
  OciImage multi = Image("site", "site\n", /*two_platforms=*/true);
  Push(app, "secret/app:v1");
  Push(app, "secret/app:v2");  // same digest
  Push(multi, "shared/site:latest");
  Push(app, "elsewhere/thing:1");  // a namespace Portunus lacks: created as an orphan
  ASSERT_TRUE(WaitTotalTags(4));

  // Visibility: admin everything; alice her team's namespaces; bob and anonymous the public one.
  EXPECT_EQ(Names("/api/v1/repositories", admin_),
            (std::set<std::string>{"secret/app", "shared/site", "elsewhere/thing"}));
  EXPECT_EQ(Names("/api/v1/repositories", alice_), (std::set<std::string>{"secret/app", "shared/site"}));
  EXPECT_EQ(Names("/api/v1/repositories", bob_), (std::set<std::string>{"shared/site"}));
  EXPECT_EQ(Names("/api/v1/repositories", As::Anonymous()), (std::set<std::string>{"shared/site"}));
  EXPECT_EQ(Names("/api/v1/search?q=APP", alice_), (std::set<std::string>{"secret/app"}));
  EXPECT_EQ(Names("/api/v1/search?q=app", bob_), (std::set<std::string>{}));
  EXPECT_EQ(Names(absl::StrCat("/api/v1/namespaces/", secret_namespace_id_, "/repositories"), alice_),
            (std::set<std::string>{"secret/app"}));
  EXPECT_EQ(Names(absl::StrCat("/api/v1/namespaces/", secret_namespace_id_, "/repositories"), bob_),
            (std::set<std::string>{}));
  Reply orphan = Call("GET", "/api/v1/namespaces/elsewhere", admin_);
  ASSERT_EQ(orphan.status, 200) << orphan.raw.body;
  EXPECT_EQ(orphan.body["visibility"], "private");

  // Paging headers as in Portus.
  Reply paged = Call("GET", "/api/v1/repositories?per_page=2&sort_attr=full_name", admin_);
  ASSERT_EQ(paged.status, 200);
  EXPECT_EQ(paged.raw.Header("X-Total"), "3");
  EXPECT_EQ(paged.raw.Header("X-Total-Pages"), "2");
  EXPECT_EQ(paged.raw.Header("X-Next-Page"), "2");
  ASSERT_EQ(paged.body.size(), 2u);
  EXPECT_EQ(paged.body[0]["full_name"], "elsewhere/thing");

  // The repository with its tags: digest, size, media type, platforms.
  const int64_t app_id = RepositoryId("secret/app");
  ASSERT_GT(app_id, 0);
  Reply repo = Call("GET", absl::StrCat("/api/v1/repositories/", app_id), alice_);
  ASSERT_EQ(repo.status, 200) << repo.raw.body;
  EXPECT_EQ(repo.body["name"], "app");
  EXPECT_EQ(repo.body["namespace"]["name"], "secret");
  EXPECT_EQ(repo.body["namespace"]["id"], secret_namespace_id_);
  EXPECT_EQ(repo.body["tags_count"], 2);
  EXPECT_TRUE(repo.body["vulnerabilities"].is_null());  // no scanner in this stack
  EXPECT_FALSE(repo.body.contains("digests"));
  ASSERT_EQ(repo.body["tags"].size(), 2u);
  for (const Json& tag : repo.body["tags"]) {
    EXPECT_EQ(tag["digest"], app.digest);
    EXPECT_EQ(tag["size"], ImageSize(app.manifests[0]));
    EXPECT_EQ(tag["media_type"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(tag["image_id"], app.manifests[0]["config"]["digest"].get<std::string>().substr(7));
    ASSERT_EQ(tag["platforms"].size(), 1u);
    EXPECT_EQ(tag["platforms"][0]["os"], "linux");
    EXPECT_EQ(tag["platforms"][0]["architecture"], "amd64");
    EXPECT_TRUE(tag["created_at"].is_string());
    // No scanner in this stack: the tag still answers, as not scanned (docs/scanner.md).
    EXPECT_EQ(tag["scanned"], 0);
    EXPECT_TRUE(tag["vulnerabilities"].is_null());
    // skopeo GETs the manifest it pushed: a pull, recorded at most once a minute.
    EXPECT_TRUE(tag["pulled_at"].is_null() || tag["pulled_at"].is_string());
  }
  EXPECT_EQ(Call("GET", absl::StrCat("/api/v1/repositories/", app_id), bob_).status, 404);

  Reply site = Call("GET", absl::StrCat("/api/v1/repositories/", RepositoryId("shared/site"), "/tags"),
                    As::Anonymous());
  ASSERT_EQ(site.status, 200) << site.raw.body;
  ASSERT_EQ(site.body.size(), 1u);
  EXPECT_EQ(site.body[0]["digest"], multi.digest);
  EXPECT_EQ(site.body[0]["media_type"], "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(site.body[0]["size"], ImageSize(multi.manifests[0]) + ImageSize(multi.manifests[1]));
  std::set<std::string> platforms;
  for (const Json& p : site.body[0]["platforms"]) {
    platforms.insert(absl::StrCat(p.value("os", ""), "/", p.value("architecture", ""), "/", p.value("variant", "")));
  }
  EXPECT_EQ(platforms, (std::set<std::string>{"linux/amd64/", "linux/arm64/v8"}));

  // Grouped by digest (Portus): one group of two tags.
  Reply grouped = Call("GET", absl::StrCat("/api/v1/repositories/", app_id, "/tags/grouped"), alice_);
  ASSERT_EQ(grouped.status, 200) << grouped.raw.body;
  ASSERT_EQ(grouped.body.size(), 1u);
  EXPECT_EQ(grouped.body[0].size(), 2u);

  // Bad input is a 422 naming the parameter, never a 500.
  Reply bad_id = Call("GET", "/api/v1/repositories/abc", alice_);
  EXPECT_EQ(bad_id.status, 422);
  EXPECT_EQ(bad_id.body["field"], "id");
  EXPECT_EQ(Call("GET", "/api/v1/repositories?per_page=0", alice_).body["field"], "per_page");
  EXPECT_EQ(Call("GET", "/api/v1/repositories?sort_attr=password", alice_).body["field"], "sort_attr");
  EXPECT_EQ(Call("GET", "/api/v1/tags/999999", alice_).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/tags", alice_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/repositories", As::Basic("alice", "wrong")).status, 401);

  // Deleting one of two tags on the same digest leaves the other pullable.
  int64_t v1_id = 0;
  for (const Json& tag : repo.body["tags"]) {
    if (tag["name"] == "v1") v1_id = tag["id"];
  }
  ASSERT_GT(v1_id, 0);
  Reply not_allowed = Call("DELETE", absl::StrCat("/api/v1/tags/", v1_id), bob_);
  EXPECT_EQ(not_allowed.status, 404);  // bob cannot even see it
  Reply deleted = Call("DELETE", absl::StrCat("/api/v1/tags/", v1_id), alice_);
  ASSERT_EQ(deleted.status, 204) << deleted.raw.body;
  EXPECT_FALSE(InRegistry("secret/app:v1"));
  EXPECT_TRUE(InRegistry("secret/app:v2"));
  // The registry's delete events (possibly applied inside the put-back window) never remove
  // the repository: it keeps its id (tests/catalog_token_test.cc waits for those events).
  ASSERT_TRUE(PollUntil(
      [&] {
        Reply tags = Call("GET", absl::StrCat("/api/v1/repositories/", app_id, "/tags"), alice_);
        return tags.status == 200 && tags.body.size() == 1 && tags.body[0]["name"] == "v2";
      },
      absl::Seconds(30), absl::Milliseconds(50)));
  EXPECT_EQ(RepositoryId("secret/app"), app_id);
  Reply copied = Call("GET", absl::StrCat("/api/v1/repositories/", app_id), alice_);
  EXPECT_EQ(copied.body["tags"][0]["digest"], app.digest);

  // A public repository bob may see but not delete; the admin deletes it.
  const int64_t site_id = RepositoryId("shared/site");
  Reply bob_delete = Call("DELETE", absl::StrCat("/api/v1/repositories/", site_id), bob_);
  EXPECT_EQ(bob_delete.status, 403);
  EXPECT_THAT(bob_delete.body.value("message", ""), HasSubstr("shared/site"));
  ASSERT_EQ(Call("DELETE", absl::StrCat("/api/v1/repositories/", site_id), admin_).status, 204);
  EXPECT_FALSE(InRegistry("shared/site:latest"));
  ASSERT_TRUE(PollUntil([&] { return Names("/api/v1/repositories", admin_).count("shared/site") == 0; },
                        absl::Seconds(30), absl::Milliseconds(50)));
  EXPECT_EQ(Call("GET", absl::StrCat("/api/v1/repositories/", site_id), admin_).status, 404);
}

TEST_F(CatalogRestTest, EventsAndSyncAreForAdmins) {
  CreateAccounts();
  // A garbage notification is stored as rejected, visible through GET /api/v1/events.
  HttpRequest hook;
  hook.method = "POST";
  hook.url = stack_->webhook_url();
  hook.body = R"({"events":[{"id":"e-1","action":"explode"}]})";
  hook.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + stack_->webhook_secret()}};
  absl::StatusOr<HttpResponse> accepted = Http(hook);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->status, 202) << accepted->body;
  hook.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer not-the-secret"}};
  absl::StatusOr<HttpResponse> refused = Http(hook);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->Header("WWW-Authenticate"), "Bearer");

  Reply events = Call("GET", "/api/v1/events", admin_);
  ASSERT_EQ(events.status, 200) << events.raw.body;
  ASSERT_EQ(events.body.size(), 1u);
  EXPECT_EQ(events.body[0]["event_id"], "e-1");
  EXPECT_EQ(events.body[0]["status"], "rejected");
  EXPECT_THAT(events.body[0].value("last_error", ""), HasSubstr("explode"));
  EXPECT_EQ(Call("GET", "/api/v1/events?status=pending,done", admin_).body.size(), 0u);
  Reply bad_status = Call("GET", "/api/v1/events?status=lost", admin_);
  EXPECT_EQ(bad_status.status, 422);
  EXPECT_EQ(bad_status.body["field"], "status");
  EXPECT_EQ(Call("GET", "/api/v1/events", alice_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/events", As::Anonymous()).status, 401);

  // The registry and the catalog agree: a dry run finds nothing to change.
  Push(Image("app", "app\n"), "secret/app:v1");
  ASSERT_TRUE(WaitTotalTags(1));

  EXPECT_EQ(Call("POST", "/api/v1/sync", alice_, "{}").status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/sync", admin_, R"({"dry_run":"yes"})").status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/sync", admin_, "{").status, 400);
  Reply started = Call("POST", "/api/v1/sync", admin_, R"({"dry_run":true})");
  ASSERT_EQ(started.status, 202) << started.raw.body;
  EXPECT_EQ(started.body["state"], "running");
  EXPECT_EQ(started.body["dry_run"], true);
  const int64_t run_id = started.body["id"];
  Reply run;
  ASSERT_TRUE(PollUntil(
      [&] {
        run = Call("GET", absl::StrCat("/api/v1/sync/runs/", run_id), admin_);
        return run.status == 200 && run.body["state"] != "running";
      },
      absl::Seconds(30), absl::Milliseconds(50)));
  EXPECT_EQ(run.body["state"], "succeeded") << run.raw.body;
  EXPECT_EQ(run.body["added"], 0);
  EXPECT_EQ(run.body["deleted"], 0);
  Reply runs = Call("GET", "/api/v1/sync/runs?limit=5", admin_);
  ASSERT_EQ(runs.status, 200);
  ASSERT_GE(runs.body.size(), 1u);
  EXPECT_EQ(runs.body[0]["id"], run_id);
  Reply status = Call("GET", "/api/v1/sync", admin_);
  EXPECT_EQ(status.status, 200) << status.raw.body;
  EXPECT_EQ(Call("GET", "/api/v1/sync", bob_).status, 403);
}

}  // namespace
}  // namespace portunus::harness
