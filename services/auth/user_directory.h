// UserDirectory: managing accounts (people and bots) and their application tokens, with Portus's
// rules and its holes fixed:
//   - only admins list, create and delete accounts; anyone may read and change themselves;
//   - usernames never change (the personal namespace carries the name); `portunus` is reserved;
//   - changing one's own password needs the current one (admins changing someone else's don't);
//   - only admins grant or revoke admin rights, and re-enable accounts; anyone may disable
//     themselves; the last enabled admin can be neither demoted, disabled nor deleted;
//   - bots are created by admins, have no password, no personal namespace, never admin rights;
//   - application tokens: only their owner may list, create or revoke them — or an admin, for a
//     bot's tokens (Portus let anyone act on anyone's tokens); at most `max_tokens_per_user`;
//     32 random bytes, shown once, stored as a SHA-256 digest.
// Every method may block (database, bcrypt): call it on a worker thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/auth/directory_common.h"
#include "services/auth/identity_store.h"
#include "services/auth/password_hasher.h"
#include "services/auth/principal.h"

namespace portunus::auth {

// Thread-safe. Dependencies must outlive the directory.
class UserDirectory {
 public:
  struct Options {
    int max_tokens_per_user = 5;
  };

  // An account to create, as received (fields named "user.<name>" in errors).
  struct NewUserInput {
    std::string username;
    std::string email;
    std::string password;
    std::string display_name;
    bool admin = false;
    bool bot = false;
  };
  // Changes to an account, as received; unset fields stay.
  struct UpdateInput {
    std::optional<std::string> username;  // must equal the current one
    std::optional<std::string> email;
    std::optional<std::string> password;
    std::optional<std::string> current_password;
    std::optional<std::string> display_name;
    std::optional<bool> admin;
    std::optional<bool> enabled;
  };
  struct CreatedToken {
    ApplicationToken token;
    std::string plain_token;  // shown once, never stored
  };
  struct Bootstrapped {
    User user;
    CreatedToken token;
  };

  UserDirectory(Options options, IdentityStore& store, PasswordHasher& hasher, ChangeSync& sync);

  // Creates the first admin and an application token for it, while no account exists.
  // No caller credentials needed. kPermissionDenied once any account exists.
  absl::StatusOr<Bootstrapped> Bootstrap(const NewUserInput& input);

  absl::StatusOr<Page<User>> List(const Principal& actor, const ListParams& params);
  absl::StatusOr<User> Create(const Principal& actor, const NewUserInput& input);
  absl::StatusOr<User> Get(const Principal& actor, absl::string_view ref);
  absl::StatusOr<User> Update(const Principal& actor, absl::string_view ref, const UpdateInput& input);
  absl::Status Delete(const Principal& actor, absl::string_view ref);

  absl::StatusOr<std::vector<ApplicationToken>> ListTokens(const Principal& actor,
                                                           absl::string_view user_ref);
  // kInvalidArgument naming "application" when the name is bad or the limit is reached.
  absl::StatusOr<CreatedToken> CreateToken(const Principal& actor, absl::string_view user_ref,
                                           absl::string_view application);
  absl::Status RevokeToken(const Principal& actor, absl::string_view token_ref);

 private:
  absl::StatusOr<NewUser> Validate(const NewUserInput& input, bool bootstrap);
  // OK when `actor` may manage `owner`'s tokens.
  absl::Status CheckTokenOwner(const Principal& actor, const User& owner);
  static std::string NewTokenSecret();

  const Options options_;
  IdentityStore& store_;
  PasswordHasher& hasher_;
  ChangeSync& sync_;
};

}  // namespace portunus::auth
