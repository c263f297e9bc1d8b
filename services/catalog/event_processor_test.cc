#include "services/catalog/event_processor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/event_ingestor.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/notification_parser.h"
#include "services/catalog/testdata/registry_events.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

NewEvent Event(const std::string& id, const std::string& action, const std::string& repo,
               const std::string& tag, const std::string& digest, const std::string& actor = "alice") {
  NewEvent e;
  e.event_id = id;
  e.action = action;
  e.repository = repo;
  e.tag = tag;
  e.digest = digest;
  e.actor = actor;
  e.media_type = kMediaTypeOciManifest;
  return e;
}

class EventProcessorTest : public ::testing::Test {
 protected:
  EventProcessorTest()
      : catalog_(clock_),
        events_(catalog_, clock_),
        processor_(Options(), events_, registry_, access_, clock_) {}

  static EventProcessor::Options Options() {
    EventProcessor::Options o;
    o.retry.max_attempts = 3;
    o.retry.initial_backoff = absl::Seconds(1);
    return o;
  }

  void Enqueue(std::vector<NewEvent> events) { ASSERT_TRUE(events_.Insert(events).ok()); }

  // Processes until nothing is ready; returns how many were processed.
  int Drain() {
    int n = 0;
    for (;;) {
      absl::StatusOr<bool> r = processor_.ProcessOne();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || !*r) return n;
      ++n;
    }
  }

  StoredEvent Find(const std::string& event_id) {
    for (const StoredEvent& e : events_.All()) {
      if (e.event.event_id == event_id) return e;
    }
    ADD_FAILURE() << "no event " << event_id;
    return {};
  }

  testing::FakeClock clock_;
  testing::FakeRegistryClient registry_;
  FakeAccessClient access_;
  FakeCatalogStore catalog_;
  FakeEventStore events_;
  EventProcessor processor_;
};

TEST_F(EventProcessorTest, PushRecordsTheManifestItsConfigAndTheAuthor) {
  testing::FakeImage image;
  image.architecture = "arm64";
  image.variant = "v8";
  image.layers = {"aaaa", "bbbbbb"};
  const std::string digest = registry_.PushImage("team/app", "v1", image);
  NewEvent push = Event("e1", "push", "team/app", "v1", digest, "alice");
  push.event_time = absl::FromUnixSeconds(1800000000);
  Enqueue({push});
  EXPECT_EQ(Drain(), 1);

  std::optional<TagRecord> tag = catalog_.FindTag("team/app", "v1");
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->digest, digest);
  EXPECT_EQ(tag->author, "alice");
  EXPECT_EQ(tag->created_at, absl::FromUnixSeconds(1800000000));
  const testing::BuiltImage built = testing::BuildImage(image);
  EXPECT_EQ(tag->manifest.size, built.total_size);
  EXPECT_EQ(tag->manifest.config_digest, built.config_digest);
  EXPECT_EQ(tag->manifest.media_type, kMediaTypeOciManifest);
  EXPECT_THAT(tag->manifest.platforms, ElementsAre(Platform{"linux", "arm64", "v8", ""}));
  ASSERT_EQ(tag->manifest.layers.size(), 2u);
  EXPECT_EQ(tag->manifest.layers[1].size, 6);
  EXPECT_EQ(tag->manifest.image_created, absl::FromUnixSeconds(1793527200));  // 2026-11-01T10:00Z
  EXPECT_EQ(Find("e1").event.status, EventStatus::kDone);
  // The namespace was created in auth (orphan), once.
  EXPECT_EQ(access_.ensured("team"), 1);
  EXPECT_EQ(catalog_.GetRepositoryByName("team/app")->namespace_id, access_.NamespaceId("team"));
  // New manifests go into the scanner's feed.
  absl::StatusOr<CatalogStore::FeedPage> feed = catalog_.ListFeed(0, 10);
  ASSERT_TRUE(feed.ok());
  ASSERT_EQ(feed->entries.size(), 1u);
  EXPECT_EQ(feed->entries[0].digest, digest);
  EXPECT_EQ(feed->entries[0].repository, "team/app");
}

TEST_F(EventProcessorTest, IndexRecordsEveryPlatformAndTheSummedSize) {
  testing::FakeImage amd64, arm;
  arm.architecture = "arm";
  arm.variant = "v7";
  arm.layers = {"xyz"};
  const std::string digest = registry_.PushIndex("app", "multi", {amd64, arm});
  Enqueue({Event("e1", "push", "app", "multi", digest)});
  EXPECT_EQ(Drain(), 1);
  std::optional<TagRecord> tag = catalog_.FindTag("app", "multi");
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->manifest.media_type, kMediaTypeOciIndex);
  ASSERT_EQ(tag->manifest.platforms.size(), 2u);
  EXPECT_EQ(tag->manifest.platforms[0].architecture, "amd64");
  EXPECT_EQ(tag->manifest.platforms[1].architecture, "arm");
  EXPECT_EQ(tag->manifest.platforms[1].variant, "v7");
  EXPECT_EQ(tag->manifest.size,
            testing::BuildImage(amd64).total_size + testing::BuildImage(arm).total_size);
  // The global namespace (no '/') is never "ensured".
  EXPECT_EQ(access_.ensured(""), 0);
}

