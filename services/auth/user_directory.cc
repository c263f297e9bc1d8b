#include "services/auth/user_directory.h"

#include "absl/strings/str_cat.h"
#include "services/auth/authenticator.h"
#include "services/auth/secret_digest.h"
#include "services/auth/validation.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

constexpr char kBootstrapApplication[] = "bootstrap";

bool IsSelf(const Principal& actor, const User& user) {
  return actor.is_account() && actor.user_id == user.id;
}

}  // namespace

UserDirectory::UserDirectory(Options options, IdentityStore& store, PasswordHasher& hasher,
                             ChangeSync& sync)
    : options_(options), store_(store), hasher_(hasher), sync_(sync) {}

std::string UserDirectory::NewTokenSecret() {
  return absl::StrCat(kApplicationTokenPrefix, Base64UrlEncode(RandomBytes(32)));
}

absl::StatusOr<NewUser> UserDirectory::Validate(const NewUserInput& in, bool bootstrap) {
  PORTUNUS_RETURN_IF_ERROR(ValidateName("user.username", in.username));
  if (in.username == kInternalPrincipalName) {
    return InvalidFieldError("user.username", "is reserved for Portunus's own services");
  }
  NewUser u;
  u.username = in.username;
  u.bot = in.bot;
  u.admin = in.admin || bootstrap;
  if (in.bot) {
    if (bootstrap) return InvalidFieldError("user.bot", "the first account must be a person");
    if (in.admin) return InvalidFieldError("user.admin", "bots cannot be administrators");
    if (!in.password.empty()) {
      return InvalidFieldError("user.password",
                               "bots have no password; they log in with application tokens");
    }
    if (!in.email.empty()) {
      PORTUNUS_RETURN_IF_ERROR(ValidateEmail("user.email", in.email));
      u.email = in.email;
    }
  } else {
    PORTUNUS_RETURN_IF_ERROR(ValidateEmail("user.email", in.email));
    u.email = in.email;
    if (in.password.empty()) return InvalidFieldError("user.password", "must not be empty");
    PORTUNUS_RETURN_IF_ERROR(ValidatePassword("user.password", in.password));
  }
  if (!in.display_name.empty()) {
    PORTUNUS_RETURN_IF_ERROR(ValidateLabel("user.display_name", in.display_name));
    u.display_name = in.display_name;
  }
  if (!in.bot) {
    PORTUNUS_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(in.password));
    u.password_hash = std::move(hash);
  }
  return u;
}

absl::StatusOr<UserDirectory::Bootstrapped> UserDirectory::Bootstrap(const NewUserInput& input) {
  // Cheap check first so a bootstrapped system does not spend bcrypt on every stray call.
  PORTUNUS_ASSIGN_OR_RETURN(int64_t count, store_.CountUsers());
  if (count > 0) {
    return absl::PermissionDeniedError(
        "bootstrap is only possible while no user exists; ask an administrator for an account");
  }
  PORTUNUS_ASSIGN_OR_RETURN(NewUser user, Validate(input, /*bootstrap=*/true));
  const std::string secret = NewTokenSecret();
  PORTUNUS_ASSIGN_OR_RETURN(auto created,
                            store_.Bootstrap(user, NewToken{0, kBootstrapApplication, Sha256(secret)}));
  sync_.AwaitCatchUp();
  return Bootstrapped{std::move(created.first), CreatedToken{std::move(created.second), secret}};
}

absl::StatusOr<Page<User>> UserDirectory::List(const Principal& actor, const ListParams& params) {
  PORTUNUS_RETURN_IF_ERROR(RequireAdmin(actor, "list users"));
  PORTUNUS_ASSIGN_OR_RETURN(ListOptions options, MakeListOptions(params, IsUserSortAttr));
  return store_.ListUsers(options);
}

absl::StatusOr<User> UserDirectory::Create(const Principal& actor, const NewUserInput& input) {
  PORTUNUS_RETURN_IF_ERROR(RequireAdmin(actor, input.bot ? "create bots" : "create users"));
  PORTUNUS_ASSIGN_OR_RETURN(NewUser user, Validate(input, /*bootstrap=*/false));
  PORTUNUS_ASSIGN_OR_RETURN(User created, store_.CreateUser(user));
  sync_.AwaitCatchUp();
  return created;
}

absl::StatusOr<User> UserDirectory::Get(const Principal& actor, absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(User user, ResolveUser(store_, ref));
  if (!actor.admin && !IsSelf(actor, user)) {
    return absl::PermissionDeniedError("only administrators may see other users");
  }
  return user;
}

