// PgReplicaStore and PgSchemaInspector against a real PostgreSQL (the ctest `pg` fixture).
#include "services/health/pg_replica_store.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/testing/test_database.h"
#include "services/health/database_check.h"
#include "services/health/migrations.h"

namespace portunus::health {
namespace {

ReplicaRecord Replica(const std::string& id, absl::Time heartbeat) {
  ReplicaRecord r;
  r.id = id;
  r.service = "catalog";
  r.hostname = "node-1";
  r.pid = 4242;
  r.address = "10.0.0.7:50052";
  r.version = "0.1.0";
  r.started_at = absl::FromUnixMicros(1699999000123456);
  r.last_heartbeat = heartbeat;
  r.ready = false;
  r.reason = "database is initializing";
  return r;
}

TEST(PgReplicaStoreTest, SavesListsKeepsTheNewestAndExpires) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  ASSERT_TRUE(Migrator(pool, "health", Migrations()).Apply().ok());
  PgReplicaStore store(pool);

  const absl::Time t0 = absl::FromUnixMicros(1700000000654321);
  ReplicaRecord a = Replica("catalog-aaa", t0);
  ReplicaRecord b = Replica("catalog-bbb", t0 + absl::Seconds(1));
  b.ready = true;
  b.reason = "";
  b.stopped = true;
  ASSERT_TRUE(store.Save({a, b}).ok());
  absl::StatusOr<std::vector<ReplicaRecord>> all = store.List();
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], a);  // microsecond-exact round trip
  EXPECT_EQ((*all)[1], b);

  // An older heartbeat (another health replica lagging) does not overwrite a newer one.
  ReplicaRecord older = a;
  older.last_heartbeat = t0 - absl::Seconds(5);
  older.hostname = "stale-copy";
  ASSERT_TRUE(store.Save({older}).ok());
  ReplicaRecord newer = a;
  newer.last_heartbeat = t0 + absl::Seconds(5);
  newer.ready = true;
  ASSERT_TRUE(store.Save({newer}).ok());
  all = store.List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0], newer);

  absl::StatusOr<int64_t> deleted = store.DeleteBefore(t0 + absl::Seconds(2));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);  // b
  all = store.List();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "catalog-aaa");
  EXPECT_TRUE(store.Save({}).ok());
}

TEST(PgReplicaStoreTest, UnreachableDatabaseIsUnavailable) {
  PgPool pool({"host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", 1});
  PgReplicaStore store(pool);
  EXPECT_EQ(store.List().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store.Save({Replica("x", absl::Now())}).code(), absl::StatusCode::kUnavailable);
}

TEST(PgSchemaInspectorTest, ReportsEachStateWithPortusWording) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  const std::vector<Migration> other = {{1, "first", "CREATE TABLE t (id int)"}};
  PgSchemaInspector inspector(pool, {{"health", &Migrations()}, {"other", &other}});
  EXPECT_THAT(inspector.schemas(), ::testing::ElementsAre("health", "other"));
  DatabaseCheck check(inspector);
  EXPECT_EQ(check.Run(absl::Seconds(3))->message, "database is initializing");

  ASSERT_TRUE(Migrator(pool, "health", Migrations()).Apply().ok());
  EXPECT_EQ(check.Run(absl::Seconds(3))->message, "database is initializing");
  ASSERT_TRUE(Migrator(pool, "other", other).Apply().ok());
  auto ok = check.Run(absl::Seconds(3));
  EXPECT_TRUE(ok->success);
  EXPECT_EQ(ok->message, "database is up-to-date");

  // A database that does not exist on a reachable server.
  PgPool missing_pool({db->dsn() + "_missing", 1});
  PgSchemaInspector missing(missing_pool, {{"health", &Migrations()}});
  DatabaseCheck missing_check(missing);
  auto r = missing_check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->message, "database has not been created");

  PgPool down_pool({"host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2", 1});
  PgSchemaInspector down(down_pool, {{"health", &Migrations()}});
  DatabaseCheck down_check(down);
  r = down_check.Run(absl::Seconds(3));
  EXPECT_FALSE(r->success);
  EXPECT_THAT(r->message, ::testing::StartsWith("cannot connect to database: "));
  EXPECT_THAT(r->message, ::testing::HasSubstr("127.0.0.1"));
}

}  // namespace
}  // namespace portunus::health
