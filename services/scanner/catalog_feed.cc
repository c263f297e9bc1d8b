#include "services/scanner/catalog_feed.h"

#include "services/common/log.h"

namespace portunus::scanner {

absl::StatusOr<CatalogFeedFollower::Pass> CatalogFeedFollower::RunOnce() {
  Pass pass;
  absl::StatusOr<int64_t> cursor = cursors_.GetCursor(kFeedName);
  if (!cursor.ok()) return cursor.status();
  int64_t at = *cursor;
  for (int batch = 0; batch < options_.max_batches; ++batch) {
    {
      absl::MutexLock l(&mu_);
      if (stopping_) break;
    }
    absl::StatusOr<ManifestFeedPage> page = feed_.ListSince(at, options_.batch);
    if (!page.ok()) return page.status();
    if (page->oldest_seq > at + 1 && !page->entries.empty()) {
      // The catalog dropped entries we never saw (its events retention): they cannot be
      // recovered from the feed; a rescan of everything covers what was already scanned.
      const int64_t missed = page->oldest_seq - at - 1;
      pass.missed += missed;
      LogWarn("catalog manifest feed: entries expired before the scanner read them; queueing every tagged manifest",
              {{"after_seq", at}, {"oldest_seq", page->oldest_seq}, {"missed", missed}});
      absl::Status listed = feed_.ListTagged([&](const std::vector<ManifestFeedEntry>& tagged) -> absl::Status {
        for (const ManifestFeedEntry& e : tagged) {
          absl::StatusOr<EnqueueOutcome> out = api_.Enqueue(e.repository, e.digest, /*force=*/false);
          if (absl::IsInvalidArgument(out.status())) {
            ++pass.skipped;
            continue;
          }
          if (!out.ok()) return out.status();
          if (out->queued) ++pass.caught_up;
        }
        return absl::OkStatus();
      });
      // Not caught up: the cursor stays before the gap, so the next poll tries again.
      if (!listed.ok()) return listed;
    }
    if (page->entries.empty()) break;
    int64_t last = at;
    for (const ManifestFeedEntry& e : page->entries) {
      ++pass.seen;
      if (e.seq > last) last = e.seq;
      absl::StatusOr<EnqueueOutcome> out = api_.Enqueue(e.repository, e.digest, /*force=*/false);
      if (absl::IsInvalidArgument(out.status())) {
        ++pass.skipped;
        LogWarn("catalog manifest feed: entry skipped",
                {{"seq", e.seq}, {"repository", e.repository}, {"digest", e.digest}, {"error", out.status()}});
        continue;
      }
      if (!out.ok()) return out.status();
      if (out->queued) ++pass.queued;
    }
    if (last <= at) break;  // a feed that does not move forward: stop rather than loop
    absl::StatusOr<bool> moved = cursors_.AdvanceCursor(kFeedName, at, last);
    if (!moved.ok()) return moved.status();
    if (!*moved) {
      // Another replica advanced it: continue from where it is now.
      absl::StatusOr<int64_t> now = cursors_.GetCursor(kFeedName);
      if (!now.ok()) return now.status();
      at = *now;
      continue;
    }
    at = last;
    if (static_cast<int>(page->entries.size()) < options_.batch) break;
  }
  return pass;
}

void CatalogFeedFollower::Start() {
  thread_ = std::thread([this] {
    absl::Status last_error;
    for (;;) {
      absl::StatusOr<Pass> pass = RunOnce();
      if (!pass.ok()) {
        // Log once per outage, not on every poll.
        if (pass.status() != last_error) {
          LogWarn("catalog manifest feed unavailable; retrying", {{"error", pass.status()}});
        }
        last_error = pass.status();
      } else {
        if (!last_error.ok()) LogInfo("catalog manifest feed reachable again");
        last_error = absl::OkStatus();
        if (pass->seen > 0) {
          LogInfo("catalog manifest feed read", {{"seen", pass->seen},
                                                 {"queued", pass->queued},
                                                 {"caught_up", pass->caught_up},
                                                 {"skipped", pass->skipped}});
        }
      }
      absl::MutexLock l(&mu_);
      auto stop = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stop), options_.poll_interval)) return;
    }
  });
}

void CatalogFeedFollower::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace portunus::scanner