absl::StatusOr<User> UserDirectory::Update(const Principal& actor, absl::string_view ref,
                                           const UpdateInput& in) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(User user, ResolveUser(store_, ref));
  const bool self = IsSelf(actor, user);
  if (!actor.admin && !self) {
    return absl::PermissionDeniedError("only administrators may change other users");
  }
  UserPatch patch;
  if (in.username.has_value() && *in.username != user.username) {
    return InvalidFieldError("user.username", "cannot be changed");
  }
  if (in.email.has_value()) {
    if (in.email->empty() && user.bot) {
      patch.email = "";
    } else {
      PORTUNUS_RETURN_IF_ERROR(ValidateEmail("user.email", *in.email));
      patch.email = *in.email;
    }
  }
  if (in.display_name.has_value()) {
    if (!in.display_name->empty()) {
      PORTUNUS_RETURN_IF_ERROR(ValidateLabel("user.display_name", *in.display_name));
    }
    patch.display_name = *in.display_name;
  }
  if (in.admin.has_value() && *in.admin != user.admin) {
    if (!actor.admin) return absl::PermissionDeniedError("only administrators may change admin rights");
    if (user.bot && *in.admin) return InvalidFieldError("user.admin", "bots cannot be administrators");
    patch.admin = *in.admin;
  }
  if (in.enabled.has_value() && *in.enabled != user.enabled) {
    if (*in.enabled && !actor.admin) {
      return absl::PermissionDeniedError("only administrators may enable accounts");
    }
    patch.enabled = *in.enabled;
  }
  if (in.password.has_value()) {
    if (user.bot) {
      return InvalidFieldError("user.password",
                               "bots have no password; they log in with application tokens");
    }
    PORTUNUS_RETURN_IF_ERROR(ValidatePassword("user.password", *in.password));
    if (self) {
      // A stolen application token must not be enough to take the account over.
      if (!in.current_password.has_value() || in.current_password->empty()) {
        return InvalidFieldError("user.current_password", "is required to change your own password");
      }
      PORTUNUS_ASSIGN_OR_RETURN(std::optional<LoginRecord> login, store_.FindLogin(user.username));
      if (!login.has_value() || !login->password_hash.has_value() ||
          !hasher_.Verify(*in.current_password, *login->password_hash)) {
        return InvalidFieldError("user.current_password", "does not match the current password");
      }
    }
    PORTUNUS_ASSIGN_OR_RETURN(std::string hash, hasher_.Hash(*in.password));
    patch.password_hash = std::move(hash);
  }
  PORTUNUS_ASSIGN_OR_RETURN(User updated, store_.UpdateUser(user.id, patch));
  sync_.AwaitCatchUp();
  return updated;
}

absl::Status UserDirectory::Delete(const Principal& actor, absl::string_view ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAdmin(actor, "delete users"));
  PORTUNUS_ASSIGN_OR_RETURN(User user, ResolveUser(store_, ref));
  PORTUNUS_RETURN_IF_ERROR(store_.DeleteUser(user.id));
  sync_.AwaitCatchUp();
  return absl::OkStatus();
}

absl::Status UserDirectory::CheckTokenOwner(const Principal& actor, const User& owner) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  if (IsSelf(actor, owner)) return absl::OkStatus();
  if (actor.admin && owner.bot) return absl::OkStatus();
  if (actor.admin) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only ", owner.username, " may manage their application tokens (administrators manage "
        "only bots' tokens)"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("only ", owner.username, " may manage their application tokens"));
}

absl::StatusOr<std::vector<ApplicationToken>> UserDirectory::ListTokens(const Principal& actor,
                                                                        absl::string_view user_ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(User owner, ResolveUser(store_, user_ref));
  PORTUNUS_RETURN_IF_ERROR(CheckTokenOwner(actor, owner));
  return store_.ListTokens(owner.id);
}

absl::StatusOr<UserDirectory::CreatedToken> UserDirectory::CreateToken(const Principal& actor,
                                                                       absl::string_view user_ref,
                                                                       absl::string_view application) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  PORTUNUS_ASSIGN_OR_RETURN(User owner, ResolveUser(store_, user_ref));
  PORTUNUS_RETURN_IF_ERROR(CheckTokenOwner(actor, owner));
  PORTUNUS_RETURN_IF_ERROR(ValidateLabel("application", application));
  const std::string secret = NewTokenSecret();
  absl::StatusOr<ApplicationToken> token = store_.CreateToken(
      NewToken{owner.id, std::string(application), Sha256(secret)}, options_.max_tokens_per_user);
  if (absl::IsFailedPrecondition(token.status())) {
    return InvalidFieldError("application", token.status().message());
  }
  if (!token.ok()) return token.status();
  return CreatedToken{*std::move(token), secret};
}

absl::Status UserDirectory::RevokeToken(const Principal& actor, absl::string_view token_ref) {
  PORTUNUS_RETURN_IF_ERROR(RequireAccount(actor));
  const int64_t id = ParseId(token_ref);
  if (id == 0) return absl::NotFoundError("application token not found");
  PORTUNUS_ASSIGN_OR_RETURN(ApplicationToken token, store_.GetToken(id));
  PORTUNUS_ASSIGN_OR_RETURN(User owner, store_.GetUser(token.user_id));
  PORTUNUS_RETURN_IF_ERROR(CheckTokenOwner(actor, owner));
  PORTUNUS_RETURN_IF_ERROR(store_.DeleteToken(id));
  sync_.AwaitCatchUp();
  return absl::OkStatus();
}

}  // namespace portunus::auth
