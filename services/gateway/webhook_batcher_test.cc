#include "services/gateway/webhook_batcher.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::gateway {
namespace {

namespace pb = ::portunus::catalog::v1;

// Records each call and leaves it open until the test completes it.
class FakeCatalog {
 public:
  struct Call {
    pb::IngestNotificationsRequest request;
    std::string request_id;
    WebhookBatcher::SendDone done;
  };
  WebhookBatcher::Send Sender() {
    return [this](const pb::IngestNotificationsRequest& r, const std::string& id,
                  WebhookBatcher::SendDone done) { calls.push_back({r, id, std::move(done)}); };
  }
  // Completes call `i`: each notification stored as its body's length, or refused when its
  // authorization is "bad".
  void Complete(size_t i) {
    pb::IngestNotificationsResponse resp;
    for (const pb::IngestNotificationRequest& n : calls[i].request.notifications()) {
      pb::IngestNotificationResult* r = resp.add_results();
      if (n.authorization() == "bad") {
        r->set_code(static_cast<int>(absl::StatusCode::kUnauthenticated));
        r->set_message("wrong secret");
      } else {
        r->mutable_counts()->set_stored(static_cast<int>(n.body().size()));
      }
    }
    Finish(i, absl::OkStatus(), resp);
  }
  // Ends call `i` (its done may start the next call, growing `calls`).
  void Finish(size_t i, absl::Status s, pb::IngestNotificationsResponse resp) {
    WebhookBatcher::SendDone done = std::move(calls[i].done);
    done(std::move(s), resp);
  }
  std::vector<Call> calls;
};

pb::IngestNotificationRequest Notification(const std::string& body,
                                           const std::string& auth = "ok") {
  pb::IngestNotificationRequest n;
  n.set_authorization(auth);
  n.set_body(body);
  return n;
}

class WebhookBatcherTest : public ::testing::Test {
 protected:
  std::shared_ptr<WebhookBatcher> Make(WebhookBatcher::Options o) {
    return std::make_shared<WebhookBatcher>(o, catalog_.Sender());
  }
  // Submits a notification whose reply lands in replies_[slot].
  void Submit(WebhookBatcher& b, const std::string& body, const std::string& auth = "ok") {
    const size_t slot = replies_.size();
    replies_.emplace_back(absl::UnknownError("no reply yet"));
    b.Submit(Notification(body, auth), "rid-" + body,
             [this, slot](absl::StatusOr<pb::IngestNotificationResponse> r) {
               ++reply_count_;
               replies_[slot] = std::move(r);
             });
  }
  FakeCatalog catalog_;
  std::vector<absl::StatusOr<pb::IngestNotificationResponse>> replies_;
  int reply_count_ = 0;
};

TEST_F(WebhookBatcherTest, ALoneNotificationIsSentAtOnce) {
  auto b = Make({});
  Submit(*b, "a");
  ASSERT_EQ(catalog_.calls.size(), 1u);
  EXPECT_EQ(catalog_.calls[0].request.notifications_size(), 1);
  EXPECT_EQ(catalog_.calls[0].request_id, "rid-a");
  catalog_.Complete(0);
  ASSERT_TRUE(replies_[0].ok());
  EXPECT_EQ(replies_[0]->stored(), 1);
}

TEST_F(WebhookBatcherTest, NotificationsArrivingWhileCallsRunGoTogetherInTheNextCall) {
  auto b = Make({/*max_in_flight=*/2});
  Submit(*b, "a");
  Submit(*b, "bb");
  for (const char* body : {"ccc", "dddd", "eeeee"}) Submit(*b, body);
  ASSERT_EQ(catalog_.calls.size(), 2u);  // both slots taken; three wait
  catalog_.Complete(1);
  ASSERT_EQ(catalog_.calls.size(), 3u);
  const pb::IngestNotificationsRequest& third = catalog_.calls[2].request;
  ASSERT_EQ(third.notifications_size(), 3);
  EXPECT_EQ(third.notifications(0).body(), "ccc");
  EXPECT_EQ(third.notifications(2).body(), "eeeee");
  EXPECT_EQ(catalog_.calls[2].request_id, "rid-ccc");
  catalog_.Complete(2);
  catalog_.Complete(0);
  EXPECT_EQ(reply_count_, 5);
  for (size_t i = 0; i < replies_.size(); ++i) {
    ASSERT_TRUE(replies_[i].ok()) << i;
    EXPECT_EQ(replies_[i]->stored(), static_cast<int>(i + 1)) << i;  // each its own answer
  }
  EXPECT_EQ(catalog_.calls.size(), 3u);
}

TEST_F(WebhookBatcherTest, EachNotificationGetsItsOwnRefusalAndACallErrorReachesAll) {
  auto b = Make({/*max_in_flight=*/1});
  Submit(*b, "first");
  Submit(*b, "x", "bad");
  Submit(*b, "y");
  catalog_.Complete(0);
  ASSERT_EQ(catalog_.calls.size(), 2u);
  catalog_.Complete(1);
  EXPECT_EQ(replies_[1].status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(replies_[1].status().message(), "wrong secret");
  ASSERT_TRUE(replies_[2].ok());

  Submit(*b, "p");
  Submit(*b, "q");
  Submit(*b, "r");
  Submit(*b, "s");  // waits for the call carrying q and r
  catalog_.Complete(2);
  ASSERT_EQ(catalog_.calls.size(), 4u);
  ASSERT_EQ(catalog_.calls[3].request.notifications_size(), 3);
  pb::IngestNotificationsResponse empty;
  catalog_.Finish(3, absl::UnavailableError("catalog down"), empty);
  for (size_t i : {4, 5, 6}) {
    EXPECT_EQ(replies_[i].status().code(), absl::StatusCode::kUnavailable) << i;
    EXPECT_EQ(replies_[i].status().message(), "catalog down") << i;
  }
  EXPECT_EQ(reply_count_, 7);
}

TEST_F(WebhookBatcherTest, NotificationsTheCatalogLeftUnansweredAreRetried) {
  auto b = Make({/*max_in_flight=*/1});
  Submit(*b, "a");
  Submit(*b, "b");
  Submit(*b, "c");
  catalog_.Complete(0);
  pb::IngestNotificationsResponse one;
  one.add_results()->mutable_counts()->set_stored(1);
  catalog_.Finish(1, absl::OkStatus(), one);  // two notifications, one result
  ASSERT_TRUE(replies_[1].ok());
  EXPECT_EQ(replies_[2].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(replies_[2].status().message(), ::testing::HasSubstr("1 results for 2"));
}

TEST_F(WebhookBatcherTest, ACallHoldsAtMostMaxNotifications) {
  WebhookBatcher::Options o;
  o.max_in_flight = 1;
  o.max_notifications = 2;
  auto b = Make(o);
  for (int i = 0; i < 6; ++i) Submit(*b, "n");
  for (size_t call = 0; call < 3; ++call) catalog_.Complete(call);
  ASSERT_EQ(catalog_.calls.size(), 4u);
  EXPECT_EQ(catalog_.calls[0].request.notifications_size(), 1);
  EXPECT_EQ(catalog_.calls[1].request.notifications_size(), 2);
  EXPECT_EQ(catalog_.calls[2].request.notifications_size(), 2);
  EXPECT_EQ(catalog_.calls[3].request.notifications_size(), 1);
}

TEST_F(WebhookBatcherTest, ACallHoldsAtMostMaxBytesButALargeNotificationStillGoes) {
  WebhookBatcher::Options o;
  o.max_in_flight = 1;
  o.max_bytes = 10;  // bodies and authorization ("ok": 2 bytes each)
  auto b = Make(o);
  Submit(*b, "0");
  for (int i = 0; i < 4; ++i) Submit(*b, "n");   // 3 bytes each
  Submit(*b, std::string(20, 'L'));               // alone: larger than max_bytes
  catalog_.Complete(0);
  ASSERT_EQ(catalog_.calls[1].request.notifications_size(), 3);  // 9 bytes; a 4th: 12
  catalog_.Complete(1);
  ASSERT_EQ(catalog_.calls[2].request.notifications_size(), 1);  // 3 bytes; +22 would exceed
  catalog_.Complete(2);
  ASSERT_EQ(catalog_.calls[3].request.notifications_size(), 1);
  catalog_.Complete(3);
  EXPECT_EQ(catalog_.calls.size(), 4u);
  EXPECT_EQ(reply_count_, 6);
}

TEST_F(WebhookBatcherTest, WaitingIsBoundedInBytesAndTime) {
  testing::FakeClock clock;
  WebhookBatcher::Options o;
  o.max_in_flight = 1;
  o.max_queued_bytes = 9;  // three notifications of 3 bytes
  o.max_wait = absl::Seconds(10);
  o.clock = &clock;
  auto b = Make(o);
  Submit(*b, "0");                                  // sent
  for (int i = 0; i < 3; ++i) Submit(*b, "w");      // wait: 9 bytes
  Submit(*b, "x");                                  // refused at once
  EXPECT_EQ(reply_count_, 1);
  EXPECT_EQ(replies_[4].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(replies_[4].status().message(), ::testing::HasSubstr("retry later"));
  clock.Advance(absl::Seconds(6));
  Submit(*b, "y");  // refused too: still 9 bytes waiting
  EXPECT_EQ(replies_[5].status().code(), absl::StatusCode::kUnavailable);

  clock.Advance(absl::Seconds(5));  // the three waited 11 s
  catalog_.Complete(0);
  EXPECT_EQ(catalog_.calls.size(), 1u);  // not sent
  for (size_t i : {1, 2, 3}) {
    EXPECT_EQ(replies_[i].status().code(), absl::StatusCode::kDeadlineExceeded) << i;
  }
  Submit(*b, "z");  // the queue is free again
  ASSERT_EQ(catalog_.calls.size(), 2u);
  catalog_.Complete(1);
  EXPECT_TRUE(replies_[6].ok());
  EXPECT_EQ(reply_count_, 7);
}

TEST_F(WebhookBatcherTest, AReplyThatThrowsCostsNoCallSlot) {
  auto b = Make({/*max_in_flight=*/1});
  b->Submit(Notification("t"), "r", [](absl::StatusOr<pb::IngestNotificationResponse>) {
    throw std::runtime_error("responder broke");
  });
  Submit(*b, "a");
  catalog_.Complete(0);
  ASSERT_EQ(catalog_.calls.size(), 2u);  // the next call still goes
  catalog_.Complete(1);
  EXPECT_TRUE(replies_[0].ok());
}

TEST_F(WebhookBatcherTest, CallsCompletingInlineDoNotLoseTheQueue) {
  // Like Upstreams after Shutdown began: done runs inside send.
  bool inline_now = false;
  int sent = 0;
  std::vector<WebhookBatcher::SendDone> held;
  WebhookBatcher::Options o;
  o.max_in_flight = 2;
  o.max_notifications = 10;
  auto b = std::make_shared<WebhookBatcher>(
      o, [&](const pb::IngestNotificationsRequest& r, const std::string&,
             WebhookBatcher::SendDone done) {
        sent += r.notifications_size();
        pb::IngestNotificationsResponse none;
        if (inline_now) return done(absl::UnavailableError("the gateway is shutting down"), none);
        held.push_back(std::move(done));
      });
  int errors = 0;
  for (int i = 0; i < 100; ++i) {
    b->Submit(Notification("z"), "r", [&errors](absl::StatusOr<pb::IngestNotificationResponse> r) {
      if (r.status().code() == absl::StatusCode::kUnavailable) ++errors;
    });
  }
  ASSERT_EQ(held.size(), 2u);  // 98 wait
  inline_now = true;
  pb::IngestNotificationsResponse none;
  held[0](absl::CancelledError("cancelled"), none);  // frees a slot: the rest go, inline
  EXPECT_EQ(sent, 100);
  EXPECT_EQ(errors, 98);
  held[1](absl::CancelledError("cancelled"), none);
}

TEST_F(WebhookBatcherTest, ConcurrentSubmittersEachGetTheirAnswer) {
  // A catalog answering on another thread, like the gRPC completion queue.
  std::vector<std::thread> completions;
  std::mutex mu;
  std::atomic<int> running{0}, most_running{0};
  WebhookBatcher::Options o;
  o.max_in_flight = 2;
  auto b = std::make_shared<WebhookBatcher>(
      o, [&](const pb::IngestNotificationsRequest& r, const std::string&,
                                     WebhookBatcher::SendDone done) {
        std::lock_guard<std::mutex> lock(mu);
        const int now = running.fetch_add(1) + 1;
        most_running = std::max(most_running.load(), now);
        completions.emplace_back([&running, r, done = std::move(done)] {
          running.fetch_sub(1);
          pb::IngestNotificationsResponse resp;
          for (const auto& n : r.notifications()) {
            resp.add_results()->mutable_counts()->set_stored(std::stoi(n.body()));
          }
          done(absl::OkStatus(), resp);
        });
      });
  constexpr int kThreads = 8, kEach = 50;
  std::atomic<int> right{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const int n = t * 1000 + i;
        std::atomic<bool> answered{false};
        b->Submit(Notification(std::to_string(n)), "r",
                  [&, n](absl::StatusOr<pb::IngestNotificationResponse> r) {
                    if (r.ok() && r->stored() == n) right.fetch_add(1);
                    answered = true;
                  });
        while (!answered) std::this_thread::yield();
      }
    });
  }
  for (std::thread& t : senders) t.join();
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& t : completions) t.join();
  EXPECT_EQ(right.load(), kThreads * kEach);
  EXPECT_LE(most_running.load(), 2);  // max_in_flight
}

}  // namespace
}  // namespace portunus::gateway
