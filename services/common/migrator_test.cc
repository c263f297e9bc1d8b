#include "services/common/migrator.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/pg_pool.h"
#include "services/common/testing/test_database.h"

namespace portunus {
namespace {

const std::vector<Migration>& TestMigrations() {
  static const auto* const m = new std::vector<Migration>{
      {1, "create_items", "CREATE TABLE items (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL);"},
      {2, "add_counter", "CREATE TABLE runs (n int); INSERT INTO runs VALUES (1);"},
  };
  return *m;
}

TEST(MigratorTest, AppliesOnceAndReportsState) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 4});
  Migrator migrator(pool, "demo", TestMigrations());
  absl::StatusOr<MigrationState> before = migrator.Inspect();
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->pending, 2);
  EXPECT_EQ(DescribeDatabase(before).message, "database is initializing");

  absl::StatusOr<int> applied = migrator.Apply();
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 2);
  EXPECT_EQ(*migrator.Apply(), 0);
  absl::StatusOr<MigrationState> after = migrator.Inspect();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->pending, 0);
  EXPECT_EQ(after->applied, 2);
  EXPECT_EQ(DescribeDatabase(after).message, "database is up-to-date");
}

TEST(MigratorTest, ConcurrentReplicasApplyEachMigrationExactlyOnce) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 16});
  std::vector<std::thread> replicas;
  std::atomic<int> total{0}, failures{0};
  for (int i = 0; i < 8; ++i) {
    replicas.emplace_back([&] {
      Migrator m(pool, "demo", TestMigrations());
      absl::StatusOr<int> n = m.Apply();
      if (n.ok()) {
        total += *n;
      } else {
        ++failures;
      }
    });
  }
  for (auto& t : replicas) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(total.load(), 2);
  absl::StatusOr<int64_t> runs = pool.TransactValue<int64_t>([](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT count(*) FROM demo.runs")[0].as<int64_t>();
  });
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, 1);
}

TEST(MigratorTest, ChangedMigrationIsReported) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  ASSERT_TRUE(Migrator(pool, "demo", TestMigrations()).Apply().ok());
  std::vector<Migration> edited = TestMigrations();
  edited[0].sql += " -- edited";
  absl::StatusOr<int> r = Migrator(pool, "demo", edited).Apply();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("was changed after it was applied"));
}

TEST(MigratorTest, FailingMigrationRollsBackEverything) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  std::vector<Migration> bad = TestMigrations();
  bad.push_back({3, "broken", "CREATE TABLE oops (;"});
  absl::StatusOr<int> r = Migrator(pool, "demo", bad).Apply();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("migration demo/3 (broken)"));
  absl::StatusOr<MigrationState> state = Migrator(pool, "demo", TestMigrations()).Inspect();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->applied, 0);  // 1 and 2 were rolled back with 3
}

TEST(MigratorTest, UnreachableDatabase) {
  PgPool pool({"host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1", 1});
  absl::StatusOr<MigrationState> s = Migrator(pool, "demo", TestMigrations()).Inspect();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(DescribeDatabase(s).message, ::testing::StartsWith("cannot connect to database: "));
}

}  // namespace
}  // namespace portunus
