#include "services/auth/token_reuse_cache.h"

#include <utility>

namespace portunus::auth {

std::optional<TokenReuseCache::Entry> TokenReuseCache::Find(const std::string& key, absl::Time now,
                                                            uint64_t generation) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.generation != generation || now >= it->second.reusable_until ||
      now < it->second.issued_at) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void TokenReuseCache::Put(std::string key, Entry entry, absl::Time now) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) {
    absl::erase_if(entries_, [now](const auto& kv) { return now >= kv.second.reusable_until; });
    // Keep every later insert cheap: after a sweep there is room for at least a quarter of the
    // capacity, or the cache starts over.
    if (entries_.size() > capacity_ - capacity_ / 4) entries_.clear();
  }
  entries_[std::move(key)] = std::move(entry);
}

void TokenReuseCache::ForgetUser(int64_t user_id) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(entries_, [user_id](const auto& kv) { return kv.second.user_id == user_id; });
}

void TokenReuseCache::Clear() {
  absl::MutexLock lock(&mu_);
  entries_.clear();
}

size_t TokenReuseCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace portunus::auth
