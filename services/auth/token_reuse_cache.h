// TokenReuseCache: recently issued tokens by (principal, service, granted access), so a burst of
// identical token requests (a pull storm: every Docker client asks for a token per pull) gets
// the same token back instead of paying for a signature each time.
//
// A cached token is handed out again only while most of its lifetime remains (the caller
// chooses how much), and only while the permissions generation it was issued under is current:
// any change to users, teams or namespaces makes every cached grant stale. The cache is bounded:
// when full it drops what can no longer be reused, and if that is not enough, everything.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace portunus::auth {

class TokenReuseCache {
 public:
  struct Entry {
    std::string token;
    absl::Time issued_at;
    absl::Time expires_at;
    absl::Time reusable_until;  // after this the token is not handed out again
    uint64_t generation = 0;    // the permissions generation it was issued under
    int64_t user_id = 0;        // for ForgetUser (0: not an account)
  };

  explicit TokenReuseCache(size_t capacity) : capacity_(capacity) {}

  // The entry for `key` when it may be handed out at `now` under `generation`.
  std::optional<Entry> Find(const std::string& key, absl::Time now, uint64_t generation);

  // Remembers a freshly issued token.
  void Put(std::string key, Entry entry, absl::Time now);

  // Drops the tokens of one account (its permissions or credentials changed), or all of them.
  void ForgetUser(int64_t user_id);
  void Clear();

  size_t size() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
