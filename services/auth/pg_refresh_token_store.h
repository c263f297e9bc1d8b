// PgRefreshTokenStore: RefreshTokenStore on PostgreSQL (auth.refresh_tokens, migration 0050).
#pragma once

#include "services/auth/refresh_token_store.h"
#include "services/common/pg_pool.h"

namespace portunus::auth {

// Thread-safe; the pool must outlive the store.
class PgRefreshTokenStore final : public RefreshTokenStore {
 public:
  explicit PgRefreshTokenStore(PgPool& pool) : pool_(pool) {}

  absl::StatusOr<RefreshTokenRecord> Create(const std::string& digest,
                                            const RefreshTokenRecord& record) override;
  absl::StatusOr<RefreshTokenRecord> Find(const std::string& digest) override;
  absl::StatusOr<std::vector<RefreshTokenRecord>> ListForUser(int64_t user_id) override;
  absl::Status Revoke(int64_t id, int64_t user_id) override;
  absl::StatusOr<int> RevokeAllForUser(int64_t user_id) override;
  absl::StatusOr<int> DeleteExpired(absl::Time now) override;

 private:
  PgPool& pool_;
};

}  // namespace portunus::auth
