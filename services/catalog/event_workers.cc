#include "services/catalog/event_workers.h"

#include <algorithm>

#include "services/common/log.h"

namespace portunus::catalog {

EventWorkers::EventWorkers(Options options, EventProcessor& processor, EventStore& store,
                           const Clock& clock)
    : options_(options), processor_(processor), store_(store), clock_(clock) {}

EventWorkers::~EventWorkers() { Stop(); }

void EventWorkers::Start() {
  for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { Loop(); });
}

void EventWorkers::Wake() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

void EventWorkers::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

int64_t EventWorkers::idle_count() const {
  absl::MutexLock lock(&mu_);
  return idle_;
}

void EventWorkers::Loop() {
  for (;;) {
    uint64_t seen;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      seen = generation_;
    }
    if (options_.ready && !options_.ready()) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
      continue;
    }
    absl::StatusOr<bool> processed = processor_.ProcessOne();
    if (processed.ok() && *processed) continue;

    absl::Duration wait = options_.poll_interval;
    if (!processed.ok()) {
      LogWarn("event queue unavailable", {{"error", processed.status()}});
      wait = options_.error_pause;
    } else {
      absl::StatusOr<std::optional<absl::Time>> due = store_.NextDue(clock_.Now());
      if (due.ok() && due->has_value()) {
        wait = std::min(wait, std::max(absl::Milliseconds(1), **due - clock_.Now()));
      }
    }
    absl::MutexLock lock(&mu_);
    ++idle_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || generation_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&woken), wait);
  }
}

}  // namespace portunus::catalog
