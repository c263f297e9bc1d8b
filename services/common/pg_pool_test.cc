#include "services/common/pg_pool.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/testing/test_database.h"

namespace portunus {
namespace {

TEST(PgPoolTest, MapsConstraintErrors) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  ASSERT_TRUE(pool.Transact([](pqxx::work& w) {
                    w.exec("CREATE TABLE t (id int PRIMARY KEY, v int CHECK (v > 0))");
                    w.exec("INSERT INTO t VALUES (1, 1)");
                    return absl::OkStatus();
                  }).ok());
  absl::Status dup = pool.Transact([](pqxx::work& w) {
    w.exec("INSERT INTO t VALUES (1, 2)");
    return absl::OkStatus();
  });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  absl::Status check = pool.Transact([](pqxx::work& w) {
    w.exec("INSERT INTO t VALUES (2, -1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(check.code(), absl::StatusCode::kInvalidArgument);
  absl::Status missing = pool.Transact([](pqxx::work& w) {
    w.exec("SELECT * FROM nope");
    return absl::OkStatus();
  });
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PgPoolTest, ErrorStatusRollsBack) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  ASSERT_TRUE(pool.Transact([](pqxx::work& w) {
                    w.exec("CREATE TABLE t (id int)");
                    return absl::OkStatus();
                  }).ok());
  absl::Status s = pool.Transact([](pqxx::work& w) {
    w.exec("INSERT INTO t VALUES (1)");
    return absl::NotFoundError("changed my mind");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  absl::StatusOr<int64_t> n = pool.TransactValue<int64_t>([](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT count(*) FROM t")[0].as<int64_t>();
  });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
}

TEST(PgPoolTest, RecoversFromKilledConnections) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 1});
  ASSERT_TRUE(pool.Ping().ok());
  // Kill every other backend of this database, including the pooled connection.
  {
    pqxx::connection killer(db->dsn());
    pqxx::nontransaction n(killer);
    n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
           "AND pid <> pg_backend_pid()");
  }
  EXPECT_TRUE(pool.Ping().ok());  // retried on a fresh connection
  EXPECT_EQ(pool.Stats().open, 1u);
}

TEST(PgPoolTest, ExecPreparedPreparesOncePerConnectionAndAgainOnANewOne) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 1});
  auto run = [&](int n) {
    return pool.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
      const int64_t sum = ExecPrepared(w, "add_one", "SELECT $1::bigint + 1", n).at(0)[0].as<int64_t>();
      const int64_t prepared =
          w.exec("SELECT count(*) FROM pg_prepared_statements WHERE name = 'add_one'")[0][0].as<int64_t>();
      return sum * 10 + prepared;
    });
  };
  for (int n = 1; n <= 3; ++n) EXPECT_EQ(*run(n), (n + 1) * 10 + 1);
  {
    pqxx::connection killer(db->dsn());
    pqxx::nontransaction k(killer);
    k.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
           "AND pid <> pg_backend_pid()");
  }
  absl::StatusOr<int64_t> after = run(7);  // a fresh connection: prepared again
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, 81);
}

TEST(PgPoolTest, UnreachableIsUnavailable) {
  PgPool pool({"host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1", 1});
  EXPECT_EQ(pool.Ping().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.Stats().open, 0u);
}

TEST(PgPoolTest, AcquireTimesOutWhenExhausted) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 1, absl::Milliseconds(100)});
  absl::Status inner;
  ASSERT_TRUE(pool.Transact([&](pqxx::work&) {
                    inner = pool.Ping();  // the only connection is leased
                    return absl::OkStatus();
                  }).ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kUnavailable);
}

// The pool gauges (docs/observability.md) as a scrape sees them while a caller waits.
TEST(PgPoolTest, ExportsUsageGauges) {
  PORTUNUS_TEST_DATABASE(db);
  prometheus::Registry registry;
  PgPool pool({db->dsn(), 1, absl::Seconds(30), &registry});
  const auto value = [&registry](const std::string& name, const std::string& state) {
    for (const auto& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const auto& m : family.metric) {
        if (state.empty() || (!m.label.empty() && m.label[0].value == state)) return m.gauge.value;
      }
    }
    return -1.0;
  };
  EXPECT_EQ(value("portunus_db_pool_max_connections", ""), 1);
  double in_use = -1;
  bool saw_waiter = false;
  absl::Status waiter_status;
  std::thread waiter;
  ASSERT_TRUE(pool.Transact([&](pqxx::work&) {
                    in_use = value("portunus_db_pool_connections", "in_use");
                    waiter = std::thread([&] { waiter_status = pool.Ping(); });
                    const absl::Time give_up = absl::Now() + absl::Seconds(20);
                    while (!saw_waiter && absl::Now() < give_up) {
                      saw_waiter = value("portunus_db_pool_waiting_callers", "") == 1;
                      if (!saw_waiter) absl::SleepFor(absl::Milliseconds(5));  // polling a gauge
                    }
                    return absl::OkStatus();  // releases the connection to the waiter
                  }).ok());
  waiter.join();
  EXPECT_EQ(in_use, 1);
  EXPECT_TRUE(saw_waiter);
  EXPECT_TRUE(waiter_status.ok()) << waiter_status;
  EXPECT_EQ(value("portunus_db_pool_waiting_callers", ""), 0);
  EXPECT_EQ(value("portunus_db_pool_connections", "in_use"), 0);
  EXPECT_EQ(value("portunus_db_pool_connections", "open"), 1);
}

}  // namespace
}  // namespace portunus
