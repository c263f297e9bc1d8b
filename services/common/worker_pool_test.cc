#include "services/common/worker_pool.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace portunus {
namespace {

TEST(WorkerPoolTest, RunsEveryTaskAndDrainsOnDestruction) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&done] { done.fetch_add(1); });
  }
  EXPECT_EQ(done.load(), 1000);
}

TEST(WorkerPoolTest, TasksRunConcurrently) {
  WorkerPool pool(2);
  absl::BlockingCounter both(2);
  absl::Notification release;
  for (int i = 0; i < 2; ++i) {
    pool.Schedule([&] {
      both.DecrementCount();
      release.WaitForNotification();
    });
  }
  both.Wait();  // would hang if the two tasks could not run at the same time
  release.Notify();
}

}  // namespace
}  // namespace portunus
