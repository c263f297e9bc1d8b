// WebhookBatcher hands the registry's notifications (POST /v2/webhooks/events) to the catalog
// several at a time, in EventService.IngestNotifications calls.
//
// The catalog stores concurrent notifications in one transaction anyway (group commit), but
// one call per webhook request paid a gRPC round trip and a thread hand-off in the catalog
// per event (batching them gave +20-26% through the whole path under 32 senders,
// docs/benchmarks.md). The batcher keeps at most `max_in_flight` calls running; requests that
// arrive meanwhile wait and go together in the next call, up to `max_notifications` of them
// and `max_bytes` (bodies and headers). A request that finds a free slot is sent at once: no
// timer, nothing added to a lone request's latency. Waiting is bounded: a request that waited
// longer than `max_wait` (the gateway's RPC deadline) is answered 504 instead of being sent,
// and one arriving while `max_queued_bytes` wait is answered 503 at once; the registry retries
// both.
//
//   auto batcher = std::make_shared<WebhookBatcher>(WebhookBatcher::Options{},
//       [&up, stub](const IngestNotificationsRequest& rpc, const std::string& request_id,
//                   WebhookBatcher::SendDone done) {
//         up.Call(*stub, &EventService::Stub::PrepareAsyncIngestNotifications, rpc, request_id,
//                 std::move(done));
//       });
//   batcher->Submit(std::move(notification), req.request_id, [respond](auto counts) {...});
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "portunus/catalog/v1/events.pb.h"
#include "services/common/clock.h"

namespace portunus::gateway {

// Thread-safe. Create with std::make_shared (calls in flight keep it alive).
class WebhookBatcher : public std::enable_shared_from_this<WebhookBatcher> {
 public:
  struct Options {
    // One call at a time: the next batch gathers while a call commits. Two in flight sent
    // every other call with the one request that found the slot free (twice the commits for
    // the same events), 4-15% fewer events/s through the whole path (medians of interleaved
    // runs, docs/benchmarks.md). The price: a slow call holds every waiting request.
    int max_in_flight = 1;
    size_t max_notifications = 256;  // per call (at least 1)
    // Per call, of bodies, authorization and content-type headers: under gRPC's 4 MiB message
    // limit. A lone notification larger than this still goes in a call of its own.
    size_t max_bytes = 2 << 20;
    size_t max_queued_bytes = 64 << 20;  // waiting (same measure); beyond: kUnavailable
    absl::Duration max_wait = absl::Seconds(10);  // in the queue; beyond: kDeadlineExceeded
    const Clock* clock = nullptr;                 // null: RealClock
  };
  using Notification = catalog::v1::IngestNotificationRequest;
  using Counts = catalog::v1::IngestNotificationResponse;
  // Answers one Submit: the catalog's counts, or why the notification was not stored (the
  // call's error, or that notification's own, e.g. kUnauthenticated).
  using Reply = std::function<void(absl::StatusOr<Counts>)>;
  using SendDone = std::function<void(absl::Status, catalog::v1::IngestNotificationsResponse&)>;
  // Starts one IngestNotifications call carrying `request_id` (that of its first
  // notification) and calls `done` exactly once when it ends: on any thread, maybe inline.
  using Send = std::function<void(const catalog::v1::IngestNotificationsRequest&,
                                  const std::string& request_id, SendDone done)>;

  WebhookBatcher(Options options, Send send);

  // Queues `notification` for the next call; `reply` runs exactly once, on the thread that
  // completes the call (it must not block), or inline (queue full, call completed inline).
  void Submit(Notification notification, std::string request_id, Reply reply);

 private:
  struct Item {
    Notification notification;
    std::string request_id;
    Reply reply;
    size_t bytes = 0;
    absl::Time queued_at;
  };
  // Starts calls while a slot is free and notifications wait; answers those waited too long.
  void Pump();
  static void Answer(std::vector<Item>& batch, const absl::Status& status,
                     const catalog::v1::IngestNotificationsResponse& response);
  // Runs `item.reply(r)`, logging (not passing on) what it throws.
  static void Reply1(Item& item, absl::StatusOr<Counts> r);

  const Options options_;
  const Clock& clock_;
  const Send send_;
  std::mutex mu_;              // a std::mutex: per-request path (see upstream.h)
  std::deque<Item> queue_;     // guarded by mu_
  size_t queued_bytes_ = 0;    // guarded by mu_
  int in_flight_ = 0;          // guarded by mu_
};

}  // namespace portunus::gateway
