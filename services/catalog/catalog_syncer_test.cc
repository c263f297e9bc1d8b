#include "services/catalog/catalog_syncer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/sync_coordinator.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::catalog {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

testing::FakeImage Img(const std::string& content) {
  testing::FakeImage i;
  i.layers = {content};
  return i;
}

class CatalogSyncerTest : public ::testing::Test {
 protected:
  CatalogSyncerTest() : store_(clock_) {}

  CatalogSyncer Syncer(CatalogSyncer::Options o = {}) {
    o.page_size = 2;  // exercise paging
    o.parallelism = 3;
    return CatalogSyncer(o, store_, registry_, access_, clock_);
  }

  SyncReport Run(bool deletes = true, bool dry_run = false, bool force = false,
                 CatalogSyncer::Options o = {}) {
    SyncReport r;
    r.dry_run = dry_run;
    r.force = force;
    CatalogSyncer s = Syncer(o);
    s.Run(deletes, &r);
    return r;
  }

  // n repositories with `tags` tags each, distinct images.
  void Fill(int n, int tags) {
    for (int i = 0; i < n; ++i) {
      for (int t = 0; t < tags; ++t) {
        registry_.PushImage(absl::StrCat("ns", i % 3, "/repo", i), absl::StrCat("t", t),
                            Img(absl::StrCat(i, "-", t)));
      }
    }
  }

  testing::FakeClock clock_;
  testing::FakeRegistryClient registry_;
  FakeAccessClient access_;
  FakeCatalogStore store_;
};

TEST_F(CatalogSyncerTest, FillsAnEmptyCatalogWithEverything) {
  Fill(5, 3);
  registry_.PushIndex("global", "multi", {Img("a"), Img("b")});
  SyncReport r = Run();
  EXPECT_EQ(r.state, SyncState::kSucceeded) << (r.failures.empty() ? "" : r.failures[0].error);
  EXPECT_EQ(r.repositories, 6);
  EXPECT_EQ(r.tags, 16);
  EXPECT_EQ(r.added, 16);
  EXPECT_EQ(r.deleted, 0);
  EXPECT_EQ(*store_.CountTags(), 16);
  std::optional<TagRecord> t = store_.FindTag("ns1/repo1", "t2");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->manifest.platforms.size(), 1u);
  EXPECT_GT(t->manifest.size, 0);
  EXPECT_EQ(store_.FindTag("global", "multi")->manifest.platforms.size(), 2u);
  EXPECT_EQ(access_.ensured("ns0"), 1);  // one namespace, several repositories
  EXPECT_EQ(r.changes.size(), 16u);
}

TEST_F(CatalogSyncerTest, ASecondPassOnlyLooksAtDigests) {
  Fill(4, 3);
  Run();
  const int64_t gets = registry_.calls("GetManifest");
  const int64_t writes = store_.writes();
  SyncReport r = Run();
  EXPECT_EQ(r.state, SyncState::kSucceeded);
  EXPECT_EQ(r.added + r.updated + r.deleted, 0);
  EXPECT_EQ(registry_.calls("GetManifest"), gets);  // HEAD only
  EXPECT_EQ(registry_.calls("HeadManifest"), 12);
  EXPECT_EQ(store_.writes(), writes);
}

TEST_F(CatalogSyncerTest, UpdatesMovedTagsAndDeletesWhatTheRegistryLost) {
  Fill(10, 5);  // 50 tags: deleting 4 stays under the brake
  Run();
  const std::string moved = registry_.PushImage("ns0/repo0", "t0", Img("new content"));
  registry_.RemoveTag("ns1/repo1", "t4");
  for (const char* t : {"t2", "t3", "t4"}) registry_.RemoveTag("ns0/repo9", t);
  SyncReport r = Run();
  EXPECT_EQ(r.state, SyncState::kSucceeded);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.deleted, 4);
  EXPECT_EQ(store_.Tags("ns0/repo0")["t0"], moved);
  EXPECT_FALSE(store_.FindTag("ns1/repo1", "t4").has_value());
  EXPECT_EQ(store_.Tags("ns0/repo9").size(), 2u);
}

