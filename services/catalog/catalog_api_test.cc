#include "services/catalog/catalog_api.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_syncer.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<RepositoryRecord>& repos) {
  std::vector<std::string> out;
  for (const RepositoryRecord& r : repos) out.push_back(r.full_name);
  return out;
}

class CatalogApiTest : public ::testing::Test {
 protected:
  CatalogApiTest() : store_(clock_), api_({}, store_, registry_, access_, clock_) {
    access_.AddNamespace("public", true);
    access_.AddNamespace("team", false, {"alice", "bob"}, {"alice"});
    access_.AddNamespace("secret", false, {"carol"}, {"carol"});
    access_.AddCaller("alice", Caller{Caller::Kind::kUser, 1, "alice", false});
    access_.AddCaller("bob", Caller{Caller::Kind::kUser, 2, "bob", false});
    access_.AddCaller("admin", Caller{Caller::Kind::kUser, 3, "admin", true});
    access_.AddCaller("portunus", Caller{Caller::Kind::kInternal, 0, "portunus", false});
    testing::FakeImage a, b;
    b.layers = {"other"};
    shared_ = registry_.PushImage("team/app", "v1", a);
    EXPECT_TRUE(registry_.PutManifest("team/app", "v2", kMediaTypeOciManifest,
                                      registry_.GetManifest("team/app", shared_)->body).ok());
    registry_.PushImage("team/app", "v3", b);
    registry_.PushImage("public/web", "latest", a);
    registry_.PushImage("secret/db", "1.0", b);
    registry_.PushImage("busybox", "latest", a);
    SyncReport r;
    CatalogSyncer(CatalogSyncer::Options{}, store_, registry_, access_, clock_).Run(true, &r);
    EXPECT_EQ(r.added, 6);
  }

  Caller As(const std::string& who) { return *access_.Authenticate({who, ""}); }
  PageRequest Page(int page = 1, int per_page = 25) {
    PageRequest p;
    p.page = page;
    p.per_page = per_page;
    return p;
  }
  int64_t RepoId(const std::string& name) { return store_.GetRepositoryByName(name)->id; }
  int64_t TagId(const std::string& repo, const std::string& tag) { return store_.FindTag(repo, tag)->id; }

  testing::FakeClock clock_;
  testing::FakeRegistryClient registry_;
  FakeAccessClient access_;
  FakeCatalogStore store_;
  CatalogApi api_;
  std::string shared_;
};

TEST_F(CatalogApiTest, ListingsShowOnlyWhatTheCallerMayPull) {
  auto anon = api_.ListRepositories(Caller{}, 0, "", Page());
  ASSERT_TRUE(anon.ok());
  EXPECT_THAT(Names(anon->first), ElementsAre("busybox", "public/web"));
  auto bob = api_.ListRepositories(As("bob"), 0, "", Page());
  EXPECT_THAT(Names(bob->first), ElementsAre("busybox", "public/web", "team/app"));
  auto admin = api_.ListRepositories(As("admin"), 0, "", Page());
  EXPECT_EQ(admin->second, 4);
  // Paging.
  auto page2 = api_.ListRepositories(As("admin"), 0, "", Page(2, 3));
  EXPECT_THAT(Names(page2->first), ElementsAre("team/app"));
  EXPECT_EQ(page2->second, 4);
  // Namespace and search.
  auto ns = api_.ListRepositories(As("admin"), access_.NamespaceId("secret"), "", Page());
  EXPECT_THAT(Names(ns->first), ElementsAre("secret/db"));
  auto found = api_.ListRepositories(As("bob"), 0, "APP", Page());
  EXPECT_THAT(Names(found->first), ElementsAre("team/app"));
  EXPECT_THAT(Names(api_.ListRepositories(As("bob"), 0, "db", Page())->first), ElementsAre());
}

