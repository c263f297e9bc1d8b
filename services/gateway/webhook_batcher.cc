#include "services/gateway/webhook_batcher.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::gateway {

namespace pb = ::portunus::catalog::v1;

namespace {

size_t SizeOf(const pb::IngestNotificationRequest& n) {
  return n.body().size() + n.authorization().size() + n.content_type().size();
}

WebhookBatcher::Options Checked(WebhookBatcher::Options o) {
  o.max_in_flight = std::max(1, o.max_in_flight);
  o.max_notifications = std::max<size_t>(1, o.max_notifications);
  return o;
}

}  // namespace

WebhookBatcher::WebhookBatcher(Options options, Send send)
    : options_(Checked(options)),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
      send_(std::move(send)) {}

void WebhookBatcher::Submit(Notification notification, std::string request_id, Reply reply) {
  const size_t bytes = SizeOf(notification);
  Item item{std::move(notification), std::move(request_id), std::move(reply), bytes, clock_.Now()};
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_bytes_ + bytes <= options_.max_queued_bytes || queue_.empty()) {
      queued_bytes_ += bytes;
      queue_.push_back(std::move(item));
      queued = true;
    }
  }
  if (!queued) {
    Reply1(item, absl::UnavailableError(absl::StrCat(
                     "too many notifications are waiting for the catalog (",
                     options_.max_queued_bytes, " bytes); retry later")));
    return;
  }
  Pump();
}

void WebhookBatcher::Pump() {
  for (;;) {
    auto batch = std::make_shared<std::vector<Item>>();
    std::vector<Item> expired;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= options_.max_in_flight) return;
      const absl::Time too_old = clock_.Now() - options_.max_wait;
      size_t bytes = 0;
      while (!queue_.empty() && batch->size() < options_.max_notifications &&
             (batch->empty() || bytes + queue_.front().bytes <= options_.max_bytes)) {
        Item& front = queue_.front();
        queued_bytes_ -= front.bytes;
        if (front.queued_at < too_old) {
          expired.push_back(std::move(front));
        } else {
          bytes += front.bytes;
          batch->push_back(std::move(front));
        }
        queue_.pop_front();
      }
      if (!batch->empty()) ++in_flight_;
    }
    for (Item& item : expired) {
      Reply1(item, absl::DeadlineExceededError(
                       "the notification waited too long for the catalog; retry later"));
    }
    if (batch->empty()) {
      if (expired.empty()) return;
      continue;
    }
    pb::IngestNotificationsRequest request;
    for (Item& item : *batch) *request.add_notifications() = std::move(item.notification);
    const std::string request_id = batch->front().request_id;
    send_(request, request_id,
          [self = shared_from_this(), batch](absl::Status status,
                                             pb::IngestNotificationsResponse& response) {
            {
              std::lock_guard<std::mutex> lock(self->mu_);
              --self->in_flight_;
            }
            Answer(*batch, status, response);
            self->Pump();
          });
  }
}

void WebhookBatcher::Reply1(Item& item, absl::StatusOr<Counts> r) {
  try {
    item.reply(std::move(r));
  } catch (const std::exception& e) {
    LogError("webhook reply threw", {{"error", e.what()}, {"request_id", item.request_id}});
  }
}

void WebhookBatcher::Answer(std::vector<Item>& batch, const absl::Status& status,
                            const pb::IngestNotificationsResponse& response) {
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!status.ok()) {
      Reply1(batch[i], status);
      continue;
    }
    if (i >= static_cast<size_t>(response.results_size())) {
      // A catalog that breaks the contract: the registry will send it again.
      Reply1(batch[i], absl::UnavailableError(absl::StrCat("the catalog answered ",
                                                           response.results_size(), " results for ",
                                                           batch.size(), " notifications")));
      continue;
    }
    const pb::IngestNotificationResult& r = response.results(static_cast<int>(i));
    if (r.code() != 0) {
      Reply1(batch[i], absl::Status(static_cast<absl::StatusCode>(r.code()), r.message()));
    } else {
      Reply1(batch[i], r.counts());
    }
  }
}

}  // namespace portunus::gateway
