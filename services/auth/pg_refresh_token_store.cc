#include "services/auth/pg_refresh_token_store.h"

#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace portunus::auth {
namespace {

// Times travel as integer microseconds since the epoch, so nothing is lost to floats or zones.
constexpr char kColumns[] =
    "id, user_id, username, service, client_id, "
    "(extract(epoch FROM created_at) * 1000000)::bigint, "
    "(extract(epoch FROM expires_at) * 1000000)::bigint";

std::string FromMicros(int param) {
  return absl::StrCat("('epoch'::timestamptz + $", param, "::bigint * interval '1 microsecond')");
}

RefreshTokenRecord FromRow(const pqxx::row& row) {
  RefreshTokenRecord r;
  r.id = row[0].as<int64_t>();
  r.user_id = row[1].as<int64_t>();
  r.username = row[2].as<std::string>();
  r.service = row[3].as<std::string>();
  r.client_id = row[4].as<std::string>();
  r.created_at = absl::FromUnixMicros(row[5].as<int64_t>());
  r.expires_at = row[6].is_null() ? absl::InfiniteFuture() : absl::FromUnixMicros(row[6].as<int64_t>());
  return r;
}

std::optional<int64_t> Micros(absl::Time t) {
  if (t == absl::InfiniteFuture()) return std::nullopt;
  return absl::ToUnixMicros(t);
}

}  // namespace

absl::StatusOr<RefreshTokenRecord> PgRefreshTokenStore::Create(const std::string& digest,
                                                               const RefreshTokenRecord& record) {
  if (digest.size() != 32) return absl::InvalidArgumentError("refresh token digest must be 32 bytes");
  return pool_.TransactValue<RefreshTokenRecord>([&](pqxx::work& w) -> absl::StatusOr<RefreshTokenRecord> {
    const std::optional<int64_t> expires = Micros(record.expires_at);
    pqxx::row row = w.exec_params1(
        absl::StrCat("INSERT INTO auth.refresh_tokens "
                     "(token_digest, user_id, username, service, client_id, created_at, expires_at) "
                     "VALUES (decode($1, 'hex'), $2, $3, $4, $5, ",
                     FromMicros(6), ", ", FromMicros(7), ") RETURNING ", kColumns),
        absl::BytesToHexString(digest), record.user_id, record.username, record.service,
        record.client_id, absl::ToUnixMicros(record.created_at), expires);
    return FromRow(row);
  });
}

absl::StatusOr<RefreshTokenRecord> PgRefreshTokenStore::Find(const std::string& digest) {
  return pool_.TransactValue<RefreshTokenRecord>([&](pqxx::work& w) -> absl::StatusOr<RefreshTokenRecord> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", kColumns,
                     " FROM auth.refresh_tokens WHERE token_digest = decode($1, 'hex')"),
        absl::BytesToHexString(digest));
    if (r.empty()) return absl::NotFoundError("refresh token not found");
    return FromRow(r[0]);
  });
}

absl::StatusOr<std::vector<RefreshTokenRecord>> PgRefreshTokenStore::ListForUser(int64_t user_id) {
  return pool_.TransactValue<std::vector<RefreshTokenRecord>>(
      [&](pqxx::work& w) -> absl::StatusOr<std::vector<RefreshTokenRecord>> {
        pqxx::result r = w.exec_params(
            absl::StrCat("SELECT ", kColumns,
                         " FROM auth.refresh_tokens WHERE user_id = $1 ORDER BY id DESC"),
            user_id);
        std::vector<RefreshTokenRecord> out;
        for (const pqxx::row& row : r) out.push_back(FromRow(row));
        return out;
      });
}

absl::Status PgRefreshTokenStore::Revoke(int64_t id, int64_t user_id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result r = w.exec_params(
        "DELETE FROM auth.refresh_tokens WHERE id = $1::bigint AND ($2::bigint = 0 OR user_id = $2::bigint)", id, user_id);
    if (r.affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("refresh token ", id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> PgRefreshTokenStore::RevokeAllForUser(int64_t user_id) {
  return pool_.TransactValue<int>([&](pqxx::work& w) -> absl::StatusOr<int> {
    pqxx::result r = w.exec_params("DELETE FROM auth.refresh_tokens WHERE user_id = $1", user_id);
    return static_cast<int>(r.affected_rows());
  });
}

absl::StatusOr<int> PgRefreshTokenStore::DeleteExpired(absl::Time now) {
  return pool_.TransactValue<int>([&](pqxx::work& w) -> absl::StatusOr<int> {
    pqxx::result r = w.exec_params(
        absl::StrCat("DELETE FROM auth.refresh_tokens WHERE expires_at < ", FromMicros(1)),
        absl::ToUnixMicros(now));
    return static_cast<int>(r.affected_rows());
  });
}

}  // namespace portunus::auth
