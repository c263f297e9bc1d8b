// AccessClient: the catalog's view of the auth service (proto/portunus/auth/v1/access.proto):
// who is calling, which namespaces they may pull, whether they may delete in a repository, and
// creating orphan namespaces. An interface so the domain can be tested with FakeAccessClient;
// GrpcAccessClient (grpc_access_client.h) is the real one. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/catalog/catalog_types.h"
#include "services/common/caller_auth.h"

namespace portunus::catalog {

class AccessClient {
 public:
  virtual ~AccessClient() = default;
  // No credentials: the anonymous caller. kUnauthenticated for wrong credentials;
  // kUnavailable when auth cannot be reached. Caller and CallerCredentials: caller_auth.h.
  virtual absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials) = 0;
  // The namespaces `caller` may pull from.
  virtual absl::StatusOr<NamespaceFilter> PullableNamespaces(const Caller& caller) = 0;
  // Whether `caller` may delete in `repository` (the Docker scope repository:NAME:delete).
  virtual absl::StatusOr<bool> MayDelete(const Caller& caller, const std::string& repository) = 0;
  // The id of namespace `name`, creating it as an orphan (global team, private) when missing.
  // `name` is never empty (the global namespace always exists).
  virtual absl::StatusOr<int64_t> EnsureNamespace(const std::string& name) = 0;
};

// In-memory AccessClient for tests: credentials map to callers, namespaces have visibility.
class FakeAccessClient final : public AccessClient {
 public:
  // "Basic <anything>" style credentials: `authorization` -> caller.
  void AddCaller(const std::string& authorization, Caller caller) {
    absl::MutexLock lock(&mu_);
    callers_[authorization] = std::move(caller);
  }
  // Namespace `name` exists; `members` may pull (and delete when `deleters` has them);
  // public namespaces are pullable by anyone.
  void AddNamespace(const std::string& name, bool is_public, std::set<std::string> members = {},
                    std::set<std::string> deleters = {}) {
    absl::MutexLock lock(&mu_);
    namespaces_[name] = Ns{next_id_++, is_public, std::move(members), std::move(deleters)};
  }
  void FailNextCall(absl::Status s) {
    absl::MutexLock lock(&mu_);
    fail_next_ = std::move(s);
  }
  int64_t ensured(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    auto it = ensure_calls_.find(name);
    return it == ensure_calls_.end() ? 0 : it->second;
  }
  int64_t NamespaceId(const std::string& name) const {
    absl::MutexLock lock(&mu_);
    auto it = namespaces_.find(name);
    return it == namespaces_.end() ? 0 : it->second.id;
  }

  absl::StatusOr<Caller> Authenticate(const CallerCredentials& c) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Take(); !s.ok()) return s;
    if (c.authorization.empty() && c.portus_auth.empty()) return Caller{};
    auto it = callers_.find(c.authorization.empty() ? c.portus_auth : c.authorization);
    if (it == callers_.end()) return absl::UnauthenticatedError("invalid credentials");
    return it->second;
  }
  absl::StatusOr<NamespaceFilter> PullableNamespaces(const Caller& caller) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Take(); !s.ok()) return s;
    NamespaceFilter f;
    if (caller.privileged()) {
      f.all = true;
      return f;
    }
    f.names.insert("");  // the global namespace is public
    for (const auto& [name, ns] : namespaces_) {
      if (ns.is_public || ns.members.count(caller.name)) f.names.insert(name);
    }
    return f;
  }
  absl::StatusOr<bool> MayDelete(const Caller& caller, const std::string& repository) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Take(); !s.ok()) return s;
    if (caller.privileged()) return true;
    auto it = namespaces_.find(NamespaceOf(repository));
    return it != namespaces_.end() && it->second.deleters.count(caller.name) != 0;
  }
  absl::StatusOr<int64_t> EnsureNamespace(const std::string& name) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Take(); !s.ok()) return s;
    ++ensure_calls_[name];
    auto it = namespaces_.find(name);
    if (it == namespaces_.end()) it = namespaces_.emplace(name, Ns{next_id_++, false, {}, {}}).first;
    return it->second.id;
  }

 private:
  struct Ns {
    int64_t id;
    bool is_public;
    std::set<std::string> members;
    std::set<std::string> deleters;
  };
  absl::Status Take() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = fail_next_;
    fail_next_ = absl::OkStatus();
    return s;
  }
  mutable absl::Mutex mu_;
  std::map<std::string, Caller> callers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Ns> namespaces_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> ensure_calls_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 100;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::catalog
