#include "services/catalog/catalog_api.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/catalog_syncer.h"
#include "services/catalog/event_processor.h"
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

// A registry that runs `on_put` before the first PutManifest after a DeleteManifest: the
// moment a single-tag delete has deleted the manifest and not yet put it back under the
// siblings. Can also fail every PutManifest after the delete.
class WindowRegistry final : public RegistryClient {
 public:
  WindowRegistry(RegistryClient& inner, std::function<void()> on_put)
      : inner_(inner), on_put_(std::move(on_put)) {}
  absl::Status Ping() override { return inner_.Ping(); }
  absl::Status Catalog(int n, const std::function<absl::Status(std::vector<std::string>)>& f) override {
    return inner_.Catalog(n, f);
  }
  absl::StatusOr<std::vector<std::string>> ListTags(absl::string_view repo) override {
    return inner_.ListTags(repo);
  }
  absl::StatusOr<FetchedManifest> GetManifest(absl::string_view r, absl::string_view ref) override {
    return inner_.GetManifest(r, ref);
  }
  absl::StatusOr<ManifestHead> HeadManifest(absl::string_view r, absl::string_view ref) override {
    return inner_.HeadManifest(r, ref);
  }
  absl::StatusOr<int64_t> GetBlob(absl::string_view r, absl::string_view d,
                                  const std::function<absl::Status(absl::string_view)>& f) override {
    return inner_.GetBlob(r, d, f);
  }
  absl::StatusOr<std::string> PutManifest(absl::string_view r, absl::string_view ref,
                                          absl::string_view mt, absl::string_view b) override {
    if (deleted_ && !fail_after_delete_.ok()) {
      ++failed_puts_;
      return fail_after_delete_;
    }
    if (deleted_ && on_put_) std::exchange(on_put_, nullptr)();
    return inner_.PutManifest(r, ref, mt, b);
  }
  absl::Status DeleteManifest(absl::string_view r, absl::string_view d) override {
    deleted_ = true;
    return inner_.DeleteManifest(r, d);
  }
  void FailPutsAfterDelete(absl::Status s) { fail_after_delete_ = std::move(s); }
  int failed_puts() const { return failed_puts_; }

 private:
  RegistryClient& inner_;
  std::function<void()> on_put_;
  bool deleted_ = false;
  absl::Status fail_after_delete_;
  int failed_puts_ = 0;
};

NewEvent DeleteEvent(const std::string& id, const std::string& repo, const std::string& tag,
                     const std::string& digest) {
  NewEvent e;
  e.event_id = id;
  e.action = "delete";
  e.repository = repo;
  e.tag = tag;
  e.digest = digest;
  return e;
}

TEST_F(CatalogApiTest, EventsAndSyncInsideThePutBackWindowKeepTheSiblingsAndTheRepositoryId) {
  // team/app: v1 and v2 share a digest; v3 goes first so that v1 + v2 are all that is left.
  ASSERT_TRUE(api_.DeleteTag(As("alice"), TagId("team/app", "v3")).ok());
  const int64_t repo_id = RepoId("team/app");
  const int64_t v2_id = TagId("team/app", "v2");
  const std::string v2_author = store_.FindTag("team/app", "v2")->author;

  FakeEventStore events(store_, clock_);
  EventProcessor processor(EventProcessor::Options{}, events, registry_, access_, clock_);
  bool window_seen = false;
  WindowRegistry registry(registry_, [&] {
    // Inside the window: the registry has neither v1 nor v2. Its delete events are applied,
    // and a sync pass runs.
    window_seen = true;
    EXPECT_TRUE(registry_.Tags("team/app").empty());
    ASSERT_TRUE(events.Insert({DeleteEvent("d1", "team/app", "", shared_),
                               DeleteEvent("d2", "team/app", "v2", "")}).ok());
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(*processor.ProcessOne());
    SyncReport r;
    CatalogSyncer(CatalogSyncer::Options{}, store_, registry_, access_, clock_).Run(true, &r);
    EXPECT_EQ(r.deleted, 0);
    EXPECT_EQ(store_.Tags("team/app").count("v2"), 1u);
  });
  CatalogApi api({}, store_, registry, access_, clock_);
  absl::StatusOr<std::vector<std::string>> restored = api.DeleteTag(As("alice"), TagId("team/app", "v1"));
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE(window_seen);
  EXPECT_THAT(*restored, ElementsAre("v2"));
  for (const StoredEvent& e : events.All()) EXPECT_EQ(e.event.status, EventStatus::kDone);

  // The put-back's push event changes nothing: same repository, same tag row, same author.
  NewEvent push = DeleteEvent("p1", "team/app", "v2", shared_);
  push.action = "push";
  push.actor = "portunus";
  ASSERT_TRUE(events.Insert({push}).ok());
  ASSERT_TRUE(*processor.ProcessOne());
  EXPECT_EQ(RepoId("team/app"), repo_id);
  EXPECT_EQ(TagId("team/app", "v2"), v2_id);
  EXPECT_EQ(store_.FindTag("team/app", "v2")->author, v2_author);
  EXPECT_EQ(store_.Tags("team/app").size(), 1u);
  EXPECT_EQ(store_.put_backs(), 0u);  // forgotten once the delete finished
}

