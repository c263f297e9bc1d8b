// In-memory fakes of the token issuer's ports (token_ports.h), for tests.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/auth/token_ports.h"

namespace portunus::auth {

// Accepts raw authorization values and username/secret pairs registered with Add*; answers
// without blocking only for those marked cached; counts slow-path calls. Thread-safe.
class FakeTokenAuthenticator final : public TokenAuthenticator {
 public:
  // `authorization` (the raw header value) or username+secret yield `principal`.
  void AddAuthorization(const std::string& authorization, TokenPrincipal principal) {
    absl::MutexLock lock(&mu_);
    by_header_[authorization] = std::move(principal);
  }
  void AddPassword(const std::string& username, const std::string& secret, TokenPrincipal principal) {
    absl::MutexLock lock(&mu_);
    by_password_[{username, secret}] = std::move(principal);
  }
  // Credentials answered without blocking (as a credential cache would).
  void MarkCached(const std::string& authorization) {
    absl::MutexLock lock(&mu_);
    cached_.insert(authorization);
  }
  void Disable(int64_t user_id) {
    absl::MutexLock lock(&mu_);
    disabled_.insert(user_id);
  }
  void FailNextCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  int slow_calls() const {
    absl::MutexLock lock(&mu_);
    return slow_calls_;
  }

  std::optional<absl::StatusOr<TokenPrincipal>> TryAuthenticate(
      const TokenCredentials& c) override {
    absl::MutexLock lock(&mu_);
    if (c.empty()) return absl::StatusOr<TokenPrincipal>(TokenPrincipal{});
    if (!c.authorization.empty() && cached_.count(c.authorization)) return LookupLocked(c);
    return std::nullopt;
  }
  absl::StatusOr<TokenPrincipal> Authenticate(const TokenCredentials& c) override {
    absl::MutexLock lock(&mu_);
    ++slow_calls_;
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    return LookupLocked(c);
  }
  absl::StatusOr<TokenPrincipal> ActiveAccount(int64_t user_id, const std::string& name) override {
    absl::MutexLock lock(&mu_);
    ++slow_calls_;
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    if (disabled_.count(user_id)) return absl::UnauthenticatedError("invalid credentials");
    for (const auto& [k, p] : by_password_) {
      if (p.user_id == user_id && p.name == name) return p;
    }
    for (const auto& [k, p] : by_header_) {
      if (p.user_id == user_id && p.name == name) return p;
    }
    return absl::UnauthenticatedError("invalid credentials");
  }

 private:
  absl::StatusOr<TokenPrincipal> LookupLocked(const TokenCredentials& c)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (c.empty()) return TokenPrincipal{};
    const TokenPrincipal* p = nullptr;
    if (!c.authorization.empty()) {
      auto it = by_header_.find(c.authorization);
      if (it != by_header_.end()) p = &it->second;
    } else {
      auto it = by_password_.find({c.username, c.secret});
      if (it != by_password_.end()) p = &it->second;
    }
    if (p == nullptr || disabled_.count(p->user_id)) {
      return absl::UnauthenticatedError("invalid credentials");
    }
    return *p;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, TokenPrincipal> by_header_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, TokenPrincipal> by_password_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> cached_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> disabled_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  int slow_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// Grants per (principal name, "type:name") the actions given with Grant; everything else is
// denied with a reason. Every Grant moves the generation. Thread-safe.
class FakeTokenAuthorizer final : public TokenAuthorizer {
 public:
  void Grant(const std::string& principal, const std::string& type, const std::string& name,
             std::vector<std::string> actions) {
    absl::MutexLock lock(&mu_);
    grants_[{principal, type + ":" + name}] = std::move(actions);
    ++generation_;
  }
  void set_blocking(bool blocking) {
    absl::MutexLock lock(&mu_);
    blocking_ = blocking;
  }
  void FailNextCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(status);
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  bool blocking() const override {
    absl::MutexLock lock(&mu_);
    return blocking_;
  }
  uint64_t generation() const override {
    absl::MutexLock lock(&mu_);
    return generation_;
  }
  absl::StatusOr<std::vector<ScopeGrant>> Authorize(
      const TokenPrincipal& principal, const std::vector<ResourceScope>& scopes) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (!fail_next_.ok()) return std::exchange(fail_next_, absl::OkStatus());
    std::vector<ScopeGrant> out;
    for (const ResourceScope& s : scopes) {
      ScopeGrant g;
      auto it = grants_.find({principal.name, s.type + ":" + s.name});
      if (it != grants_.end()) g.granted = it->second;
      for (const std::string& a : s.actions) {
        if (std::find(g.granted.begin(), g.granted.end(), a) == g.granted.end()) {
          g.denied.emplace_back(a, "not granted by the fake");
        }
      }
      out.push_back(std::move(g));
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> grants_
      ABSL_GUARDED_BY(mu_);
  bool blocking_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::auth
