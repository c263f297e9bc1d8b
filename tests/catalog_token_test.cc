// The catalog with the registry as it runs in production: token auth through Portunus's
// /v2/token (auth + gateway), notifications to the gateway's webhook, and the catalog reading
// the registry with tokens it asks auth for as the internal principal. Real users, created
// through the REST API, push with skopeo; the REST API shows each tag with its author (the JWT
// subject the registry reports as the event's actor), digest, size and platforms; a push by
// another user moves the tag and its author; deletes remove exactly what was asked and keep the
// repository's id. Deleting one of two tags on one digest leaves the other pullable: the catalog
// puts the manifest back under the sibling as the internal principal (which, like Portus's
// `portus` user, may push).
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"
#include "tests/harness/rest.h"

namespace portunus::harness {
namespace {

using Json = nlohmann::json;

class CatalogTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    Stack::Options o;
    o.services = {"auth", "catalog", "gateway"};
    o.db_dsn = db_->dsn();
    o.config = {{"auth.bcrypt_cost", "4"},
                {"delete.enabled", "true"},
                {"catalog.sync.enabled", "false"},
                {"catalog.events.poll_interval", "1s"}};
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(o));
    HARNESS_ASSIGN_OR_FAIL(registry_, RegistryServer::Start(stack_->RegistryOptions()));
    HARNESS_ASSERT_OK(stack_->Start());
  }

  Reply Call(const std::string& method, const std::string& path, const Credentials& as,
             const std::string& body = "") {
    return CallRest(stack_->gateway_url(), method, path, As::Basic(as.user, as.password), body);
  }

  OciImage Image(const std::string& name, const std::string& content, bool two_platforms = false) {
    OciImageBuilder b;
    b.File("etc/" + name, content);
    if (two_platforms) b.AddPlatform("linux", "arm64", "v8").File("etc/" + name, content + "arm\n");
    auto image = b.Build(images_.Sub(name), "v");
    EXPECT_TRUE(image.ok()) << image.status();
    return image.ok() ? *image : OciImage{};
  }

  std::string Ref(const std::string& target) const {
    return absl::StrCat("docker://", registry_->host_port(), "/", target);
  }

  void Push(const OciImage& image, const std::string& target, const Credentials& as) {
    Skopeo skopeo;  // its own blob cache per push
    Skopeo::CopyOptions options;
    options.all = image.manifests.size() > 1;
    options.dest_creds = as;
    absl::StatusOr<CommandResult> r = skopeo.Copy(image.ref(), Ref(target), options);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->ok()) << as.user << " pushes " << target << ": " << r->Describe();
  }

  bool Pullable(const std::string& target, const Credentials& as) {
    absl::StatusOr<CommandResult> r = skopeo_.Inspect(Ref(target), as, /*raw=*/true);
    return r.ok() && r->ok();
  }

  int64_t RepositoryId(const std::string& full_name) {
    Reply r = Call("GET", "/api/v1/repositories?all=true", admin_);
    for (const Json& repo : r.body) {
      if (repo.value("full_name", "") == full_name) return repo.value("id", int64_t{0});
    }
    return 0;
  }

  // The repository's tags by name, as `as` sees them through REST.
  std::map<std::string, Json> Tags(int64_t repository_id, const Credentials& as) {
    std::map<std::string, Json> out;
    Reply r = Call("GET", absl::StrCat("/api/v1/repositories/", repository_id, "/tags?all=true"), as);
    if (r.status != 200 || !r.body.is_array()) return out;
    for (const Json& t : r.body) out[t.value("name", "")] = t;
    return out;
  }

  // The stored events with an id above `after`, newest first.
  Json EventsAfter(int64_t after) {
    Reply r = Call("GET", "/api/v1/events?status=pending,done,failed,rejected&all=true", admin_);
    Json out = Json::array();
    if (r.status != 200 || !r.body.is_array()) return out;
    for (const Json& e : r.body) {
      if (e.value("id", int64_t{0}) > after) out.push_back(e);
    }
    return out;
  }
  int64_t LastEventId() {
    Json all = EventsAfter(0);
    return all.empty() ? 0 : all[0].value("id", int64_t{0});
  }
  // Waits until the registry's events after `after` for a single-tag delete are applied: a
  // delete, and the push of each tag in `put_back`; and nothing else is pending.
  bool WaitDeleteApplied(int64_t after, const std::set<std::string>& put_back) {
    return PollUntil(
        [&] {
          Json events = EventsAfter(after);
          bool deleted = false;
          std::set<std::string> pushed;
          for (const Json& e : events) {
            if (e.value("status", "") != "done") return false;
            if (e.value("action", "") == "delete") deleted = true;
            if (e.value("action", "") == "push") pushed.insert(e.value("tag", ""));
          }
          return deleted && pushed == put_back;
        },
        absl::Seconds(30), absl::Milliseconds(50));
  }

  static int64_t ImageSize(const Json& manifest) {
    int64_t size = manifest["config"]["size"].get<int64_t>();
    for (const Json& l : manifest["layers"]) size += l["size"].get<int64_t>();
    return size;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<RegistryServer> registry_;
  TempDir images_{"catalog-token-images"};
  Skopeo skopeo_;
  const Credentials admin_{"admin", "correct-horse"};
  const Credentials alice_{"alice", "alice-password"};
  const Credentials bob_{"bob", "bob-password"};
};