TEST_F(CatalogSyncerTest, RemovesRepositoriesTheRegistryNoLongerLists) {
  Fill(20, 1);
  Run();
  registry_.RemoveRepository("ns0/repo0");
  registry_.RemoveTag("ns1/repo1", "t0");  // listed, but no tags left
  SyncReport r = Run();
  EXPECT_EQ(r.deleted, 2);
  EXPECT_EQ(r.repositories_deleted, 2);
  EXPECT_EQ(store_.GetRepositoryByName("ns0/repo0").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.GetRepositoryByName("ns1/repo1").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogSyncerTest, NeverDeletesForARepositoryWhoseListingFailed) {
  Fill(20, 2);
  Run();
  registry_.RemoveTag("ns0/repo0", "t1");
  registry_.RemoveTag("ns1/repo1", "t1");
  registry_.FailRepository("ns0/repo0", absl::UnavailableError("tags/list: 503"));
  SyncReport r = Run();
  EXPECT_EQ(r.state, SyncState::kPartial);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].repository, "ns0/repo0");
  EXPECT_THAT(r.failures[0].error, HasSubstr("503"));
  EXPECT_TRUE(store_.FindTag("ns0/repo0", "t1").has_value());  // kept
  EXPECT_FALSE(store_.FindTag("ns1/repo1", "t1").has_value());  // deleted
}

TEST_F(CatalogSyncerTest, ACatalogListingFailureChangesNothing) {
  Fill(3, 2);
  Run();
  registry_.RemoveRepository("ns0/repo0");
  registry_.FailCatalog(absl::UnavailableError("catalog: 503"));
  SyncReport r = Run();
  EXPECT_EQ(r.state, SyncState::kFailed);
  EXPECT_THAT(r.error, HasSubstr("503"));
  EXPECT_EQ(*store_.CountTags(), 6);
}

TEST_F(CatalogSyncerTest, TheSafetyBrakeWithholdsMassDeletionsUntilForced) {
  Fill(30, 2);  // 60 tags
  Run();
  for (int i = 0; i < 10; ++i) registry_.RemoveRepository(absl::StrCat("ns", i % 3, "/repo", i));
  registry_.PushImage("ns0/new", "v1", Img("fresh"));
  SyncReport braked = Run();
  EXPECT_EQ(braked.state, SyncState::kBraked);
  EXPECT_TRUE(braked.brake.engaged);
  EXPECT_EQ(braked.brake.would_delete, 20);
  EXPECT_EQ(braked.brake.known_tags, 60);
  EXPECT_THAT(braked.brake.reason, HasSubstr("20 of 60"));
  EXPECT_THAT(braked.brake.reason, HasSubstr("--force"));
  EXPECT_EQ(braked.deleted, 0);
  EXPECT_EQ(braked.added, 1);  // additions still applied
  EXPECT_EQ(*store_.CountTags(), 61);
  // Forced: applied.
  SyncReport forced = Run(true, false, true);
  EXPECT_EQ(forced.state, SyncState::kSucceeded);
  EXPECT_EQ(forced.deleted, 20);
  EXPECT_EQ(forced.repositories_deleted, 10);
  EXPECT_EQ(*store_.CountTags(), 41);
}

TEST_F(CatalogSyncerTest, TheBrakeIgnoresSmallCatalogsBelowItsMinimum) {
  Fill(2, 2);
  Run();
  registry_.RemoveRepository("ns0/repo0");  // 50% of 4 tags, but only 2 deletions
  EXPECT_EQ(Run().state, SyncState::kSucceeded);
  EXPECT_EQ(*store_.CountTags(), 2);
}

TEST_F(CatalogSyncerTest, ADryRunReportsTheDifferenceAndChangesNothing) {
  Fill(12, 1);
  Run();
  registry_.RemoveRepository("ns0/repo0");
  const std::string moved = registry_.PushImage("ns1/repo1", "t0", Img("moved"));
  registry_.PushImage("ns2/added", "v1", Img("added"));
  const int64_t writes = store_.writes();
  SyncReport r = Run(true, true);
  EXPECT_EQ(r.state, SyncState::kSucceeded);
  EXPECT_EQ(r.added, 1);
  EXPECT_EQ(r.updated, 1);
  EXPECT_EQ(r.deleted, 1);
  EXPECT_EQ(r.repositories_deleted, 1);
  EXPECT_EQ(store_.writes(), writes);
  std::vector<std::string> described;
  for (const SyncChange& c : r.changes) {
    described.push_back(absl::StrCat(static_cast<int>(c.kind), " ", c.repository, ":", c.tag, " ",
                                     c.old_digest.empty() ? "-" : "old", " ",
                                     c.new_digest == moved ? "moved" : (c.new_digest.empty() ? "-" : "new")));
  }
  EXPECT_THAT(described, UnorderedElementsAre("0 ns2/added:v1 - new", "1 ns1/repo1:t0 old moved",
                                              "2 ns0/repo0:t0 old -"));
}

