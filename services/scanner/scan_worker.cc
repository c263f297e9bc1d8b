#include "services/scanner/scan_worker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::scanner {

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kCancelled:
      return true;
    default:
      return false;
  }
}

void ScanWorker::Start() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = false;
  }
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void ScanWorker::Stop(absl::Time /*deadline*/) {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void ScanWorker::Wake() {
  absl::MutexLock l(&mu_);
  ++wakeups_;
}

void ScanWorker::Loop(int index) {
  const std::string worker = absl::StrCat(options_.worker_id, "/", index);
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<bool> ran = RunOnce(worker);
    if (!ran.ok()) LogWarn("scan queue unavailable", {{"worker", worker}, {"error", ran.status()}});
    if (ran.ok() && *ran) continue;  // there may be more ready
    absl::MutexLock l(&mu_);
    const int seen = wakeups_;
    auto woken = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || wakeups_ != seen; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), options_.poll_interval);
  }
}

absl::StatusOr<bool> ScanWorker::RunOnce(const std::string& worker) {
  absl::StatusOr<std::optional<ScanJob>> claimed = store_.ClaimJob(worker, options_.lease);
  if (!claimed.ok()) return claimed.status();
  if (!claimed->has_value()) return false;
  const ScanJob job = **claimed;
  const absl::Time start = clock_.Now();
  absl::Status s;
  if (job.kind == ScanJob::Kind::kRematch) {
    absl::StatusOr<std::vector<RematchChange>> changes = scanner_.RematchAll();
    s = changes.status();
    if (s.ok()) {
      LogInfo("re-matched stored inventories", {{"manifests_gained", changes->size()}});
    }
  } else {
    s = scanner_.Scan(job.repository, job.digest);
  }
  if (s.ok()) {
    if (job.kind == ScanJob::Kind::kScan) {
      LogInfo("scanned", {{"repository", job.repository}, {"digest", job.digest},
                          {"seconds", absl::ToDoubleSeconds(clock_.Now() - start)}});
    }
    absl::Status f = store_.FinishJob(job.id);
    if (!f.ok()) return f;
    return true;
  }
  const std::string reason(s.message());
  if (IsTransient(s) && job.attempts < options_.max_attempts) {
    const absl::Duration backoff =
        std::min(options_.retry_backoff * (int64_t{1} << std::min(job.attempts - 1, 20)), absl::Hours(1));
    LogWarn("scan failed, will retry", {{"digest", job.digest}, {"attempt", job.attempts}, {"error", s}});
    absl::Status f = store_.FailJob(job.id, reason, clock_.Now() + backoff);
    if (!f.ok()) return f;
    return true;
  }
  LogWarn("scan failed", {{"repository", job.repository}, {"digest", job.digest}, {"error", s}});
  if (job.kind == ScanJob::Kind::kScan) {
    absl::Status p = store_.PutFailure(job.digest, reason, clock_.Now());
    if (!p.ok()) return p;
  }
  absl::Status f = store_.FailJob(job.id, reason, std::nullopt);
  if (!f.ok()) return f;
  return true;
}

}  // namespace portunus::scanner
