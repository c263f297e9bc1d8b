// CredentialCache: a short-lived positive cache of verified credentials, so a Docker client
// asking for a token on every pull pays bcrypt (~57 ms) once a minute instead of every time.
//
// Keys are HMAC-SHA256(per-process random key, kind ‖ user ‖ secret): the cache never holds a
// secret, and its keys are useless outside the process. Only successes are stored; a failure is
// never cached (it still counts toward lockout). Entries expire after `ttl` and are dropped at
// once when the account changes (password, tokens, disabled, deleted, locked) on any replica:
// the change feed calls ForgetUser, or ForgetAll after a reconnect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/auth/principal.h"
#include "services/common/clock.h"

namespace portunus::auth {

// Thread-safe. The clock must outlive the cache.
class CredentialCache {
 public:
  struct Options {
    absl::Duration ttl = absl::Seconds(60);  // zero disables the cache
    size_t max_entries = 100000;
  };
  CredentialCache(Options options, Clock& clock);

  bool enabled() const { return options_.ttl > absl::ZeroDuration(); }

  // The cache key of one set of credentials (the parts are length-prefixed, so no two different
  // triples share a key).
  std::string KeyFor(absl::string_view kind, absl::string_view user, absl::string_view secret) const;

  // The principal stored under `key` if it has not expired.
  std::optional<Principal> Lookup(const std::string& key);

  // A token to pass to Insert: take it *before* reading the account from the database, so an
  // invalidation that happens while the credentials are being verified wins over the insert.
  uint64_t epoch() const;
  // Stores `principal` under `key` unless something was forgotten since `epoch` was read.
  void Insert(const std::string& key, const Principal& principal, uint64_t epoch);

  // Drops every entry of account `user_id`.
  void ForgetUser(int64_t user_id);
  // Drops everything.
  void ForgetAll();

  size_t size() const;

 private:
  struct Entry {
    Principal principal;
    absl::Time expires_at;
  };

  const Options options_;
  Clock& clock_;
  const std::string hmac_key_;
  mutable absl::Mutex mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, absl::flat_hash_set<std::string>> by_user_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
