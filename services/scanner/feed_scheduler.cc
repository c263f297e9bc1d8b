#include "services/scanner/feed_scheduler.h"

#include "services/common/log.h"

namespace portunus::scanner {

void FeedScheduler::Start() {
  if (options_.feeds.empty() || options_.interval <= absl::ZeroDuration()) return;
  thread_ = std::thread([this] {
    for (;;) {
      RunOnce();
      absl::MutexLock l(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.interval)) return;
    }
  });
}

void FeedScheduler::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

int FeedScheduler::RunOnce() {
  int failures = 0;
  for (const std::string& feed : options_.feeds) {
    {
      absl::MutexLock l(&mu_);
      if (stopping_) break;
    }
    ImportRequest req;
    req.location = feed;
    absl::StatusOr<ImportOutcome> out = api_.Import(req);
    if (!out.ok()) {
      ++failures;
      LogWarn("vulnerability feed update failed", {{"feed", feed}, {"error", out.status()}});
      continue;
    }
    LogInfo("vulnerability feed checked",
            {{"feed", feed}, {"unchanged", out->summary.unchanged}, {"affected", out->summary.affected},
             {"rematch_queued", out->rematch_queued}});
  }
  return failures;
}

}  // namespace portunus::scanner
