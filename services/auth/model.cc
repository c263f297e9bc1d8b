#include "services/auth/model.h"

#include "services/auth/principal.h"

namespace portunus::auth {

absl::string_view KindName(Principal::Kind kind) {
  switch (kind) {
    case Principal::Kind::kAnonymous:
      return "anonymous";
    case Principal::Kind::kUser:
      return "user";
    case Principal::Kind::kBot:
      return "bot";
    case Principal::Kind::kInternal:
      return "internal";
  }
  return "anonymous";
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kContributor:
      return "contributor";
    case Role::kOwner:
      return "owner";
  }
  return "viewer";
}

std::optional<Role> ParseRole(absl::string_view text) {
  if (text == "viewer") return Role::kViewer;
  if (text == "contributor") return Role::kContributor;
  if (text == "owner") return Role::kOwner;
  return std::nullopt;
}

absl::string_view VisibilityName(Visibility visibility) {
  switch (visibility) {
    case Visibility::kPrivate:
      return "private";
    case Visibility::kProtected:
      return "protected";
    case Visibility::kPublic:
      return "public";
  }
  return "private";
}

std::optional<Visibility> ParseVisibility(absl::string_view text) {
  // Portus stored these as visibility_private etc.; accept both spellings.
  if (text == "private" || text == "visibility_private") return Visibility::kPrivate;
  if (text == "protected" || text == "visibility_protected") return Visibility::kProtected;
  if (text == "public" || text == "visibility_public") return Visibility::kPublic;
  return std::nullopt;
}

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kRegular:
      return "team";
    case Kind::kPersonal:
      return "personal";
    case Kind::kGlobal:
      return "global";
  }
  return "team";
}

std::optional<Kind> ParseKind(absl::string_view text) {
  if (text == "team") return Kind::kRegular;
  if (text == "personal") return Kind::kPersonal;
  if (text == "global") return Kind::kGlobal;
  return std::nullopt;
}

}  // namespace portunus::auth