TEST_F(CatalogApiTest, HiddenItemsAreNotFoundAndAnonymousBrowsingCanBeOff) {
  EXPECT_EQ(api_.GetRepository(As("bob"), RepoId("secret/db")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(api_.GetTag(Caller{}, TagId("team/app", "v1")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(api_.GetTag(Caller{}, TagId("public/web", "latest")).ok());
  CatalogApi closed({false}, store_, registry_, access_, clock_);
  EXPECT_EQ(closed.ListRepositories(Caller{}, 0, "", Page()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(closed.ListRepositories(As("bob"), 0, "", Page()).ok());
  EXPECT_EQ(api_.ListAllTags(As("bob"), Page()).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api_.ListAllTags(Caller{}, Page()).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(api_.ListAllTags(As("admin"), Page())->second, 6);
}

TEST_F(CatalogApiTest, TagsAndGroups) {
  auto tags = api_.ListTags(As("bob"), RepoId("team/app"), Page());
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->second, 3);
  auto groups = api_.GroupedTags(As("bob"), RepoId("team/app"));
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  bool found_shared = false;
  for (const TagGroupRecord& g : *groups) {
    if (g.digest != shared_) continue;
    found_shared = true;
    ASSERT_EQ(g.tags.size(), 2u);
    EXPECT_EQ(g.tags[0].name, "v1");
    EXPECT_EQ(g.tags[1].name, "v2");
  }
  EXPECT_TRUE(found_shared);
}

TEST_F(CatalogApiTest, DeletingATagKeepsItsSiblings) {
  EXPECT_EQ(api_.DeleteTag(As("bob"), TagId("team/app", "v1")).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(api_.DeleteTag(Caller{}, TagId("public/web", "latest")).status().code(),
            absl::StatusCode::kUnauthenticated);
  absl::StatusOr<std::vector<std::string>> restored = api_.DeleteTag(As("alice"), TagId("team/app", "v1"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_THAT(*restored, ElementsAre("v2"));
  // The registry: v1 gone, v2 back at the same digest, v3 untouched.
  std::map<std::string, std::string> tags = registry_.Tags("team/app");
  EXPECT_EQ(tags.count("v1"), 0u);
  EXPECT_EQ(tags["v2"], shared_);
  EXPECT_EQ(tags.size(), 2u);
  EXPECT_EQ(store_.Tags("team/app").count("v1"), 0u);
  EXPECT_EQ(store_.Tags("team/app").size(), 2u);
}

TEST_F(CatalogApiTest, APutBackFailureNamesTheMissingTags) {
  registry_.FailMethod("PutManifest", absl::UnavailableError("503"));
  const int64_t puts = registry_.calls("PutManifest");
  absl::StatusOr<std::vector<std::string>> r = api_.DeleteTag(As("alice"), TagId("team/app", "v1"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("back under v2"));
  EXPECT_EQ(registry_.calls("PutManifest") - puts, 3);  // retried
  // The catalog follows the registry through the delete events that follow.
  EXPECT_EQ(registry_.Tags("team/app").size(), 1u);
}

TEST_F(CatalogApiTest, DeletesDisabledInTheRegistryChangeNothing) {
  registry_.FailMethod("DeleteManifest", absl::FailedPreconditionError("405 UNSUPPORTED"));
  absl::StatusOr<std::vector<std::string>> r = api_.DeleteTag(As("alice"), TagId("team/app", "v1"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_.Tags("team/app").size(), 3u);
  EXPECT_EQ(registry_.Tags("team/app").size(), 3u);
}

TEST_F(CatalogApiTest, DeletingARepositoryDeletesEveryManifest) {
  absl::StatusOr<int> n = api_.DeleteRepository(As("alice"), RepoId("team/app"));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(registry_.Tags("team/app").empty());
  EXPECT_EQ(store_.GetRepositoryByName("team/app").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(api_.DeleteRepository(As("alice"), RepoId("secret/db")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(CatalogApiTest, TheFeedIsForTheScannerAndAdmins) {
  EXPECT_EQ(api_.ListFeed(As("bob"), 0, 10).status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<CatalogStore::FeedPage> feed = api_.ListFeed(As("portunus"), 0, 3);
  ASSERT_TRUE(feed.ok());
  EXPECT_EQ(feed->entries.size(), 3u);
  EXPECT_EQ(feed->oldest_seq, 1);
  absl::StatusOr<CatalogStore::FeedPage> rest = api_.ListFeed(As("portunus"), feed->entries.back().seq, 100);
  EXPECT_EQ(feed->entries.size() + rest->entries.size(), static_cast<size_t>(feed->latest_seq));
  EXPECT_EQ(api_.ListFeed(As("admin"), 0, 5000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(api_.GetManifest(As("portunus"), "team/app", shared_).ok());
  EXPECT_EQ(api_.GetManifest(As("portunus"), "team/app", "v1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace portunus::catalog
