#include "services/common/pg_pool.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace portunus {

absl::Status StatusFromCurrentException(absl::string_view context) {
  const auto with = [context](absl::string_view what) {
    std::string msg(what);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return absl::StrCat(context, ": ", msg);
  };
  try {
    throw;
  } catch (const pqxx::unique_violation& e) {
    return absl::AlreadyExistsError(with(e.what()));
  } catch (const pqxx::foreign_key_violation& e) {
    return absl::FailedPreconditionError(with(e.what()));
  } catch (const pqxx::check_violation& e) {
    return absl::InvalidArgumentError(with(e.what()));
  } catch (const pqxx::not_null_violation& e) {
    return absl::InvalidArgumentError(with(e.what()));
  } catch (const pqxx::data_exception& e) {
    return absl::InvalidArgumentError(with(e.what()));
  } catch (const pqxx::transaction_rollback& e) {
    return absl::AbortedError(with(e.what()));
  } catch (const pqxx::broken_connection& e) {
    return absl::UnavailableError(with(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    return absl::UnavailableError(with(absl::StrCat("commit outcome unknown: ", e.what())));
  } catch (const pqxx::undefined_table& e) {
    return absl::FailedPreconditionError(
        with(absl::StrCat(e.what(), " (are migrations pending?)")));
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "57014") return absl::DeadlineExceededError(with("statement timeout"));
    if (e.sqlstate().rfind("57P", 0) == 0 || e.sqlstate().rfind("08", 0) == 0) {
      return absl::UnavailableError(with(e.what()));  // admin shutdown, connection exceptions
    }
    return absl::InternalError(with(absl::StrCat(e.what(), " [sqlstate ", e.sqlstate(), "]")));
  } catch (const std::exception& e) {
    return absl::InternalError(with(e.what()));
  } catch (...) {
    return absl::InternalError(with("unknown exception"));
  }
}

PgPool::PgPool(Options options) : options_(std::move(options)) {
  if (options_.metrics != nullptr) {
    auto& conns = prometheus::BuildGauge()
                      .Name("portunus_db_pool_connections")
                      .Help("PostgreSQL pool connections by state")
                      .Register(*options_.metrics);
    gauge_open_ = &conns.Add({{"state", "open"}});
    gauge_in_use_ = &conns.Add({{"state", "in_use"}});
    gauge_max_ = &prometheus::BuildGauge()
                      .Name("portunus_db_pool_max_connections")
                      .Help("Configured size of the PostgreSQL pool")
                      .Register(*options_.metrics)
                      .Add({});
    gauge_max_->Set(static_cast<double>(options_.size));
    gauge_waiting_ = &prometheus::BuildGauge()
                          .Name("portunus_db_pool_waiting_callers")
                          .Help("Callers waiting for a free PostgreSQL pool connection")
                          .Register(*options_.metrics)
                          .Add({});
    counter_errors_ = &prometheus::BuildCounter()
                           .Name("portunus_db_connection_errors_total")
                           .Help("Failed or broken PostgreSQL connections")
                           .Register(*options_.metrics)
                           .Add({});
  }
}

PgPool::~PgPool() = default;

void PgPool::UpdateGauges() {
  if (gauge_open_ == nullptr) return;
  gauge_open_->Set(static_cast<double>(open_));
  gauge_in_use_->Set(static_cast<double>(in_use_));
  gauge_waiting_->Set(static_cast<double>(waiting_));
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> PgPool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    // Only callers that actually have to wait count as waiting.
    const bool must_wait = idle_.empty() && open_ >= options_.size;
    if (must_wait) {
      ++waiting_;
      UpdateGauges();
    }
    const bool got = mu_.AwaitWithTimeout(
        absl::Condition(
            +[](PgPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return !p->idle_.empty() || p->open_ < p->options_.size;
            },
            this),
        options_.acquire_timeout);
    if (must_wait) {
      --waiting_;
      UpdateGauges();
    }
    if (!got) {
      return absl::UnavailableError(absl::StrCat("no free database connection within ",
                                                 absl::FormatDuration(options_.acquire_timeout)));
    }
    ++in_use_;
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> c = std::move(idle_.back());
      idle_.pop_back();
      UpdateGauges();
      return c;
    }
    ++open_;  // reserve a slot; connect outside the lock
    UpdateGauges();
  }
  try {
    return std::make_unique<pqxx::connection>(options_.dsn);
  } catch (...) {
    absl::Status s = StatusFromCurrentException("cannot connect to database");
    if (counter_errors_ != nullptr) counter_errors_->Increment();
    absl::MutexLock lock(&mu_);
    --open_;
    --in_use_;
    UpdateGauges();
    // A refused connection is always "retry later", whatever libpq called it.
    if (s.code() == absl::StatusCode::kInternal) return absl::UnavailableError(s.message());
    return s;
  }
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn, bool healthy) {
  absl::MutexLock lock(&mu_);
  --in_use_;
  if (healthy && conn != nullptr && conn->is_open()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
    if (counter_errors_ != nullptr && !healthy) counter_errors_->Increment();
  }
  UpdateGauges();
}

absl::Status PgPool::WithConnection(const std::function<absl::Status(pqxx::connection&)>& fn) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::unique_ptr<pqxx::connection>> conn = Acquire();
    if (!conn.ok()) return conn.status();
    bool healthy = true;
    absl::Status result;
    try {
      result = fn(**conn);
    } catch (const pqxx::broken_connection&) {
      healthy = false;
      result = StatusFromCurrentException("database connection lost");
    } catch (...) {
      result = StatusFromCurrentException("database error");
      // A statement error leaves the connection usable; a lost one does not.
      healthy = (*conn)->is_open() && result.code() != absl::StatusCode::kUnavailable;
    }
    Release(std::move(*conn), healthy);
    // Retry once when a pooled connection had died (server restart, idle timeout).
    if (!healthy && attempt == 0 && result.code() == absl::StatusCode::kUnavailable) continue;
    return result;
  }
}

absl::Status PgPool::Transact(const std::function<absl::Status(pqxx::work&)>& fn) {
  return WithConnection([&fn](pqxx::connection& c) -> absl::Status {
    pqxx::work w(c);
    absl::Status s = fn(w);
    if (s.ok()) w.commit();  // an exception here maps through WithConnection
    return s;                // not committed: the work's destructor rolls back
  });
}

absl::Status PgPool::Ping() {
  return WithConnection([](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction n(c);
    n.exec("SELECT 1");
    return absl::OkStatus();
  });
}

PgPoolStats PgPool::Stats() const {
  absl::MutexLock lock(&mu_);
  return PgPoolStats{options_.size, open_, in_use_, waiting_};
}

}  // namespace portunus
