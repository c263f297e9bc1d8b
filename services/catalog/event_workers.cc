#include "services/catalog/event_workers.h"

#include <algorithm>

#include "services/common/log.h"

namespace portunus::catalog {

EventWorkers::EventWorkers(Options options, EventProcessor& processor, EventStore& store,
                           const Clock& clock)
    : options_(options), processor_(processor), store_(store), clock_(clock) {}

EventWorkers::~EventWorkers() { Stop(); }

void EventWorkers::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void EventWorkers::Wake() {
  absl::MutexLock lock(&mu_);
  wakeups_ = std::min(wakeups_ + 1, std::max(1, options_.threads));
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
  bool just_woken = true;  // started, or woken by a notification: pass a found event on
  absl::Time last_empty = absl::InfinitePast();
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (options_.ready && !options_.ready()) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
      continue;
    }
    absl::StatusOr<bool> processed = processor_.ProcessOne();
    if (processed.ok() && *processed) {
      if (just_woken) Wake();  // there may be more that another worker can apply meanwhile
      just_woken = false;
      continue;
    }

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
    // Real time, not clock_: this only paces looks at the queue.
    const absl::Time now = absl::Now();
    const absl::Duration since_empty = now - last_empty;
    last_empty = now;
    absl::MutexLock lock(&mu_);
    ++idle_;
    auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wakeups_ > 0; };
    if (since_empty < options_.min_rescan_interval) {
      // Looked a moment ago: let wake-ups gather first.
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.min_rescan_interval - since_empty);
    }
    just_woken = mu_.AwaitWithTimeout(absl::Condition(&woken), wait) && !stopping_;
    if (just_woken) --wakeups_;
  }
}

}  // namespace portunus::catalog
