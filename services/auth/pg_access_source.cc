#include "services/auth/pg_access_source.h"

#include "services/auth/pg_access_loader.h"

namespace portunus::auth {

absl::StatusOr<std::shared_ptr<const AccessSnapshot>> PgAccessSource::Facts(const FactsQuery& query) {
  return pool_.TransactValue<std::shared_ptr<const AccessSnapshot>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::shared_ptr<const AccessSnapshot>> {
        return std::shared_ptr<const AccessSnapshot>(LoadAccessFactsFor(w, query));
      });
}

}  // namespace portunus::auth