TEST_F(EventProcessorTest, AManifestGoneFromTheRegistryIsSkipped) {
  const std::string digest = registry_.PushImage("team/app", "v1");
  ASSERT_TRUE(registry_.DeleteManifest("team/app", digest).ok());
  Enqueue({Event("e1", "push", "team/app", "v1", digest)});
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("e1").event.status, EventStatus::kDone);
  EXPECT_FALSE(catalog_.FindTag("team/app", "v1").has_value());
}

TEST_F(EventProcessorTest, DeleteByDigestRemovesItsTagsAndTheEmptyRepository) {
  const std::string d1 = registry_.PushImage("team/app", "v1");
  ASSERT_TRUE(registry_.PutManifest("team/app", "v2", kMediaTypeOciManifest,
                                    registry_.GetManifest("team/app", d1)->body).ok());
  Enqueue({Event("p1", "push", "team/app", "v1", d1), Event("p2", "push", "team/app", "v2", d1)});
  EXPECT_EQ(Drain(), 2);
  ASSERT_EQ(catalog_.Tags("team/app").size(), 2u);
  ASSERT_TRUE(registry_.DeleteManifest("team/app", d1).ok());
  Enqueue({Event("d1", "delete", "team/app", "", d1), Event("d2", "delete", "team/app", "v1", ""),
           Event("d3", "delete", "team/app", "v2", "")});
  EXPECT_EQ(Drain(), 3);
  EXPECT_THAT(catalog_.Tags("team/app"), IsEmpty());
  EXPECT_EQ(catalog_.GetRepositoryByName("team/app").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(EventProcessorTest, DeleteKeepsATagTheRegistryHasAgain) {
  // Deleting v1 through Portunus: the manifest is deleted and put back under v2, so the
  // registry sends "delete digest", "delete v1", "delete v2", "push v2".
  const std::string d = registry_.PushImage("team/app", "v1");
  ASSERT_TRUE(registry_.PutManifest("team/app", "v2", kMediaTypeOciManifest,
                                    registry_.GetManifest("team/app", d)->body).ok());
  Enqueue({Event("p1", "push", "team/app", "v1", d), Event("p2", "push", "team/app", "v2", d)});
  Drain();
  const int64_t repo_id = catalog_.GetRepositoryByName("team/app")->id;
  registry_.RemoveTag("team/app", "v1");  // the registry's state after the put-back
  Enqueue({Event("d1", "delete", "team/app", "", d), Event("d2", "delete", "team/app", "v1", ""),
           Event("d3", "delete", "team/app", "v2", ""), Event("p3", "push", "team/app", "v2", d)});
  EXPECT_EQ(Drain(), 4);
  EXPECT_THAT(catalog_.Tags("team/app"), ElementsAre(std::make_pair(std::string("v2"), d)));
  // The repository was never empty, so it kept its id.
  EXPECT_EQ(catalog_.GetRepositoryByName("team/app")->id, repo_id);
}

TEST_F(EventProcessorTest, PullsUpdateLastPulledAtMostOncePerMinute) {
  const std::string d = registry_.PushImage("team/app", "v1");
  Enqueue({Event("p1", "push", "team/app", "v1", d)});
  Drain();
  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  auto pull = [&](const std::string& id, absl::Time at, const std::string& tag) {
    NewEvent e = Event(id, "pull", "team/app", tag, d, "bob");
    e.event_time = at;
    return e;
  };
  Enqueue({pull("u1", t0, "v1"), pull("u2", t0 + absl::Seconds(30), "v1")});
  Drain();
  EXPECT_EQ(catalog_.FindTag("team/app", "v1")->pulled_at, t0);
  Enqueue({pull("u3", t0 + absl::Seconds(61), "v1")});
  Drain();
  EXPECT_EQ(catalog_.FindTag("team/app", "v1")->pulled_at, t0 + absl::Seconds(61));
  // A pull by digest (no tag) updates the tags pointing at it.
  Enqueue({pull("u4", t0 + absl::Minutes(5), "")});
  Drain();
  EXPECT_EQ(catalog_.FindTag("team/app", "v1")->pulled_at, t0 + absl::Minutes(5));
  // A mount records nothing and is done.
  Enqueue({Event("m1", "mount", "team/app", "", d)});
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("m1").event.status, EventStatus::kDone);
}

TEST_F(EventProcessorTest, RegistryOutagesAreRetriedWithBackoffThenFail) {
  const std::string d = registry_.PushImage("team/app", "v1");
  Enqueue({Event("e1", "push", "team/app", "v1", d)});
  registry_.FailRepository("team/app", absl::UnavailableError("registry down"));
  EXPECT_EQ(Drain(), 1);
  StoredEvent e = Find("e1");
  EXPECT_EQ(e.event.status, EventStatus::kPending);
  EXPECT_EQ(e.attempts, 1);
  EXPECT_THAT(e.last_error, HasSubstr("registry down"));
  EXPECT_EQ(e.next_attempt_at, clock_.Now() + absl::Seconds(1));
  EXPECT_EQ(Drain(), 0);  // not due yet
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("e1").next_attempt_at, clock_.Now() + absl::Seconds(2));  // doubled
  clock_.Advance(absl::Seconds(2));
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("e1").event.status, EventStatus::kFailed);  // max_attempts = 3
  EXPECT_EQ(processor_.failures_total(), 3);
  // An admin puts it back once the registry is fine.
  registry_.FailRepository("team/app", absl::OkStatus());
  ASSERT_TRUE(events_.Retry(Find("e1").id, clock_.Now()).ok());
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("e1").event.status, EventStatus::kDone);
  EXPECT_TRUE(catalog_.FindTag("team/app", "v1").has_value());
}

