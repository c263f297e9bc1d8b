#include "services/catalog/event_ingestor.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/catalog/notification_parser.h"
#include "services/common/registry_client.h"

namespace portunus::catalog {

bool SecretEquals(absl::string_view a, absl::string_view b) {
  // Compare fixed-length digests so neither the content nor the length leaks through timing.
  const std::string da = Sha256Digest(a);
  const std::string db = Sha256Digest(b);
  unsigned char diff = 0;
  for (size_t i = 0; i < da.size(); ++i) {
    diff |= static_cast<unsigned char>(da[i] ^ db[i]);
  }
  return diff == 0;
}

EventIngestor::EventIngestor(Options options, EventStore& store)
    : options_(std::move(options)), store_(store) {}

int64_t EventIngestor::transactions() const {
  absl::MutexLock lock(&mu_);
  return transactions_;
}

void EventIngestor::CommitBatch(std::vector<Pending*> batch) {
  // One row per event id: the first occurrence may be new, later ones are duplicates.
  std::vector<NewEvent> unique;
  std::map<std::string, size_t> index;
  std::vector<std::vector<size_t>> positions(batch.size());
  for (size_t b = 0; b < batch.size(); ++b) {
    for (const NewEvent& e : *batch[b]->events) {
      auto [it, fresh] = index.emplace(e.event_id, unique.size());
      if (fresh) {
        unique.push_back(e);
        positions[b].push_back(it->second);
      } else {
        positions[b].push_back(SIZE_MAX);
      }
    }
  }
  absl::StatusOr<std::vector<bool>> inserted = store_.Insert(unique);
  absl::MutexLock lock(&mu_);
  ++transactions_;
  for (size_t b = 0; b < batch.size(); ++b) {
    Pending* p = batch[b];
    if (!inserted.ok()) {
      p->status = inserted.status();
    } else {
      for (size_t pos : positions[b]) p->inserted.push_back(pos != SIZE_MAX && (*inserted)[pos]);
    }
    p->done = true;
  }
}

absl::StatusOr<std::vector<bool>> EventIngestor::Store(const std::vector<NewEvent>& events) {
  if (events.empty()) return std::vector<bool>();
  Pending me{&events, {}, absl::OkStatus(), false};
  absl::MutexLock lock(&mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (in_flight_ < options_.max_concurrent_commits && !queue_.empty()) {
      // Lead: take what is queued (up to max_batch events) into one transaction.
      std::vector<Pending*> batch;
      size_t n = 0;
      while (!queue_.empty() &&
             (batch.empty() || n + queue_.front()->events->size() <= options_.max_batch)) {
        n += queue_.front()->events->size();
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      ++in_flight_;
      mu_.Unlock();
      CommitBatch(std::move(batch));
      mu_.Lock();
      --in_flight_;
      cv_.SignalAll();
    } else {
      cv_.Wait(&mu_);
    }
  }
  if (!me.status.ok()) return me.status;
  return me.inserted;
}

absl::StatusOr<IngestCounts> EventIngestor::Ingest(absl::string_view authorization,
                                                   absl::string_view content_type,
                                                   absl::string_view body) {
  const Notification one{authorization, content_type, body};
  absl::StatusOr<std::vector<absl::StatusOr<IngestCounts>>> r = IngestMany({&one, 1});
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

absl::Status EventIngestor::Authenticate(absl::string_view authorization) const {
  if (options_.webhook_secret.empty()) {
    return absl::UnauthenticatedError(
        "webhook secret is not configured (catalog.webhook_secret): notifications are refused");
  }
  absl::string_view token = absl::StripLeadingAsciiWhitespace(authorization);
  if (!absl::StartsWithIgnoreCase(token, "bearer ") ||
      !SecretEquals(absl::StripAsciiWhitespace(token.substr(7)), options_.webhook_secret)) {
    return absl::UnauthenticatedError(
        "webhook requires Authorization: Bearer <catalog.webhook_secret>");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<absl::StatusOr<IngestCounts>>> EventIngestor::IngestMany(
    absl::Span<const Notification> notifications) {
  std::vector<absl::StatusOr<IngestCounts>> results;
  std::vector<NewEvent> events;  // of every authenticated notification, in order
  std::vector<size_t> count;     // of notification i's events
  for (const Notification& n : notifications) {
    count.push_back(0);
    if (absl::Status auth = Authenticate(n.authorization); !auth.ok()) {
      results.push_back(std::move(auth));
      continue;
    }
    ParsedNotification parsed = ParseNotification(n.content_type, n.body);
    IngestCounts counts;
    counts.ignored = parsed.ignored;
    results.push_back(counts);
    count.back() = parsed.events.size();
    for (NewEvent& e : parsed.events) events.push_back(std::move(e));
  }
  absl::StatusOr<std::vector<bool>> inserted = Store(events);
  if (!inserted.ok()) return inserted.status();
  size_t k = 0;  // events[k]: the next notification's first event
  for (size_t i = 0; i < notifications.size(); ++i) {
    if (!results[i].ok()) continue;
    IngestCounts& counts = *results[i];
    for (const size_t end = k + count[i]; k < end; ++k) {
      if (!(*inserted)[k]) {
        ++counts.duplicates;
      } else if (events[k].status == EventStatus::kRejected) {
        ++counts.rejected;
      } else {
        ++counts.stored;
      }
    }
  }
  return results;
}

}  // namespace portunus::catalog