TEST_F(CatalogApiTest, AnExpiredPutBackNoLongerKeepsATag) {
  // A delete whose replica died inside the window: the record protects the siblings for
  // put_back_ttl only, then delete events (or the next sync) remove what the registry lacks.
  ASSERT_TRUE(store_.Write([&](CatalogWriter& w) {
    return w.RecordPutBacks("team/app", shared_, {"v2"}, clock_.Now() + absl::Minutes(10));
  }).ok());
  ASSERT_TRUE(registry_.DeleteManifest("team/app", shared_).ok());
  FakeEventStore events(store_, clock_);
  EventProcessor processor(EventProcessor::Options{}, events, registry_, access_, clock_);
  ASSERT_TRUE(events.Insert({DeleteEvent("d1", "team/app", "v2", "")}).ok());
  ASSERT_TRUE(*processor.ProcessOne());
  EXPECT_EQ(store_.Tags("team/app").count("v2"), 1u);
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(events.Insert({DeleteEvent("d3", "team/app", "v2", "")}).ok());
  ASSERT_TRUE(*processor.ProcessOne());
  EXPECT_EQ(store_.Tags("team/app").count("v2"), 0u);
  ASSERT_TRUE(store_.Write([&](CatalogWriter& w) { return w.ClearPutBacks("team/app", {}, clock_.Now()); }).ok());
  EXPECT_EQ(store_.put_backs(), 0u);  // expired records go with any later clear
}

TEST_F(CatalogApiTest, APutBackTheRegistryRefusesDeletesNothing) {
  // With token auth, the catalog's principal may not push: the probe before the delete fails.
  registry_.FailMethod("PutManifest", absl::UnauthenticatedError("token refused (insufficient_scope)"));
  absl::StatusOr<std::vector<std::string>> r = api_.DeleteTag(As("alice"), TagId("team/app", "v1"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("v2 point at the same manifest"));
  EXPECT_THAT(r.status().message(), HasSubstr("nothing was deleted"));
  EXPECT_EQ(registry_.calls("DeleteManifest"), 0);
  EXPECT_EQ(registry_.Tags("team/app").size(), 3u);
  EXPECT_EQ(store_.Tags("team/app").size(), 3u);
  EXPECT_EQ(store_.put_backs(), 0u);
}

TEST_F(CatalogApiTest, APutBackFailureNamesTheMissingTags) {
  // The probe succeeds; every put-back after the delete fails.
  WindowRegistry failing(registry_, nullptr);
  failing.FailPutsAfterDelete(absl::UnavailableError("503"));
  CatalogApi api({}, store_, failing, access_, clock_);
  const int64_t puts = registry_.calls("PutManifest");
  absl::StatusOr<std::vector<std::string>> r = api.DeleteTag(As("alice"), TagId("team/app", "v1"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("back under v2"));
  EXPECT_EQ(failing.failed_puts(), 3);  // retried
  EXPECT_EQ(registry_.calls("PutManifest") - puts, 1);  // the probe
  // The catalog follows the registry: v1 and the lost v2 are gone, v3 stays.
  EXPECT_EQ(registry_.Tags("team/app").size(), 1u);
  EXPECT_EQ(store_.Tags("team/app").size(), 1u);
  EXPECT_EQ(store_.Tags("team/app").count("v3"), 1u);
  EXPECT_EQ(store_.put_backs(), 0u);
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
