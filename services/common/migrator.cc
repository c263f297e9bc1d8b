#include "services/common/migrator.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl/sha.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"

namespace portunus {
namespace {

std::string Checksum(const std::string& sql) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(sql.data()), sql.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace

Migrator::Migrator(PgPool& pool, std::string schema, const std::vector<Migration>& migrations)
    : pool_(pool), schema_(std::move(schema)), migrations_(migrations) {}

absl::StatusOr<int> Migrator::Apply() {
  return pool_.TransactValue<int>([this](pqxx::work& w) -> absl::StatusOr<int> {
    w.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "portunus:migrate:" + schema_);
    w.exec("CREATE SCHEMA IF NOT EXISTS " + w.quote_name(schema_));
    w.exec("CREATE TABLE IF NOT EXISTS " + w.quote_name(schema_) +
           ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
           "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    std::map<int, std::string> applied;
    for (const auto& row :
         w.exec("SELECT version, checksum FROM " + w.quote_name(schema_) + ".schema_migrations")) {
      applied[row[0].as<int>()] = row[1].as<std::string>();
    }
    int latest = 0;
    for (const Migration& m : migrations_) latest = std::max(latest, m.version);
    if (!applied.empty() && applied.rbegin()->first > latest) {
      return absl::FailedPreconditionError(absl::StrCat(
          "schema ", schema_, " is at version ", applied.rbegin()->first,
          ", newer than this binary (", latest, "): run a newer Portunus"));
    }
    int count = 0;
    for (const Migration& m : migrations_) {
      const std::string sum = Checksum(m.sql);
      auto it = applied.find(m.version);
      if (it != applied.end()) {
        if (it->second != sum) {
          return absl::FailedPreconditionError(absl::StrCat("migration ", schema_, "/", m.version,
                                                            " (", m.name,
                                                            ") was changed after it was applied"));
        }
        continue;
      }
      w.exec("SET LOCAL search_path TO " + w.quote_name(schema_) + ", public");
      try {
        w.exec(m.sql);
      } catch (...) {
        // Returning an error rolls the whole transaction back: nothing is half-applied.
        return StatusFromCurrentException(
            absl::StrCat("migration ", schema_, "/", m.version, " (", m.name, ")"));
      }
      w.exec_params("INSERT INTO " + w.quote_name(schema_) +
                        ".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version, m.name, sum);
      LogInfo("applied migration", {{"schema", schema_}, {"version", m.version}, {"name", m.name}});
      ++count;
    }
    return count;
  });
}

absl::StatusOr<MigrationState> Migrator::Inspect() {
  MigrationState state;
  for (const Migration& m : migrations_) state.latest = std::max(state.latest, m.version);
  absl::Status s = pool_.Transact([&](pqxx::work& w) -> absl::Status {
    const pqxx::row exists = w.exec1(
        "SELECT to_regclass(" + w.quote(schema_ + ".schema_migrations") + ") IS NOT NULL");
    std::map<int, bool> applied;
    if (exists[0].as<bool>()) {
      for (const auto& row :
           w.exec("SELECT version FROM " + w.quote_name(schema_) + ".schema_migrations")) {
        applied[row[0].as<int>()] = true;
      }
    }
    state.applied = static_cast<int>(applied.size());
    for (const Migration& m : migrations_) {
      if (!applied.count(m.version)) ++state.pending;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) {
    if (absl::StrContains(s.message(), "does not exist") &&
        absl::StrContains(s.message(), "database")) {
      state.database_exists = false;
      return state;
    }
    return s;
  }
  return state;
}

DatabaseHealth DescribeDatabase(const absl::StatusOr<MigrationState>& state) {
  if (!state.ok()) {
    std::string reason(state.status().message());
    const std::string prefix = "cannot connect to database: ";
    if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
    return {false, absl::StrCat("cannot connect to database: ", reason)};
  }
  if (!state->database_exists) return {false, "database has not been created"};
  if (state->pending > 0) return {false, "database is initializing"};
  return {true, "database is up-to-date"};
}

}  // namespace portunus
