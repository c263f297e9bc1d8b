#include "services/gateway/webhook_batcher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace portunus::gateway {

namespace pb = ::portunus::catalog::v1;

namespace {

size_t SizeOf(const pb::IngestNotificationRequest& n) {
  return n.body().size() + n.authorization().size() + n.content_type().size();
}

}  // namespace

WebhookBatcher::WebhookBatcher(Options options, Send send)
    : options_(options), send_(std::move(send)) {}

void WebhookBatcher::Submit(Notification notification, std::string request_id, Reply reply) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{std::move(notification), std::move(request_id), std::move(reply)});
  }
  Pump();
}

void WebhookBatcher::Pump() {
  for (;;) {
    auto batch = std::make_shared<std::vector<Item>>();
    pb::IngestNotificationsRequest request;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_flight_ >= options_.max_in_flight || queue_.empty()) return;
      size_t bytes = 0;
      while (!queue_.empty() && batch->size() < options_.max_notifications &&
             (batch->empty() || bytes + SizeOf(queue_.front().notification) <= options_.max_bytes)) {
        bytes += SizeOf(queue_.front().notification);
        batch->push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++in_flight_;
    }
    for (Item& item : *batch) *request.add_notifications() = std::move(item.notification);
    const std::string request_id = batch->front().request_id;
    send_(request, request_id,
          [self = shared_from_this(), batch](absl::Status status,
                                             pb::IngestNotificationsResponse& response) {
            Answer(*batch, status, response);
            {
              std::lock_guard<std::mutex> lock(self->mu_);
              --self->in_flight_;
            }
            self->Pump();
          });
  }
}

void WebhookBatcher::Answer(std::vector<Item>& batch, const absl::Status& status,
                            const pb::IngestNotificationsResponse& response) {
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!status.ok()) {
      batch[i].reply(status);
    } else if (i >= static_cast<size_t>(response.results_size())) {
      // A catalog that breaks the contract: the registry will send it again.
      batch[i].reply(absl::UnavailableError(absl::StrCat("the catalog answered ", response.results_size(),
                                                         " results for ", batch.size(),
                                                         " notifications")));
    } else if (const pb::IngestNotificationResult& r = response.results(static_cast<int>(i)); r.code() != 0) {
      batch[i].reply(absl::Status(static_cast<absl::StatusCode>(r.code()), r.message()));
    } else {
      batch[i].reply(r.counts());
    }
  }
}

}  // namespace portunus::gateway
