// EventWorkers runs EventProcessor on a few threads. They drain the queue, then sleep until
// woken (Wake(), called for every PostgreSQL NOTIFY on the events channel), until the next
// retry is due, or at the latest after `poll_interval` (the slow-poll fallback for a lost
// notification or a listener that is reconnecting).
//
// A wake-up goes to one idle worker, not to all: a notification arrives for every stored batch,
// and while one repository has a backlog its events are applied one at a time, so every other
// worker woken would only look for work and find none (during a burst of notifications those
// empty looks took more CPU than storing the events). A worker that was woken and found an event
// passes a wake-up on, so as many workers join in as there are events they can apply at once.
// An idle worker looks again at most every `min_rescan_interval` (a wake-up meanwhile goes to
// another idle worker, or waits for it): without that, notifications of a burst in a repository
// another worker is busy with made the idle ones look in vain hundreds of times a second.
#pragma once

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/event_processor.h"
#include "services/common/clock.h"

namespace portunus::catalog {

// Thread-safe. Start once; Stop joins the threads (an event being applied finishes first).
class EventWorkers {
 public:
  struct Options {
    int threads = 4;  // 0: none (the events wait for another replica's workers)
    absl::Duration poll_interval = absl::Seconds(5);
    absl::Duration error_pause = absl::Seconds(1);  // after a queue (database) error
    absl::Duration min_rescan_interval = absl::Milliseconds(50);
    // Workers only touch the queue while this says yes (database migrated); null: always.
    std::function<bool()> ready;
  };

  EventWorkers(Options options, EventProcessor& processor, EventStore& store, const Clock& clock);
  ~EventWorkers();

  void Start();
  // Wakes one idle worker (or the next to become idle): new events may be ready.
  void Wake();
  void Stop();

  // Number of times workers found the queue empty and went to sleep (tests poll this).
  int64_t idle_count() const;
  // Threads Start() started (0 until then, and for `threads` = 0). Not thread-safe with
  // Start/Stop.
  size_t thread_count() const { return threads_.size(); }

 private:
  void Loop();

  const Options options_;
  EventProcessor& processor_;
  EventStore& store_;
  const Clock& clock_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  int wakeups_ ABSL_GUARDED_BY(mu_) = 0;  // owed to idle workers, at most one per thread
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t idle_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::catalog
