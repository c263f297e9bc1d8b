// RefreshTokenStore keeps OAuth2 refresh tokens (distribution docs/spec/auth/oauth.md). A
// refresh token is bound to one account and one service (the registry it may get access tokens
// for); only its SHA-256 digest is stored, so a database leak does not leak usable tokens.
// Revoking deletes it. It is an interface so TokenIssuer can be tested without PostgreSQL
// (FakeRefreshTokenStore, fake_refresh_token_store.h); PgRefreshTokenStore is the real one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::auth {

struct RefreshTokenRecord {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string username;   // the account's name when the token was issued
  std::string service;    // the only audience it can get tokens for
  std::string client_id;  // as the client named itself ("docker", ...), informational
  absl::Time created_at;
  absl::Time expires_at = absl::InfiniteFuture();
};

// Implementations are thread-safe.
class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;

  // Stores a token by its 32-byte digest; returns the record with its id. kAlreadyExists on a
  // digest collision; kUnavailable when the store cannot be reached.
  virtual absl::StatusOr<RefreshTokenRecord> Create(const std::string& digest,
                                                    const RefreshTokenRecord& record) = 0;

  // The token with this digest. kNotFound when there is none (never issued, or revoked).
  virtual absl::StatusOr<RefreshTokenRecord> Find(const std::string& digest) = 0;

  // Every token of an account, newest first.
  virtual absl::StatusOr<std::vector<RefreshTokenRecord>> ListForUser(int64_t user_id) = 0;

  // Revokes one token. kNotFound when there is no such id (or it belongs to another account
  // while `user_id` is not 0).
  virtual absl::Status Revoke(int64_t id, int64_t user_id) = 0;

  // Revokes every token of an account; returns how many there were.
  virtual absl::StatusOr<int> RevokeAllForUser(int64_t user_id) = 0;

  // Deletes tokens that expired before `now`; returns how many.
  virtual absl::StatusOr<int> DeleteExpired(absl::Time now) = 0;
};

}  // namespace portunus::auth
