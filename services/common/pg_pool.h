// PgPool: a bounded pool of PostgreSQL connections (libpqxx 6.4) that reconnects on its own and
// turns every libpqxx exception into an absl::Status. It is the only way Portunus code talks to
// PostgreSQL; adapters (pg_*_store.cc) are the only files that include it.
//
// Exception mapping (STYLE.md §3): unique_violation -> kAlreadyExists; foreign_key_violation ->
// kFailedPrecondition; check/not-null violations and data exceptions -> kInvalidArgument;
// serialization failures and deadlocks -> kAborted; broken connections, too many connections,
// in-doubt commits -> kUnavailable; statement timeout -> kDeadlineExceeded; an undefined table
// -> kFailedPrecondition ("pending migrations?"); anything else -> kInternal.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Gauge;
class Counter;
}  // namespace prometheus

namespace portunus {

// Maps the exception currently being handled (call from a catch block) to a Status whose
// message starts with `context`.
absl::Status StatusFromCurrentException(absl::string_view context);

struct PgPoolStats {
  size_t max = 0;
  size_t open = 0;    // connections that exist (idle + in use)
  size_t in_use = 0;  // leased right now
  size_t waiting = 0; // callers waiting for a connection
};

// Thread-safe. Connections are opened lazily, so constructing a pool never fails and a service
// can start while its database is down (it reports NOT_SERVING until the database is back).
class PgPool {
 public:
  struct Options {
    std::string dsn;                                      // libpq connection string
    size_t size = 8;                                      // max open connections
    absl::Duration acquire_timeout = absl::Seconds(10);   // wait for a free connection
    prometheus::Registry* metrics = nullptr;              // optional: pool gauges
  };

  explicit PgPool(Options options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs `fn` in a read-write transaction and commits when it returns OK (rolls back otherwise).
  // When a pooled connection turns out to be dead before `fn` completes, the whole transaction
  // is retried once on a fresh connection, so `fn` must not have effects outside the database
  // that cannot be repeated. Returns fn's status, or the mapped exception, or kUnavailable /
  // kDeadlineExceeded when no connection could be had.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& fn);

  // Like Transact, returning a value.
  template <typename T>
  absl::StatusOr<T> TransactValue(const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    absl::StatusOr<T> result = absl::InternalError("transaction did not run");
    absl::Status s = Transact([&](pqxx::work& w) -> absl::Status {
      result = fn(w);
      return result.status();
    });
    if (!s.ok()) return s;
    return result;
  }

  // Runs `fn` with a connection and no transaction (LISTEN, session advisory locks, autocommit
  // statements). Same retry and mapping rules as Transact.
  absl::Status WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn);

  // Opens (or reuses) a connection and runs SELECT 1. kUnavailable with libpq's reason when the
  // database cannot be reached.
  absl::Status Ping();

  PgPoolStats Stats() const;
  const std::string& dsn() const { return options_.dsn; }

 private:
  class Lease;
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn, bool healthy);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  size_t open_ ABSL_GUARDED_BY(mu_) = 0;
  size_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  size_t waiting_ ABSL_GUARDED_BY(mu_) = 0;

  prometheus::Gauge* gauge_open_ = nullptr;
  prometheus::Gauge* gauge_in_use_ = nullptr;
  prometheus::Gauge* gauge_max_ = nullptr;
  prometheus::Gauge* gauge_waiting_ = nullptr;
  prometheus::Counter* counter_errors_ = nullptr;
};

// Runs `sql` as the prepared statement `name` on w's connection, preparing it there on first
// use: parsed and planned once per connection instead of once per call, for the statements a
// service runs thousands of times a second. One name, one sql, everywhere (libpqxx throws on
// a different redefinition). Connections the pool replaces start without it and prepare again.
template <typename... Args>
pqxx::result ExecPrepared(pqxx::transaction_base& w, const std::string& name, const std::string& sql,
                          Args&&... args) {
  w.conn().prepare(name, sql);  // no-op once defined on this connection
  return w.exec_prepared(name, std::forward<Args>(args)...);
}

}  // namespace portunus