TEST_F(EventProcessorTest, MalformedManifestsFailAtOnce) {
  const std::string d =
      registry_.PutRawManifest("team/app", "v1", kMediaTypeOciManifest, "{\"schemaVersion\":2}");
  Enqueue({Event("e1", "push", "team/app", "v1", d)});
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(Find("e1").event.status, EventStatus::kFailed);
  EXPECT_THAT(Find("e1").last_error, HasSubstr("has no config"));
}

TEST_F(EventProcessorTest, EventsOfOneRepositoryWaitForTheEarlierOne) {
  const std::string d1 = registry_.PushImage("team/app", "v1");
  const std::string d2 = registry_.PushImage("other/app", "v1");
  Enqueue({Event("a1", "push", "team/app", "v1", d1), Event("b1", "push", "other/app", "v1", d2),
           Event("a2", "delete", "team/app", "v1", "")});
  registry_.FailRepository("team/app", absl::UnavailableError("flaky"));
  Drain();
  // a1 waits for its retry; a2 must not overtake it; b1 (another repository) went ahead.
  EXPECT_EQ(Find("a1").event.status, EventStatus::kPending);
  EXPECT_EQ(Find("a2").event.status, EventStatus::kPending);
  EXPECT_EQ(Find("a2").attempts, 0);
  EXPECT_EQ(Find("b1").event.status, EventStatus::kDone);
  registry_.FailRepository("team/app", absl::OkStatus());
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Drain(), 2);
  EXPECT_EQ(Find("a2").event.status, EventStatus::kDone);
}

TEST_F(EventProcessorTest, AFailedApplyLeavesNoPartialChanges) {
  const std::string d = registry_.PushImage("team/app", "v1");
  access_.FailNextCall(absl::UnavailableError("auth down"));  // EnsureNamespace fails
  Enqueue({Event("e1", "push", "team/app", "v1", d)});
  Drain();
  EXPECT_EQ(Find("e1").event.status, EventStatus::kPending);
  EXPECT_THAT(Find("e1").last_error, HasSubstr("auth down"));
  EXPECT_EQ(catalog_.GetRepositoryByName("team/app").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalog_.ListFeed(0, 10)->entries.size(), 0u);
}

TEST_F(EventProcessorTest, TheRealFixturesFlowThroughIngestAndProcessing) {
  // The manifests the fixtures name exist in the (fake) registry under those digests.
  EventIngestor ingestor({"hook-secret-123"}, events_);
  const char* ct = "application/vnd.docker.distribution.events.v1+json";
  for (const char* body : {testdata::kPushBlobLayer, testdata::kPushManifestOci,
                           testdata::kPullBlobHead, testdata::kPullManifestOci}) {
    ASSERT_TRUE(ingestor.Ingest("Bearer hook-secret-123", ct, body).ok());
  }
  std::vector<StoredEvent> all = events_.All();
  ASSERT_EQ(all.size(), 2u);  // the push and the GET pull of the manifest
  EXPECT_EQ(all[0].event.action, "push");
  EXPECT_EQ(all[1].event.action, "pull");
  // The digest of the fixture is not in the fake registry: the push is skipped as "gone".
  EXPECT_EQ(Drain(), 2);
  EXPECT_EQ(Find("81890f62-054f-4d83-9ec4-54e165a96dd0").event.status, EventStatus::kDone);
}

}  // namespace
}  // namespace portunus::catalog
