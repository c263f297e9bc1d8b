// PgAccessSource: an AccessSource that reads, for every decision, just the rows it needs from
// PostgreSQL (one short read-only transaction). The "cache off" mode (auth.authorization_cache
// .enabled: false) and the baseline of the Authorize benchmark. Blocking: run decisions on
// worker threads.
#pragma once

#include "services/auth/access_facts.h"
#include "services/common/pg_pool.h"

namespace portunus::auth {

// Thread-safe. The pool must outlive the source.
class PgAccessSource final : public AccessSource {
 public:
  explicit PgAccessSource(PgPool& pool) : pool_(pool) {}
  bool blocking() const override { return true; }
  absl::StatusOr<std::shared_ptr<const AccessSnapshot>> Facts(const FactsQuery& query) override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::auth
