// The facts an authorization decision needs (accounts, team memberships, namespaces) and where
// they come from. The same AccessSnapshot type serves both sources:
//   - AccessCache (access_cache.h): the whole model in memory, kept fresh by LISTEN/NOTIFY, so a
//     decision never waits for the database;
//   - PgAccessSource (pg_access_source.h): just the rows one request needs, read per call (the
//     "cache off" mode, and the reference the benchmark compares against).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/auth/model.h"

namespace portunus::auth {

struct UserFacts {
  int64_t id = 0;
  std::string username;
  bool admin = false;
  bool enabled = true;
  bool bot = false;
};

struct TeamFacts {
  int64_t id = 0;
  std::string name;
  Kind kind = Kind::kRegular;
};

struct NamespaceFacts {
  int64_t id = 0;
  std::string name;
  Visibility visibility = Visibility::kPrivate;
  Kind kind = Kind::kRegular;
  int64_t team_id = 0;
  std::optional<int64_t> personal_owner_id;  // for personal namespaces: the owning user
  bool global() const { return kind == Kind::kGlobal; }
  bool personal() const { return kind == Kind::kPersonal; }
};

struct MembershipFacts {
  int64_t team_id = 0;
  int64_t user_id = 0;
  Role role = Role::kViewer;
};

// An immutable view of (part of) the access model. Thread-compatible; shared read-only through
// std::shared_ptr<const AccessSnapshot>.
class AccessSnapshot {
 public:
  const UserFacts* FindUser(int64_t id) const;
  const UserFacts* FindUserByName(absl::string_view name) const;
  const TeamFacts* FindTeam(int64_t id) const;
  const NamespaceFacts* FindNamespace(absl::string_view name) const;
  const NamespaceFacts* FindNamespaceById(int64_t id) const;
  std::optional<Role> RoleOf(int64_t team_id, int64_t user_id) const;

  // Every namespace in the snapshot (for listings).
  const absl::flat_hash_map<std::string, NamespaceFacts>& namespaces() const { return namespaces_; }
  size_t user_count() const { return users_.size(); }

  // Mutators, for building a snapshot before it is shared.
  void PutUser(UserFacts user);
  void RemoveUser(int64_t id);
  void PutTeam(TeamFacts team);
  // Removes the team and its memberships.
  void RemoveTeam(int64_t id);
  // Replaces all memberships of `team_id`.
  void SetTeamMembers(int64_t team_id, const std::vector<MembershipFacts>& members);
  void PutMembership(const MembershipFacts& m);
  void PutNamespace(NamespaceFacts ns);
  void RemoveNamespace(int64_t id);

 private:
  absl::flat_hash_map<int64_t, UserFacts> users_;
  absl::flat_hash_map<std::string, int64_t> user_ids_;
  absl::flat_hash_map<int64_t, TeamFacts> teams_;
  // team id -> (user id -> role)
  absl::flat_hash_map<int64_t, absl::flat_hash_map<int64_t, Role>> members_;
  absl::flat_hash_map<std::string, NamespaceFacts> namespaces_;
  absl::flat_hash_map<int64_t, std::string> namespace_names_;
};

// What a decision needs to know: the account (0: none), the namespaces (by name) of the
// requested repositories, or every namespace (listings).
struct FactsQuery {
  int64_t user_id = 0;
  std::vector<std::string> namespaces;
  bool all_namespaces = false;
  std::string username;  // also resolve this account by name (Explain); "" for none
};

// A source of facts. Implementations are thread-safe.
class AccessSource {
 public:
  virtual ~AccessSource() = default;
  // True when Facts() may block (database); false when it only reads memory.
  virtual bool blocking() const = 0;
  // A snapshot holding at least what `query` asks for. kUnavailable: the data cannot be read
  // right now (database down, cache not loaded yet); safe to retry.
  virtual absl::StatusOr<std::shared_ptr<const AccessSnapshot>> Facts(const FactsQuery& query) = 0;
};

}  // namespace portunus::auth
