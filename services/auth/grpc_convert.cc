#include "services/auth/grpc_convert.h"

#include "absl/strings/str_cat.h"
#include "services/auth/scope.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {

Credentials CredentialsFromMetadata(const grpc::ServerContextBase& ctx) {
  Credentials c;
  c.authorization = MetadataValue(ctx, kAuthorizationMetadata);
  if (c.authorization.empty()) c.portus_auth = MetadataValue(ctx, kPortusAuthMetadata);
  return c;
}

Credentials CredentialsFromProto(const v1::Credentials& proto) {
  Credentials c;
  switch (proto.kind_case()) {
    case v1::Credentials::kAuthorization:
      c.authorization = proto.authorization();
      break;
    case v1::Credentials::kPortusAuth:
      c.portus_auth = proto.portus_auth();
      break;
    case v1::Credentials::kUsernameSecret:
      c.username = proto.username_secret().username();
      c.secret = proto.username_secret().secret();
      break;
    default:
      break;
  }
  return c;
}

void ToProto(const Principal& p, v1::Principal* out) {
  switch (p.kind) {
    case Principal::Kind::kAnonymous:
      out->set_kind(v1::Principal::ANONYMOUS);
      break;
    case Principal::Kind::kUser:
      out->set_kind(v1::Principal::USER);
      break;
    case Principal::Kind::kBot:
      out->set_kind(v1::Principal::BOT);
      break;
    case Principal::Kind::kInternal:
      out->set_kind(v1::Principal::INTERNAL);
      break;
  }
  out->set_user_id(p.user_id);
  out->set_name(p.name);
  out->set_admin(p.admin);
}

Principal PrincipalFromProto(const v1::Principal& proto) {
  switch (proto.kind()) {
    case v1::Principal::USER:
      return Principal::User(proto.user_id(), proto.name(), proto.admin());
    case v1::Principal::BOT:
      return Principal::Bot(proto.user_id(), proto.name());
    case v1::Principal::INTERNAL:
      return Principal::Internal();
    default:
      return Principal::Anonymous();
  }
}

absl::StatusOr<std::vector<ScopeRequest>> ScopesFromProto(
    const google::protobuf::RepeatedPtrField<v1::Scope>& scopes) {
  if (static_cast<size_t>(scopes.size()) > kMaxScopesPerRequest) {
    return InvalidFieldError("scopes", absl::StrCat("at most ", kMaxScopesPerRequest, " scopes"));
  }
  std::vector<ScopeRequest> out;
  out.reserve(scopes.size());
  for (int i = 0; i < scopes.size(); ++i) {
    const v1::Scope& s = scopes[i];
    if (s.type().size() > kMaxScopeTextLength || s.name().size() > kMaxScopeTextLength) {
      return InvalidFieldError(absl::StrCat("scopes[", i, "]"), "is too long");
    }
    if (static_cast<size_t>(s.actions_size()) > kMaxActionsPerScope) {
      return InvalidFieldError(absl::StrCat("scopes[", i, "].actions"),
                               absl::StrCat("at most ", kMaxActionsPerScope, " actions"));
    }
    ScopeRequest r;
    r.type = s.type();
    r.name = s.name();
    for (const std::string& a : s.actions()) {
      if (a.size() > kMaxScopeTextLength) {
        return InvalidFieldError(absl::StrCat("scopes[", i, "].actions"), "is too long");
      }
      r.actions.push_back(a);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void ToProto(const ScopeRequest& scope, v1::Scope* out) {
  out->set_type(scope.type);
  out->set_name(scope.name);
  for (const std::string& a : scope.actions) out->add_actions(a);
}

void ToProto(const ScopeDecision& d, v1::Decision* out) {
  ToProto(d.requested, out->mutable_requested());
  for (const std::string& g : d.granted) out->add_granted(g);
  for (const Denial& denial : d.denied) {
    v1::Denial* p = out->add_denied();
    p->set_action(denial.action);
    p->set_reason(denial.reason);
  }
}

ListParams ListParamsFromProto(const v1::Paging& p) {
  ListParams l;
  l.page = p.page();
  l.per_page = p.per_page();
  l.sort_attr = p.sort_attr();
  l.sort_order = p.sort_order();
  l.all = p.all();
  return l;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

void ToProto(const User& u, absl::Time now, v1::User* out) {
  out->set_id(u.id);
  out->set_username(u.username);
  if (u.email.has_value()) out->set_email(*u.email);
  if (u.display_name.has_value()) out->set_display_name(*u.display_name);
  out->set_admin(u.admin);
  out->set_enabled(u.enabled);
  out->set_bot(u.bot);
  if (u.namespace_id.has_value()) out->set_namespace_id(*u.namespace_id);
  if (u.locked_until.has_value() && *u.locked_until > now) {
    SetTimestamp(*u.locked_until, out->mutable_locked_until());
  }
  SetTimestamp(u.created_at, out->mutable_created_at());
  SetTimestamp(u.updated_at, out->mutable_updated_at());
}

void ToProto(const ApplicationToken& t, v1::ApplicationToken* out) {
  out->set_id(t.id);
  out->set_application(t.application);
  SetTimestamp(t.created_at, out->mutable_created_at());
}

void ToProto(const Team& t, std::optional<Role> caller_role, v1::Team* out) {
  out->set_id(t.id);
  out->set_name(t.name);
  out->set_description(t.description);
  out->set_hidden(t.hidden());
  out->set_kind(std::string(KindName(t.kind)));
  if (caller_role.has_value()) out->set_role(std::string(RoleName(*caller_role)));
  out->set_users_count(t.members_count);
  out->set_namespaces_count(t.namespaces_count);
  SetTimestamp(t.created_at, out->mutable_created_at());
  SetTimestamp(t.updated_at, out->mutable_updated_at());
}

void ToProto(const Member& m, v1::TeamMember* out) {
  out->set_id(m.id);
  out->set_team_id(m.team_id);
  out->set_user_id(m.user_id);
  out->set_username(m.username);
  if (m.display_name.has_value()) out->set_display_name(*m.display_name);
  out->set_role(std::string(RoleName(m.role)));
  out->set_admin(m.admin);
  out->set_bot(m.bot);
  SetTimestamp(m.created_at, out->mutable_created_at());
  SetTimestamp(m.updated_at, out->mutable_updated_at());
}

void ToProto(const NamespaceDirectory::View& v, v1::Namespace* out) {
  const Namespace& n = v.ns;
  out->set_id(n.id);
  out->set_name(n.name);
  out->set_description(n.description);
  out->set_team_id(n.team_id);
  out->set_team(n.team_name);
  out->set_visibility(std::string(VisibilityName(n.visibility)));
  out->set_global(n.global());
  out->set_personal(n.personal());
  SetTimestamp(n.created_at, out->mutable_created_at());
  SetTimestamp(n.updated_at, out->mutable_updated_at());
  v1::NamespacePermissions* p = out->mutable_permissions();
  p->set_pull(v.permissions.pull);
  p->set_push(v.permissions.push);
  p->set_delete_(v.permissions.del);
  p->set_manage(v.permissions.manage);
  p->set_change_visibility(v.permissions.change_visibility);
  if (v.permissions.role.has_value()) p->set_role(std::string(RoleName(*v.permissions.role)));
}

}  // namespace portunus::auth