TEST_F(CatalogSyncerTest, TheUpdateStrategyNeverDeletes) {
  Fill(3, 1);
  Run();
  registry_.RemoveRepository("ns0/repo0");
  SyncReport r = Run(/*deletes=*/false);
  EXPECT_EQ(r.deleted, 0);
  EXPECT_EQ(*store_.CountTags(), 3);
  EXPECT_THAT(r.changes, IsEmpty());
}

// A registry that lets the test act between the catalog's snapshot and the registry listing,
// like an event applied in the middle of a pass.
class InterleavingRegistry final : public RegistryClient {
 public:
  InterleavingRegistry(RegistryClient& inner, std::function<void(const std::string&)> on_list)
      : inner_(inner), on_list_(std::move(on_list)) {}
  absl::Status Ping() override { return inner_.Ping(); }
  absl::Status Catalog(int n, const std::function<absl::Status(std::vector<std::string>)>& f) override {
    return inner_.Catalog(n, f);
  }
  absl::StatusOr<std::vector<std::string>> ListTags(absl::string_view repo) override {
    on_list_(std::string(repo));
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
    return inner_.PutManifest(r, ref, mt, b);
  }
  absl::Status DeleteManifest(absl::string_view r, absl::string_view d) override {
    return inner_.DeleteManifest(r, d);
  }

 private:
  RegistryClient& inner_;
  std::function<void(const std::string&)> on_list_;
};

TEST_F(CatalogSyncerTest, AnEventDuringThePassIsNeverUndone) {
  Fill(1, 2);  // ns0/repo0: t0, t1
  Run();
  const std::string old_t0 = store_.Tags("ns0/repo0")["t0"];
  // Between the snapshot and the listing, an event moves t0 to a digest the registry will not
  // show this pass (the registry's answer is older than the event).
  const std::string newer = registry_.PushImage("ns0/repo0", "other", Img("newer"));
  InterleavingRegistry wrapped(registry_, [&](const std::string& repo) {
    if (repo != "ns0/repo0") return;
    ASSERT_TRUE(store_.Write([&](CatalogWriter& w) -> absl::Status {
      PutTagRequest put;
      put.repository = repo;
      put.namespace_name = "ns0";
      put.tag = "t0";
      put.manifest.digest = newer;
      put.manifest.media_type = kMediaTypeOciManifest;
      put.at = clock_.Now();
      return w.PutTag(put).status();
    }).ok());
  });
  SyncReport r;
  CatalogSyncer(CatalogSyncer::Options{}, store_, wrapped, access_, clock_).Run(true, &r);
  // The pass saw t0 at old_t0 in the registry but must not put it back over the newer write.
  EXPECT_EQ(store_.Tags("ns0/repo0")["t0"], newer);
  EXPECT_NE(newer, old_t0);
}

TEST_F(CatalogSyncerTest, ARepositoryPushedAgainDuringThePassKeepsItsNewTags) {
  Fill(1, 1);  // ns0/repo0:t0
  registry_.PushImage("other/x", "v1", Img("x"));
  Run();
  registry_.RemoveRepository("ns0/repo0");  // gone from the registry's catalog...
  const std::string fresh = registry_.PushImage("elsewhere/y", "v1", Img("fresh"));
  // ...and pushed again after the pass listed the catalog: its event lands mid-pass.
  InterleavingRegistry wrapped(registry_, [&](const std::string& repo) {
    if (repo != "other/x") return;
    ASSERT_TRUE(store_.Write([&](CatalogWriter& w) -> absl::Status {
      PutTagRequest put;
      put.repository = "ns0/repo0";
      put.namespace_name = "ns0";
      put.tag = "fresh";
      put.manifest.digest = fresh;
      put.manifest.media_type = kMediaTypeOciManifest;
      put.at = clock_.Now();
      return w.PutTag(put).status();
    }).ok());
  });
  SyncReport r;
  CatalogSyncer(CatalogSyncer::Options{}, store_, wrapped, access_, clock_).Run(true, &r);
  EXPECT_EQ(r.deleted, 1);  // t0 only
  EXPECT_EQ(r.repositories_deleted, 0);
  EXPECT_EQ(store_.Tags("ns0/repo0").size(), 1u);
  EXPECT_EQ(store_.Tags("ns0/repo0").count("fresh"), 1u);
}

