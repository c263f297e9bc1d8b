// PgFeedCursorStore against a real PostgreSQL: a cursor starts at 0, only moves forward from
// the value the caller saw, and concurrent advances from the same value let exactly one win.
#include "services/scanner/pg_feed_cursor_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/migrator.h"
#include "services/common/testing/test_database.h"
#include "services/scanner/migrations.h"

namespace portunus::scanner {
namespace {

TEST(PgFeedCursorStoreTest, CompareAndSetForward) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 8});
  absl::StatusOr<int> applied = Migrator(pool, "scanner", Migrations()).Apply();
  ASSERT_TRUE(applied.ok()) << applied.status();
  PgFeedCursorStore store(pool);

  ASSERT_EQ(*store.GetCursor("catalog.manifests"), 0);
  EXPECT_FALSE(*store.AdvanceCursor("catalog.manifests", 5, 9));  // it is 0, not 5
  EXPECT_TRUE(*store.AdvanceCursor("catalog.manifests", 0, 9));
  EXPECT_EQ(*store.GetCursor("catalog.manifests"), 9);
  EXPECT_FALSE(*store.AdvanceCursor("catalog.manifests", 0, 3));  // never back
  EXPECT_TRUE(*store.AdvanceCursor("catalog.manifests", 9, 5000000000));
  EXPECT_EQ(*store.GetCursor("catalog.manifests"), 5000000000);
  EXPECT_EQ(store.AdvanceCursor("catalog.manifests", 7, 7).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*store.GetCursor("other"), 0);  // feeds are independent

  // Eight replicas advance from the same value at once: exactly one wins.
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<bool> moved = store.AdvanceCursor("race", 0, 10 + i);
      if (moved.ok() && *moved) ++wins;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_GE(*store.GetCursor("race"), 10);
}

}  // namespace
}  // namespace portunus::scanner
