#include "services/catalog/event_ingestor.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/testdata/registry_events.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::catalog {
namespace {

constexpr char kCt[] = "application/vnd.docker.distribution.events.v1+json";

class EventIngestorTest : public ::testing::Test {
 protected:
  EventIngestorTest() : catalog_(clock_), events_(catalog_, clock_), ingestor_({"s3cret"}, events_) {}
  testing::FakeClock clock_;
  FakeCatalogStore catalog_;
  FakeEventStore events_;
  EventIngestor ingestor_;
};

TEST_F(EventIngestorTest, RequiresTheBearerSecret) {
  for (const char* auth : {"", "Bearer", "Bearer wrong", "Basic s3cret", "Bearer s3cret2", "s3cret"}) {
    absl::StatusOr<IngestCounts> r = ingestor_.Ingest(auth, kCt, testdata::kPushManifestOci);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << auth;
  }
  EXPECT_TRUE(events_.All().empty());
  EXPECT_TRUE(ingestor_.Ingest("bearer s3cret", kCt, testdata::kPushManifestOci).ok());
  EventIngestor unconfigured({""}, events_);
  absl::StatusOr<IngestCounts> r = unconfigured.Ingest("Bearer ", kCt, testdata::kPushManifestOci);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("catalog.webhook_secret"));
  EXPECT_TRUE(SecretEquals("abc", "abc"));
  EXPECT_FALSE(SecretEquals("abc", "abd"));
  EXPECT_FALSE(SecretEquals("abc", "abcd"));
}

TEST_F(EventIngestorTest, CountsStoredDuplicateRejectedAndIgnoredEvents) {
  absl::StatusOr<IngestCounts> r = ingestor_.Ingest("Bearer s3cret", kCt, testdata::kPushManifestOci);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 1);
  r = ingestor_.Ingest("Bearer s3cret", kCt, testdata::kPushManifestOci);  // registry retry
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 0);
  EXPECT_EQ(r->duplicates, 1);
  r = ingestor_.Ingest("Bearer s3cret", kCt, testdata::kPushBlobLayer);
  EXPECT_EQ(r->ignored, 1);
  r = ingestor_.Ingest("Bearer s3cret", kCt, "{garbage");
  EXPECT_EQ(r->rejected, 1);
  r = ingestor_.Ingest("Bearer s3cret", kCt, "{garbage");
  EXPECT_EQ(r->duplicates, 1);
  // The same id twice in one envelope is one row.
  const std::string twice =
      R"({"events":[{"id":"x","action":"delete","target":{"repository":"a/b","tag":"t"}},)"
      R"({"id":"x","action":"delete","target":{"repository":"a/b","tag":"t"}}]})";
  r = ingestor_.Ingest("Bearer s3cret", kCt, twice);
  EXPECT_EQ(r->stored, 1);
  EXPECT_EQ(r->duplicates, 1);
  std::vector<StoredEvent> all = events_.All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].event.status, EventStatus::kRejected);
  EXPECT_THAT(all[1].last_error, ::testing::HasSubstr("not valid JSON"));
  EXPECT_EQ(all[1].event.payload, "{garbage");
}

TEST_F(EventIngestorTest, StorageFailuresReachTheRegistrySoItRetries) {
  events_.FailNextCall(absl::UnavailableError("database down"));
  absl::StatusOr<IngestCounts> r = ingestor_.Ingest("Bearer s3cret", kCt, testdata::kPushManifestOci);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  r = ingestor_.Ingest("Bearer s3cret", kCt, testdata::kPushManifestOci);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 1);
}

