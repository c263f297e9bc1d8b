// FeedCursorStore on PostgreSQL (scanner.feed_cursors). Thread-safe (the pool is).
#pragma once

#include "services/common/pg_pool.h"
#include "services/scanner/catalog_feed.h"

namespace portunus::scanner {

class PgFeedCursorStore final : public FeedCursorStore {
 public:
  explicit PgFeedCursorStore(PgPool& pool) : pool_(pool) {}
  absl::StatusOr<int64_t> GetCursor(const std::string& feed) override;
  absl::StatusOr<bool> AdvanceCursor(const std::string& feed, int64_t from, int64_t to) override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::scanner
