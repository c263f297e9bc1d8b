// Versioned SQL migrations, embedded in each service's binary (services/<svc>/migrations/
// NNNN_description.sql, compiled in by cmake/EmbedMigrations.cmake). Each service owns one
// PostgreSQL schema named after it and records applied versions in <schema>.schema_migrations.
//
// Apply() runs all pending migrations in one transaction holding a transaction-scoped advisory
// lock per schema, so N replicas starting together apply each migration exactly once and the
// schema is never seen half-migrated. Applied migrations are checksummed: editing one after it
// shipped is reported instead of silently ignored.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace portunus {

class PgPool;

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

struct MigrationState {
  bool database_exists = true;  // false: the database named in db.database does not exist
  int applied = 0;              // migrations recorded in <schema>.schema_migrations
  int pending = 0;              // migrations the binary has and the database lacks
  int latest = 0;               // highest version known to the binary
};

// Thread-safe (stateless apart from the borrowed pool, which must outlive it).
class Migrator {
 public:
  Migrator(PgPool& pool, std::string schema, const std::vector<Migration>& migrations);

  // Applies pending migrations. Returns how many were applied by this call (0 when another
  // replica already did). kUnavailable: database unreachable. kFailedPrecondition: an applied
  // migration differs from the embedded one, or the database is newer than this binary.
  // Other codes: the failing migration's SQL error, with its version and name.
  absl::StatusOr<int> Apply();

  // Reads the state without changing anything. kUnavailable when the database is unreachable
  // (database_exists is reported as false, with OK, when the server says it does not exist).
  absl::StatusOr<MigrationState> Inspect();

  const std::string& schema() const { return schema_; }

 private:
  PgPool& pool_;
  const std::string schema_;
  const std::vector<Migration>& migrations_;
};

// "database is up-to-date", "database is initializing", "database has not been created" or
// "cannot connect to database: <reason>" (Portus's /api/v1/health wording).
struct DatabaseHealth {
  bool ok = false;
  std::string message;
};
DatabaseHealth DescribeDatabase(const absl::StatusOr<MigrationState>& state);

}  // namespace portunus
