#include "services/auth/grpc_identity_services.h"

#include <utility>

#include "services/auth/grpc_convert.h"
#include "services/common/grpc_handler.h"
#include "services/common/status_macros.h"

namespace portunus::auth {
namespace {

// Runs `work(caller)` on the workers once the caller (from the call metadata) is authenticated.
template <typename Work>
grpc::ServerUnaryReactor* AsCaller(grpc::CallbackServerContext* ctx, ServiceRuntime& rt,
                                   Authenticator& authenticator, Work work) {
  Credentials credentials = CredentialsFromMetadata(*ctx);
  return RunOnWorkers(ctx, rt,
                      [&authenticator, credentials = std::move(credentials),
                       work = std::move(work)](const std::string&) mutable -> absl::Status {
                        PORTUNUS_ASSIGN_OR_RETURN(Principal caller, authenticator.Authenticate(credentials));
                        return work(caller);
                      });
}

UserDirectory::NewUserInput NewUserInputFrom(const v1::NewUser& u) {
  return UserDirectory::NewUserInput{u.username(), u.email(),  u.password(),
                                     u.display_name(), u.admin(), u.bot()};
}

template <typename T>
std::optional<T> Opt(bool has, const T& value) {
  return has ? std::optional<T>(value) : std::nullopt;
}

void FillPage(const Page<NamespaceDirectory::View>& page, v1::ListNamespacesResponse* resp) {
  resp->set_total(page.total);
  for (const auto& v : page.items) ToProto(v, resp->add_namespaces());
}

}  // namespace

// ---------------------------------------------------------------------------------------------

GrpcUserService::GrpcUserService(ServiceRuntime& runtime, Authenticator& authenticator,
                                 UserDirectory& users)
    : runtime_(runtime), authenticator_(authenticator), users_(users) {}

grpc::ServerUnaryReactor* GrpcUserService::ListUsers(grpc::CallbackServerContext* ctx,
                                                     const v1::ListUsersRequest* req,
                                                     v1::ListUsersResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Page<User> page, users_.List(caller, ListParamsFromProto(req->paging())));
    resp->set_total(page.total);
    const absl::Time now = runtime_.clock.Now();
    for (const User& u : page.items) ToProto(u, now, resp->add_users());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::CreateUser(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateUserRequest* req, v1::User* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(User u, users_.Create(caller, NewUserInputFrom(req->user())));
    ToProto(u, runtime_.clock.Now(), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::GetUser(grpc::CallbackServerContext* ctx,
                                                   const v1::UserRef* req, v1::User* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(User u, users_.Get(caller, req->id()));
    ToProto(u, runtime_.clock.Now(), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::UpdateUser(grpc::CallbackServerContext* ctx,
                                                      const v1::UpdateUserRequest* req, v1::User* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    const v1::UserChanges& c = req->user();
    UserDirectory::UpdateInput in;
    in.username = Opt(c.has_username(), c.username());
    in.email = Opt(c.has_email(), c.email());
    in.password = Opt(c.has_password(), c.password());
    in.current_password = Opt(c.has_current_password(), c.current_password());
    in.display_name = Opt(c.has_display_name(), c.display_name());
    in.admin = Opt(c.has_admin(), c.admin());
    in.enabled = Opt(c.has_enabled(), c.enabled());
    PORTUNUS_ASSIGN_OR_RETURN(User u, users_.Update(caller, req->id(), in));
    ToProto(u, runtime_.clock.Now(), resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::DeleteUser(grpc::CallbackServerContext* ctx,
                                                      const v1::UserRef* req, google::protobuf::Empty*) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req](const Principal& caller) {
    return users_.Delete(caller, req->id());
  });
}

grpc::ServerUnaryReactor* GrpcUserService::Bootstrap(grpc::CallbackServerContext* ctx,
                                                     const v1::BootstrapRequest* req,
                                                     v1::CreatedApplicationToken* resp) {
  return RunOnWorkers(ctx, runtime_, [this, req, resp](const std::string&) -> absl::Status {
    const v1::BootstrapUser& u = req->user();
    PORTUNUS_ASSIGN_OR_RETURN(
        UserDirectory::Bootstrapped b,
        users_.Bootstrap({u.username(), u.email(), u.password(), u.display_name(), true, false}));
    resp->set_id(b.token.token.id);
    resp->set_application(b.token.token.application);
    resp->set_plain_token(b.token.plain_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::ListApplicationTokens(grpc::CallbackServerContext* ctx,
                                                                 const v1::UserRef* req,
                                                                 v1::ListApplicationTokensResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(std::vector<ApplicationToken> tokens, users_.ListTokens(caller, req->id()));
    for (const ApplicationToken& t : tokens) ToProto(t, resp->add_application_tokens());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::CreateApplicationToken(
    grpc::CallbackServerContext* ctx, const v1::CreateApplicationTokenRequest* req,
    v1::CreatedApplicationToken* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(UserDirectory::CreatedToken t,
                              users_.CreateToken(caller, req->id(), req->application()));
    resp->set_id(t.token.id);
    resp->set_application(t.token.application);
    resp->set_plain_token(t.plain_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcUserService::DeleteApplicationToken(grpc::CallbackServerContext* ctx,
                                                                  const v1::ApplicationTokenRef* req,
                                                                  google::protobuf::Empty*) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req](const Principal& caller) {
    return users_.RevokeToken(caller, req->id());
  });
}

// ---------------------------------------------------------------------------------------------

GrpcTeamService::GrpcTeamService(ServiceRuntime& runtime, Authenticator& authenticator,
                                 TeamDirectory& teams, NamespaceDirectory& namespaces)
    : runtime_(runtime), authenticator_(authenticator), teams_(teams), namespaces_(namespaces) {}

grpc::ServerUnaryReactor* GrpcTeamService::ListTeams(grpc::CallbackServerContext* ctx,
                                                     const v1::ListTeamsRequest* req,
                                                     v1::ListTeamsResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Page<Team> page, teams_.List(caller, ListParamsFromProto(req->paging())));
    PORTUNUS_ASSIGN_OR_RETURN(auto roles, teams_.RolesOf(caller));
    resp->set_total(page.total);
    for (const Team& t : page.items) {
      auto r = roles.find(t.id);
      ToProto(t, r == roles.end() ? std::nullopt : std::optional<Role>(r->second), resp->add_teams());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::CreateTeam(grpc::CallbackServerContext* ctx,
                                                      const v1::CreateTeamRequest* req, v1::Team* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Team t, teams_.Create(caller, req->name(), req->description()));
    ToProto(t, Role::kOwner, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::GetTeam(grpc::CallbackServerContext* ctx,
                                                   const v1::TeamRef* req, v1::Team* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Team t, teams_.Get(caller, req->id()));
    PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, teams_.RoleOf(caller, t));
    ToProto(t, role, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::UpdateTeam(grpc::CallbackServerContext* ctx,
                                                      const v1::UpdateTeamRequest* req, v1::Team* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(
        Team t, teams_.Update(caller, req->id(), Opt(req->has_name(), req->name()),
                              Opt(req->has_description(), req->description())));
    PORTUNUS_ASSIGN_OR_RETURN(std::optional<Role> role, teams_.RoleOf(caller, t));
    ToProto(t, role, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::DeleteTeam(grpc::CallbackServerContext* ctx,
                                                      const v1::TeamRef* req, google::protobuf::Empty*) {
  return AsCaller(ctx, runtime_, authenticator_,
                  [this, req](const Principal& caller) { return teams_.Delete(caller, req->id()); });
}

grpc::ServerUnaryReactor* GrpcTeamService::ListTeamMembers(grpc::CallbackServerContext* ctx,
                                                           const v1::ListTeamMembersRequest* req,
                                                           v1::ListTeamMembersResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Page<Member> page,
                              teams_.ListMembers(caller, req->id(), ListParamsFromProto(req->paging())));
    resp->set_total(page.total);
    for (const Member& m : page.items) ToProto(m, resp->add_members());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::AddTeamMember(grpc::CallbackServerContext* ctx,
                                                         const v1::AddTeamMemberRequest* req,
                                                         v1::TeamMember* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Member m, teams_.AddMember(caller, req->id(), req->user(), req->role()));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::UpdateTeamMember(grpc::CallbackServerContext* ctx,
                                                            const v1::UpdateTeamMemberRequest* req,
                                                            v1::TeamMember* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(Member m,
                              teams_.UpdateMember(caller, req->id(), req->member_id(), req->role()));
    ToProto(m, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::RemoveTeamMember(grpc::CallbackServerContext* ctx,
                                                            const v1::TeamMemberRef* req,
                                                            google::protobuf::Empty*) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req](const Principal& caller) {
    return teams_.RemoveMember(caller, req->id(), req->member_id());
  });
}

grpc::ServerUnaryReactor* GrpcTeamService::ListTeamNamespaces(grpc::CallbackServerContext* ctx,
                                                              const v1::ListTeamNamespacesRequest* req,
                                                              v1::ListNamespacesResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(auto page, namespaces_.ListForTeam(caller, req->id(),
                                                                 ListParamsFromProto(req->paging())));
    FillPage(page, resp);
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------------------------------------

GrpcNamespaceService::GrpcNamespaceService(ServiceRuntime& runtime, Authenticator& authenticator,
                                           NamespaceDirectory& namespaces)
    : runtime_(runtime), authenticator_(authenticator), namespaces_(namespaces) {}

grpc::ServerUnaryReactor* GrpcNamespaceService::ListNamespaces(grpc::CallbackServerContext* ctx,
                                                               const v1::ListNamespacesRequest* req,
                                                               v1::ListNamespacesResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(auto page, namespaces_.List(caller, ListParamsFromProto(req->paging())));
    FillPage(page, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcNamespaceService::CreateNamespace(grpc::CallbackServerContext* ctx,
                                                                const v1::CreateNamespaceRequest* req,
                                                                v1::Namespace* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    NamespaceDirectory::CreateInput in{req->name(), req->team(), req->description(),
                                       Opt(req->has_visibility(), req->visibility())};
    PORTUNUS_ASSIGN_OR_RETURN(NamespaceDirectory::View v, namespaces_.Create(caller, in));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcNamespaceService::GetNamespace(grpc::CallbackServerContext* ctx,
                                                             const v1::NamespaceRef* req,
                                                             v1::Namespace* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(NamespaceDirectory::View v, namespaces_.Get(caller, req->id()));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcNamespaceService::UpdateNamespace(grpc::CallbackServerContext* ctx,
                                                                const v1::UpdateNamespaceRequest* req,
                                                                v1::Namespace* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    NamespaceDirectory::UpdateInput in{Opt(req->has_name(), req->name()),
                                       Opt(req->has_team(), req->team()),
                                       Opt(req->has_description(), req->description()),
                                       Opt(req->has_visibility(), req->visibility())};
    PORTUNUS_ASSIGN_OR_RETURN(NamespaceDirectory::View v, namespaces_.Update(caller, req->id(), in));
    ToProto(v, resp);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcNamespaceService::DeleteNamespace(grpc::CallbackServerContext* ctx,
                                                                const v1::NamespaceRef* req,
                                                                google::protobuf::Empty*) {
  return AsCaller(ctx, runtime_, authenticator_,
                  [this, req](const Principal& caller) { return namespaces_.Delete(caller, req->id()); });
}

grpc::ServerUnaryReactor* GrpcNamespaceService::ValidateNamespace(grpc::CallbackServerContext* ctx,
                                                                  const v1::ValidateNamespaceRequest* req,
                                                                  v1::ValidateNamespaceResponse* resp) {
  return AsCaller(ctx, runtime_, authenticator_, [this, req, resp](const Principal& caller) -> absl::Status {
    PORTUNUS_ASSIGN_OR_RETURN(NamespaceDirectory::Validation v, namespaces_.Validate(caller, req->name()));
    resp->set_valid(v.valid);
    v1::NamespaceValidationMessages* m = resp->mutable_messages();
    for (const std::string& s : v.name_messages) m->add_name(s);
    return absl::OkStatus();
  });
}

}  // namespace portunus::auth
