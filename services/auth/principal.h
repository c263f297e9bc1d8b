// Principal: who is calling, as the auth service decided it. The domain twin of
// portunus.auth.v1.Principal; every decision (Authorizer, the management directories, the token
// issuer) takes one. Plain value type.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace portunus::auth {

// The name the internal service principal authenticates as (CommonConfig::internal_secret).
inline constexpr char kInternalPrincipalName[] = "portunus";

struct Principal {
  enum class Kind {
    kAnonymous,  // no credentials
    kUser,       // a person (admin or not)
    kBot,        // a bot account (application tokens only)
    kInternal,   // a Portunus service acting as `portunus`
  };
  Kind kind = Kind::kAnonymous;
  int64_t user_id = 0;  // 0 for anonymous and internal
  std::string name;     // username; "portunus" for internal; "" for anonymous
  bool admin = false;

  static Principal Anonymous() { return Principal{}; }
  static Principal Internal() { return Principal{Kind::kInternal, 0, kInternalPrincipalName, false}; }
  static Principal User(int64_t id, std::string name, bool admin) {
    return Principal{Kind::kUser, id, std::move(name), admin};
  }
  static Principal Bot(int64_t id, std::string name) {
    return Principal{Kind::kBot, id, std::move(name), false};
  }

  bool is_anonymous() const { return kind == Kind::kAnonymous; }
  bool is_internal() const { return kind == Kind::kInternal; }
  // A user or a bot: someone with a row in auth.users.
  bool is_account() const { return kind == Kind::kUser || kind == Kind::kBot; }

  // For messages: "bob", "anonymous", "portunus".
  std::string DisplayName() const { return is_anonymous() ? std::string("anonymous") : name; }

  friend bool operator==(const Principal& a, const Principal& b) {
    return a.kind == b.kind && a.user_id == b.user_id && a.name == b.name && a.admin == b.admin;
  }
  friend bool operator!=(const Principal& a, const Principal& b) { return !(a == b); }
};

// "anonymous", "user", "bot", "internal".
absl::string_view KindName(Principal::Kind kind);

}  // namespace portunus::auth
