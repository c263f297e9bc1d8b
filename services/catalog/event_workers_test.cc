#include "services/catalog/event_workers.h"

#include <atomic>

#include "gtest/gtest.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::catalog {
namespace {

// FakeEventStore that counts how often workers look for an event.
class CountingEventStore final : public EventStore {
 public:
  explicit CountingEventStore(EventStore& inner) : inner_(inner) {}
  int64_t looks() const { return looks_.load(); }

  absl::StatusOr<std::vector<bool>> Insert(const std::vector<NewEvent>& events) override {
    return inner_.Insert(events);
  }
  absl::StatusOr<ProcessOutcome> ProcessNext(
      absl::Time now, const RetryPolicy& policy, const ApplyEventFn& apply,
      const std::function<bool(const absl::Status&)>& permanent) override {
    looks_.fetch_add(1);
    return inner_.ProcessNext(now, policy, apply, permanent);
  }
  absl::StatusOr<std::optional<absl::Time>> NextDue(absl::Time now) override {
    return inner_.NextDue(now);
  }
  absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> List(
      const EventFilter& filter, const PageRequest& page) override {
    return inner_.List(filter, page);
  }
  absl::StatusOr<StoredEvent> Retry(int64_t id, absl::Time now) override {
    return inner_.Retry(id, now);
  }
  absl::StatusOr<EventQueueStats> Stats(absl::Time now) override { return inner_.Stats(now); }
  absl::StatusOr<int64_t> Prune(absl::Time done_before, absl::Time failed_before) override {
    return inner_.Prune(done_before, failed_before);
  }

 private:
  EventStore& inner_;
  std::atomic<int64_t> looks_{0};
};

NewEvent Delete(const std::string& id, const std::string& repo) {
  NewEvent e;
  e.event_id = id;
  e.action = "delete";
  e.repository = repo;
  e.digest = "sha256:" + std::string(64, 'a');
  return e;
}

class EventWorkersTest : public ::testing::Test {
 protected:
  EventWorkersTest()
      : catalog_(clock_),
        fake_events_(catalog_, clock_),
        events_(fake_events_),
        processor_(EventProcessor::Options(), events_, registry_, access_, clock_) {}

  // Waits until the workers went to sleep `n` times in all.
  bool WaitIdle(int64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (workers_->idle_count() < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }

  void StartWorkers(int threads) {
    EventWorkers::Options o;
    o.threads = threads;
    o.poll_interval = absl::Hours(1);  // only wake-ups make them look
    o.min_rescan_interval = absl::ZeroDuration();
    workers_ = std::make_unique<EventWorkers>(o, processor_, events_, clock_);
    workers_->Start();
  }

  testing::FakeClock clock_;
  FakeCatalogStore catalog_;
  FakeEventStore fake_events_;
  CountingEventStore events_;
  testing::FakeRegistryClient registry_;
  FakeAccessClient access_;
  EventProcessor processor_;
  std::unique_ptr<EventWorkers> workers_;
};

TEST_F(EventWorkersTest, AWakeUpMakesOneIdleWorkerLookNotAll) {
  StartWorkers(4);
  ASSERT_TRUE(WaitIdle(4));  // each looked once at start and found nothing
  EXPECT_EQ(events_.looks(), 4);
  for (int i = 1; i <= 5; ++i) {
    workers_->Wake();
    ASSERT_TRUE(WaitIdle(4 + i));
  }
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(events_.looks(), 4 + 5);
  workers_->Stop();
}

TEST_F(EventWorkersTest, EventsStoredAfterTheWorkersSleptAreAppliedOnAWakeUp) {
  StartWorkers(3);
  ASSERT_TRUE(WaitIdle(3));
  ASSERT_TRUE(events_.Insert({Delete("e1", "a/one"), Delete("e2", "b/two"), Delete("e3", "a/one"),
                              Delete("e4", "c/three")})
                  .ok());
  workers_->Wake();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  auto pending = [&] {
    int n = 0;
    for (const StoredEvent& e : fake_events_.All()) n += e.event.status == EventStatus::kPending;
    return n;
  };
  while (pending() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(pending(), 0);
  workers_->Stop();
}

TEST_F(EventWorkersTest, NoWorkersLeaveTheEventsToOtherReplicas) {
  StartWorkers(0);  // a replica that applies no events
  EXPECT_EQ(workers_->thread_count(), 0u);
  ASSERT_TRUE(events_.Insert({Delete("e1", "a/one")}).ok());
  workers_->Wake();
  workers_->Stop();
  EXPECT_EQ(events_.looks(), 0);
  EXPECT_EQ(fake_events_.All().front().event.status, EventStatus::kPending);
}

}  // namespace
}  // namespace portunus::catalog
