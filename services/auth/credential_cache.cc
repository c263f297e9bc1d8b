#include "services/auth/credential_cache.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "services/auth/secret_digest.h"

namespace portunus::auth {

CredentialCache::CredentialCache(Options options, Clock& clock)
    : options_(options), clock_(clock), hmac_key_(RandomBytes(32)) {}

std::string CredentialCache::KeyFor(absl::string_view kind, absl::string_view user,
                                    absl::string_view secret) const {
  std::string data;
  for (absl::string_view part : {kind, user, secret}) {
    absl::StrAppend(&data, part.size(), ":");
    data.append(part.data(), part.size());
  }
  std::string key = HmacSha256(hmac_key_, data);
  std::fill(data.begin(), data.end(), '\0');  // it held the secret
  return key;
}

std::optional<Principal> CredentialCache::Lookup(const std::string& key) {
  if (!enabled()) return std::nullopt;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires_at <= now) {
    auto u = by_user_.find(it->second.principal.user_id);
    if (u != by_user_.end()) {
      u->second.erase(key);
      if (u->second.empty()) by_user_.erase(u);
    }
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.principal;
}

uint64_t CredentialCache::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

void CredentialCache::Insert(const std::string& key, const Principal& principal, uint64_t epoch) {
  if (!enabled()) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  if (epoch != epoch_) return;  // an invalidation raced with this verification
  if (entries_.size() >= options_.max_entries) {
    // Make room: drop expired entries; if none expired, start over (the cache only saves work).
    std::vector<std::string> expired;
    for (const auto& [k, e] : entries_) {
      if (e.expires_at <= now) expired.push_back(k);
    }
    for (const std::string& k : expired) {
      auto it = entries_.find(k);
      auto u = by_user_.find(it->second.principal.user_id);
      if (u != by_user_.end()) {
        u->second.erase(k);
        if (u->second.empty()) by_user_.erase(u);
      }
      entries_.erase(it);
    }
    if (entries_.size() >= options_.max_entries) {
      entries_.clear();
      by_user_.clear();
    }
  }
  entries_[key] = Entry{principal, now + options_.ttl};
  by_user_[principal.user_id].insert(key);
}

void CredentialCache::ForgetUser(int64_t user_id) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  auto u = by_user_.find(user_id);
  if (u == by_user_.end()) return;
  for (const std::string& k : u->second) entries_.erase(k);
  by_user_.erase(u);
}

void CredentialCache::ForgetAll() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  entries_.clear();
  by_user_.clear();
}

size_t CredentialCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace portunus::auth