// ----- coordinator -----

class SyncCoordinatorTest : public CatalogSyncerTest {
 protected:
  SyncCoordinator::Options Opts(const std::string& strategy) {
    SyncCoordinator::Options o;
    o.strategy = strategy;
    o.interval = absl::Hours(1);
    o.replica = "test";
    return o;
  }
  FakeSyncRunStore runs_;
  FakeSyncLock::Shared shared_;
};

TEST_F(SyncCoordinatorTest, InitialRunsOnlyOnAnEmptyCatalog) {
  Fill(2, 1);
  CatalogSyncer syncer = Syncer();
  {
    FakeSyncLock lock(shared_);
    SyncCoordinator c(Opts("initial"), syncer, runs_, lock, store_, clock_);
    c.Start();
    c.WaitStartup();
    c.Stop();
    EXPECT_EQ(runs_.List(10)->size(), 1u);
    EXPECT_EQ(runs_.List(10)->front().trigger, "startup");
    EXPECT_EQ(*store_.CountTags(), 2);
  }
  {
    FakeSyncLock lock(shared_);
    SyncCoordinator c(Opts("initial"), syncer, runs_, lock, store_, clock_);
    c.Start();
    c.WaitStartup();
    c.Stop();
    EXPECT_EQ(runs_.List(10)->size(), 1u);  // not empty any more: no pass
  }
  {
    FakeSyncLock lock(shared_);
    SyncCoordinator c(Opts("on-start"), syncer, runs_, lock, store_, clock_);
    c.Start();
    c.WaitStartup();
    c.Stop();
    EXPECT_EQ(runs_.List(10)->size(), 2u);
  }
}

TEST_F(SyncCoordinatorTest, OnlyOnePassAtATimeAcrossReplicas) {
  Fill(2, 1);
  CatalogSyncer syncer = Syncer();
  FakeSyncLock lock_a(shared_), lock_b(shared_);
  SyncCoordinator a(Opts("initial"), syncer, runs_, lock_a, store_, clock_);
  SyncCoordinator b(Opts("initial"), syncer, runs_, lock_b, store_, clock_);
  ASSERT_TRUE(lock_a.TryAcquire().ok());  // replica A is syncing
  absl::StatusOr<SyncReport> r = b.StartPass("api", false, false);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(r.status().message(), HasSubstr("another catalog replica"));
  lock_a.Release();
  r = b.StartPass("api", true, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, SyncState::kRunning);
  EXPECT_TRUE(r->dry_run);
  b.WaitIdle();
  absl::StatusOr<SyncReport> done = b.Get(r->id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, SyncState::kSucceeded);
  EXPECT_EQ(done->added, 2);
  EXPECT_EQ(*store_.CountTags(), 0);  // dry run
}

TEST_F(SyncCoordinatorTest, StatusReportsTheBrakeUntilAForcedPass) {
  Fill(30, 1);
  CatalogSyncer syncer = Syncer();
  FakeSyncLock lock(shared_);
  SyncCoordinator c(Opts("update-delete"), syncer, runs_, lock, store_, clock_);
  ASSERT_TRUE(c.RunPass("api", false, false).ok());
  for (int i = 0; i < 12; ++i) registry_.RemoveRepository(absl::StrCat("ns", i % 3, "/repo", i));
  absl::StatusOr<SyncReport> braked = c.RunPass("schedule", false, false);
  ASSERT_TRUE(braked.ok());
  EXPECT_EQ(braked->state, SyncState::kBraked);
  absl::StatusOr<SyncStatusInfo> st = c.Status();
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->brake_engaged);
  EXPECT_THAT(st->brake_reason, HasSubstr("12 of 30"));
  EXPECT_EQ(st->interval, absl::Hours(1));
  // A dry run does not release it; a forced pass does.
  ASSERT_TRUE(c.RunPass("api", true, false).ok());
  EXPECT_TRUE(c.Status()->brake_engaged);
  ASSERT_TRUE(c.RunPass("api", false, true).ok());
  EXPECT_FALSE(c.Status()->brake_engaged);
  EXPECT_EQ(*store_.CountTags(), 18);
}

}  // namespace
}  // namespace portunus::catalog
