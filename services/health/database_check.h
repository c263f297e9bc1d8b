// The `database` component: PostgreSQL reachable and every Portunus schema migrated, with
// Portus's wording ("database is up-to-date", "database is initializing", "database has not been
// created", "cannot connect to database: <reason>").
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/migrator.h"
#include "services/health/component_check.h"

namespace portunus {
class PgPool;
}

namespace portunus::health {

// Reads the migration state of the schemas Portunus uses. Implementations need not be
// thread-safe (one check uses one inspector).
class SchemaInspector {
 public:
  virtual ~SchemaInspector() = default;
  // The schemas to inspect, in a stable order ("auth", "catalog", "health").
  virtual std::vector<std::string> schemas() const = 0;
  // The state of `schema`. kUnavailable (or another code) when the database cannot be read; OK
  // with database_exists = false when the database itself does not exist.
  virtual absl::StatusOr<MigrationState> Inspect(const std::string& schema) = 0;
};

// Inspects each schema through Migrator::Inspect on a shared pool. The pool and the migration
// lists must outlive it.
class PgSchemaInspector final : public SchemaInspector {
 public:
  PgSchemaInspector(PgPool& pool, std::map<std::string, const std::vector<Migration>*> schemas);
  std::vector<std::string> schemas() const override;
  absl::StatusOr<MigrationState> Inspect(const std::string& schema) override;

 private:
  PgPool& pool_;
  const std::map<std::string, const std::vector<Migration>*> schemas_;
};

// The combined verdict over every schema: the first unreachable schema's reason wins, then a
// missing database, then pending migrations ("initializing"); else up-to-date.
DatabaseHealth DescribeSchemas(const std::vector<absl::StatusOr<MigrationState>>& states);

class DatabaseCheck final : public ComponentCheck {
 public:
  // `inspector` must outlive the check.
  explicit DatabaseCheck(SchemaInspector& inspector) : inspector_(inspector) {}
  const std::string& name() const override { return name_; }
  std::optional<ComponentStatus> Run(absl::Duration timeout) override;

 private:
  SchemaInspector& inspector_;
  const std::string name_ = "database";
};

}  // namespace portunus::health
