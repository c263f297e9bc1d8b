// EventWorkers runs EventProcessor on a few threads. They drain the queue, then sleep until
// woken (Wake(), called for every PostgreSQL NOTIFY on the events channel), until the next
// retry is due, or at the latest after `poll_interval` (the slow-poll fallback for a lost
// notification or a listener that is reconnecting).
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
    int threads = 4;
    absl::Duration poll_interval = absl::Seconds(5);
    absl::Duration error_pause = absl::Seconds(1);  // after a queue (database) error
    // Workers only touch the queue while this says yes (database migrated); null: always.
    std::function<bool()> ready;
  };

  EventWorkers(Options options, EventProcessor& processor, EventStore& store, const Clock& clock);
  ~EventWorkers();

  void Start();
  // Wakes idle workers: new events may be ready.
  void Wake();
  void Stop();

  // Number of times workers found the queue empty and went to sleep (tests poll this).
  int64_t idle_count() const;

 private:
  void Loop();

  const Options options_;
  EventProcessor& processor_;
  EventStore& store_;
  const Clock& clock_;
  std::vector<std::thread> threads_;
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t idle_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::catalog
