#include "services/health/database_check.h"

#include "services/common/pg_pool.h"

namespace portunus::health {

PgSchemaInspector::PgSchemaInspector(PgPool& pool,
                                     std::map<std::string, const std::vector<Migration>*> schemas)
    : pool_(pool), schemas_(std::move(schemas)) {}

std::vector<std::string> PgSchemaInspector::schemas() const {
  std::vector<std::string> out;
  for (const auto& [name, migrations] : schemas_) out.push_back(name);
  return out;
}

absl::StatusOr<MigrationState> PgSchemaInspector::Inspect(const std::string& schema) {
  auto it = schemas_.find(schema);
  if (it == schemas_.end()) return absl::NotFoundError("unknown schema " + schema);
  Migrator migrator(pool_, schema, *it->second);
  return migrator.Inspect();
}

DatabaseHealth DescribeSchemas(const std::vector<absl::StatusOr<MigrationState>>& states) {
  for (const auto& s : states) {
    if (!s.ok()) return DescribeDatabase(s);
  }
  for (const auto& s : states) {
    if (!s->database_exists) return DescribeDatabase(s);
  }
  for (const auto& s : states) {
    if (s->pending > 0) return DescribeDatabase(s);
  }
  return DescribeDatabase(MigrationState{});
}

std::optional<ComponentStatus> DatabaseCheck::Run(absl::Duration /*timeout*/) {
  // The pool's connect_timeout bounds each attempt; the monitor reports an overrun.
  std::vector<absl::StatusOr<MigrationState>> states;
  for (const std::string& schema : inspector_.schemas()) {
    states.push_back(inspector_.Inspect(schema));
    // Unreachable: the other schemas would only repeat the same wait and the same reason.
    if (!states.back().ok()) break;
  }
  const DatabaseHealth h = DescribeSchemas(states);
  ComponentStatus status;
  status.success = h.ok;
  status.message = h.message;
  return status;
}

}  // namespace portunus::health