TEST_F(EventIngestorTest, SeveralNotificationsAreStoredInOneTransactionEachAnsweredOnItsOwn) {
  const EventIngestor::Notification batch[] = {
      {"Bearer s3cret", kCt, testdata::kPushManifestOci},
      {"Bearer wrong", kCt, testdata::kDeleteTag},  // refused: stores nothing
      {"Bearer s3cret", kCt, "{garbage"},
      {"Bearer s3cret", kCt, testdata::kPushBlobLayer},
      {"Bearer s3cret", kCt, testdata::kPushManifestOci},  // the first one again
      {"Bearer s3cret", kCt, testdata::kDeleteManifest},
  };
  absl::StatusOr<std::vector<absl::StatusOr<IngestCounts>>> r = ingestor_.IngestMany(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 6u);
  EXPECT_EQ((*r)[0]->stored, 1);
  EXPECT_EQ((*r)[1].status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*r)[2]->rejected, 1);
  EXPECT_EQ((*r)[3]->ignored, 1);
  EXPECT_EQ((*r)[3]->stored, 0);
  EXPECT_EQ((*r)[4]->duplicates, 1);
  EXPECT_EQ((*r)[4]->stored, 0);
  EXPECT_EQ((*r)[5]->stored, 1);
  EXPECT_EQ(ingestor_.transactions(), 1);
  std::vector<StoredEvent> all = events_.All();
  ASSERT_EQ(all.size(), 3u);  // push, garbage, delete: in order, the refused tag delete absent
  EXPECT_EQ(all[0].event.action, "push");
  EXPECT_EQ(all[1].event.status, EventStatus::kRejected);
  EXPECT_EQ(all[2].event.action, "delete");
  EXPECT_TRUE(all[2].event.tag.empty());

  // A storage failure fails the whole call: none of them was stored.
  events_.FailNextCall(absl::UnavailableError("database down"));
  const EventIngestor::Notification two[] = {{"Bearer s3cret", kCt, testdata::kDeleteTag},
                                             {"Bearer s3cret", kCt, testdata::kPullManifestOci}};
  EXPECT_EQ(ingestor_.IngestMany(two).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(events_.All().size(), 3u);
}

// A store whose Insert blocks until released, to observe batching.
class SlowEventStore final : public EventStore {
 public:
  explicit SlowEventStore(EventStore& inner) : inner_(inner) {}
  absl::StatusOr<std::vector<bool>> Insert(const std::vector<NewEvent>& events) override {
    absl::SleepFor(absl::Milliseconds(5));  // a commit's fsync, so requests pile up behind it
    return inner_.Insert(events);
  }
  absl::StatusOr<ProcessOutcome> ProcessNext(absl::Time now, const RetryPolicy& p,
                                             const ApplyEventFn& f,
                                             const std::function<bool(const absl::Status&)>& pe) override {
    return inner_.ProcessNext(now, p, f, pe);
  }
  absl::StatusOr<std::optional<absl::Time>> NextDue(absl::Time now) override { return inner_.NextDue(now); }
  absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> List(const EventFilter& f,
                                                                    const PageRequest& p) override {
    return inner_.List(f, p);
  }
  absl::StatusOr<StoredEvent> Retry(int64_t id, absl::Time now) override { return inner_.Retry(id, now); }
  absl::StatusOr<EventQueueStats> Stats(absl::Time now) override { return inner_.Stats(now); }
  absl::StatusOr<int64_t> Prune(absl::Time a, absl::Time b) override { return inner_.Prune(a, b); }

 private:
  EventStore& inner_;
};

TEST_F(EventIngestorTest, ConcurrentNotificationsShareTransactions) {
  SlowEventStore slow(events_);
  EventIngestor ingestor({"s3cret", 1000, 2}, slow);
  constexpr int kThreads = 16, kPerThread = 20;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string body = absl::StrCat(
            R"({"events":[{"id":"e-)", t, "-", i,
            R"(","action":"delete","target":{"repository":"a/b","tag":"t"}}]})");
        absl::StatusOr<IngestCounts> r = ingestor.Ingest("Bearer s3cret", kCt, body);
        if (r.ok() && r->stored == 1) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(events_.All().size(), static_cast<size_t>(kThreads * kPerThread));
  // Group commit: far fewer transactions than requests.
  EXPECT_LT(ingestor.transactions(), kThreads * kPerThread / 2);
}

}  // namespace
}  // namespace portunus::catalog
