// WorkerPool runs blocking work (database calls, bcrypt, registry HTTP calls) off gRPC's and
// the HTTP server's event threads, so a slow query never stalls request dispatch.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace portunus {

// A fixed set of threads draining one FIFO queue. Thread-safe. The destructor finishes every
// task already scheduled, then joins the threads.
class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Tasks scheduled after shutdown began run inline on the caller's thread, so
  // no completion is ever lost.
  void Schedule(std::function<void()> task);

  // Number of tasks waiting (not running).
  size_t QueueDepth() const;
  size_t size() const { return threads_.size(); }

 private:
  void Loop();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace portunus