TEST_F(CatalogTokenTest, TagsCarryTheirAuthorAndDeletesKeepSiblingsAndIds) {
  // Accounts through the REST API: alice owns team devs (namespace `devs`, private), bob is a
  // contributor (may push, may not delete).
  ASSERT_EQ(Call("POST", "/api/v1/users/bootstrap", {},
                 R"({"user":{"username":"admin","email":"admin@example.com","password":"correct-horse"}})")
                .status,
            201);
  for (const Credentials* u : {&alice_, &bob_}) {
    Reply created = Call("POST", "/api/v1/users", admin_,
                         Json{{"user", {{"username", u->user}, {"email", u->user + "@example.com"},
                                        {"password", u->password}}}}
                             .dump());
    ASSERT_EQ(created.status, 201) << created.raw.body;
  }
  ASSERT_EQ(Call("POST", "/api/v1/teams", alice_, R"({"name":"devs"})").status, 201);
  Reply member = Call("POST", "/api/v1/teams/devs/members", alice_, R"({"user":"bob","role":"contributor"})");
  ASSERT_EQ(member.status, 201) << member.raw.body;
  Reply ns = Call("POST", "/api/v1/namespaces", alice_, R"({"name":"devs","team":"devs"})");
  ASSERT_EQ(ns.status, 201) << ns.raw.body;

  // alice pushes a two-platform index: it appears with her as author, its digest, the summed
  // size and both platforms.
  const OciImage site = Image("site", "site\n", /*two_platforms=*/true);
  Push(site, "devs/app:v1", alice_);
  int64_t repo_id = 0;
  ASSERT_TRUE(PollUntil([&] { return (repo_id = RepositoryId("devs/app")) > 0 && Tags(repo_id, alice_).count("v1"); },
                        absl::Seconds(30), absl::Milliseconds(50)));
  Json v1 = Tags(repo_id, alice_)["v1"];
  EXPECT_EQ(v1["author"]["name"], "alice") << v1.dump();
  EXPECT_EQ(v1["digest"], site.digest);
  EXPECT_EQ(v1["media_type"], "application/vnd.oci.image.index.v1+json");
  EXPECT_EQ(v1["size"], ImageSize(site.manifests[0]) + ImageSize(site.manifests[1]));
  std::set<std::string> platforms;
  for (const Json& p : v1["platforms"]) {
    platforms.insert(absl::StrCat(p.value("os", ""), "/", p.value("architecture", ""), "/", p.value("variant", "")));
  }
  EXPECT_EQ(platforms, (std::set<std::string>{"linux/amd64/", "linux/arm64/v8"}));
  const int64_t v1_id = v1["id"];
  Reply by_id = Call("GET", absl::StrCat("/api/v1/tags/", v1_id), bob_);
  ASSERT_EQ(by_id.status, 200) << by_id.raw.body;
  EXPECT_EQ(by_id.body["author"]["name"], "alice");

  // bob overwrites v1 with another image: the tag moves, and so does its author.
  const OciImage app = Image("app", "app\n");
  Push(app, "devs/app:v1", bob_);
  ASSERT_TRUE(PollUntil([&] { return Tags(repo_id, alice_)["v1"].value("digest", "") == app.digest; },
                        absl::Seconds(30), absl::Milliseconds(50)));
  v1 = Tags(repo_id, alice_)["v1"];
  EXPECT_EQ(v1["author"]["name"], "bob") << v1.dump();
  EXPECT_EQ(v1["id"], v1_id);
  EXPECT_EQ(v1["size"], ImageSize(app.manifests[0]));
  EXPECT_EQ(v1["media_type"], "application/vnd.oci.image.manifest.v1+json");
  ASSERT_EQ(v1["platforms"].size(), 1u);
  EXPECT_EQ(v1["platforms"][0]["architecture"], "amd64");

  // alice pushes another image as v2 and v3 (one digest, two tags).
  const OciImage tool = Image("tool", "tool\n");
  Push(tool, "devs/app:v2", alice_);
  Push(tool, "devs/app:v3", alice_);
  ASSERT_TRUE(PollUntil([&] { return Tags(repo_id, alice_).size() == 3; }, absl::Seconds(30),
                        absl::Milliseconds(50)));
  std::map<std::string, Json> tags = Tags(repo_id, alice_);
  EXPECT_EQ(tags["v2"]["author"]["name"], "alice");
  EXPECT_EQ(tags["v3"]["author"]["name"], "alice");
  EXPECT_EQ(tags["v2"]["digest"], tool.digest);

  // bob may push but not delete.
  Reply refused = Call("DELETE", absl::StrCat("/api/v1/tags/", tags["v1"]["id"].get<int64_t>()), bob_);
  EXPECT_EQ(refused.status, 403) << refused.raw.body;
  EXPECT_TRUE(Pullable("devs/app:v1", bob_));

  // alice deletes v2 alone: the catalog deletes the manifest and puts it back under v3 with a
  // token for the internal principal; v3 stays pullable and keeps its id, and so does the
  // repository once the registry's delete and push events are applied.
  int64_t before_sibling = LastEventId();
  Reply sibling = Call("DELETE", absl::StrCat("/api/v1/tags/", tags["v2"]["id"].get<int64_t>()), alice_);
  ASSERT_EQ(sibling.status, 204) << sibling.raw.body;
  EXPECT_FALSE(Pullable("devs/app:v2", alice_));
  EXPECT_TRUE(Pullable("devs/app:v3", alice_));
  ASSERT_TRUE(WaitDeleteApplied(before_sibling, {"v3"})) << EventsAfter(before_sibling).dump();
  EXPECT_EQ(RepositoryId("devs/app"), repo_id);
  std::map<std::string, Json> kept = Tags(repo_id, alice_);
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept.count("v2"), 0u);
  EXPECT_EQ(kept["v3"]["id"], tags["v3"]["id"]);
  EXPECT_EQ(kept["v3"]["author"]["name"], "alice");  // the put-back is not a new push by portunus
  EXPECT_EQ(Call("GET", absl::StrCat("/api/v1/tags/", tags["v2"]["id"].get<int64_t>()), alice_).status,
            404);

  // alice (owner) deletes v1 (its own digest): gone from the registry and the catalog, also
  // once the registry's delete events are applied; the repository keeps its id.
  int64_t last_event = LastEventId();
  Reply deleted = Call("DELETE", absl::StrCat("/api/v1/tags/", v1_id), alice_);
  ASSERT_EQ(deleted.status, 204) << deleted.raw.body;
  EXPECT_FALSE(Pullable("devs/app:v1", alice_));
  EXPECT_TRUE(Pullable("devs/app:v3", bob_));
  ASSERT_TRUE(WaitDeleteApplied(last_event, {})) << EventsAfter(last_event).dump();
  EXPECT_EQ(RepositoryId("devs/app"), repo_id);
  std::map<std::string, Json> after = Tags(repo_id, alice_);
  EXPECT_EQ(after.size(), 1u);
  EXPECT_EQ(after.count("v1"), 0u);
  EXPECT_EQ(after["v3"]["id"], tags["v3"]["id"]);
  EXPECT_EQ(Call("GET", absl::StrCat("/api/v1/tags/", v1_id), alice_).status, 404);

  // The whole repository: every manifest deleted, the repository gone.
  last_event = LastEventId();
  ASSERT_EQ(Call("DELETE", absl::StrCat("/api/v1/repositories/", repo_id), alice_).status, 204);
  EXPECT_FALSE(Pullable("devs/app:v3", alice_));
  EXPECT_EQ(RepositoryId("devs/app"), 0);
  ASSERT_TRUE(WaitDeleteApplied(last_event, {})) << EventsAfter(last_event).dump();
  EXPECT_EQ(RepositoryId("devs/app"), 0);
  EXPECT_EQ(Call("GET", absl::StrCat("/api/v1/repositories/", repo_id), alice_).status, 404);
  // Nothing failed or was rejected along the way.
  Reply problems = Call("GET", "/api/v1/events?status=failed,rejected", admin_);
  ASSERT_EQ(problems.status, 200);
  EXPECT_TRUE(problems.body.empty()) << problems.raw.body;
}

}  // namespace
}  // namespace portunus::harness
