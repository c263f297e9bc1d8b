#include "services/scanner/pg_feed_cursor_store.h"

#include <pqxx/pqxx>

namespace portunus::scanner {

absl::StatusOr<int64_t> PgFeedCursorStore::GetCursor(const std::string& feed) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    pqxx::result r = w.exec_params("SELECT seq FROM scanner.feed_cursors WHERE feed = $1", feed);
    return r.empty() ? int64_t{0} : r[0][0].as<int64_t>();
  });
}

absl::StatusOr<bool> PgFeedCursorStore::AdvanceCursor(const std::string& feed, int64_t from, int64_t to) {
  if (to <= from) return absl::InvalidArgumentError("a feed cursor only moves forward");
  return pool_.TransactValue<bool>([&](pqxx::work& w) -> absl::StatusOr<bool> {
    // A missing row is cursor 0: create it at `to` only when `from` is 0.
    pqxx::result r = w.exec_params(
        "INSERT INTO scanner.feed_cursors (feed, seq) SELECT $1, $3::bigint WHERE $2::bigint = 0 "
        "ON CONFLICT (feed) DO UPDATE SET seq = EXCLUDED.seq, updated_at = now() "
        "WHERE scanner.feed_cursors.seq = $2::bigint RETURNING seq",
        feed, from, to);
    if (!r.empty()) return true;
    r = w.exec_params(
        "UPDATE scanner.feed_cursors SET seq = $3::bigint, updated_at = now() WHERE feed = $1 AND seq = $2::bigint RETURNING seq", feed,
        from, to);
    return !r.empty();
  });
}

}  // namespace portunus::scanner
