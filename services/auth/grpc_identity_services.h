// gRPC transport of the identity management API (identity.proto): UserService, TeamService and
// NamespaceService. Each call authenticates its caller from the metadata the gateway forwards,
// then makes one call into the matching directory on the worker pool (bcrypt and database work
// never run on gRPC threads) and converts the result.
#pragma once

#include "portunus/auth/v1/identity.grpc.pb.h"
#include "services/auth/authenticator.h"
#include "services/auth/namespace_directory.h"
#include "services/auth/team_directory.h"
#include "services/auth/user_directory.h"
#include "services/common/service_runner.h"

namespace portunus::auth {

// Thread-safe; everything passed in must outlive it.
class GrpcUserService final : public v1::UserService::CallbackService {
 public:
  GrpcUserService(ServiceRuntime& runtime, Authenticator& authenticator, UserDirectory& users);

  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* ctx, const v1::ListUsersRequest* req,
                                      v1::ListUsersResponse* resp) override;
  grpc::ServerUnaryReactor* CreateUser(grpc::CallbackServerContext* ctx, const v1::CreateUserRequest* req,
                                       v1::User* resp) override;
  grpc::ServerUnaryReactor* GetUser(grpc::CallbackServerContext* ctx, const v1::UserRef* req,
                                    v1::User* resp) override;
  grpc::ServerUnaryReactor* UpdateUser(grpc::CallbackServerContext* ctx, const v1::UpdateUserRequest* req,
                                       v1::User* resp) override;
  grpc::ServerUnaryReactor* DeleteUser(grpc::CallbackServerContext* ctx, const v1::UserRef* req,
                                       google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* Bootstrap(grpc::CallbackServerContext* ctx, const v1::BootstrapRequest* req,
                                      v1::CreatedApplicationToken* resp) override;
  grpc::ServerUnaryReactor* ListApplicationTokens(grpc::CallbackServerContext* ctx, const v1::UserRef* req,
                                                  v1::ListApplicationTokensResponse* resp) override;
  grpc::ServerUnaryReactor* CreateApplicationToken(grpc::CallbackServerContext* ctx,
                                                   const v1::CreateApplicationTokenRequest* req,
                                                   v1::CreatedApplicationToken* resp) override;
  grpc::ServerUnaryReactor* DeleteApplicationToken(grpc::CallbackServerContext* ctx,
                                                   const v1::ApplicationTokenRef* req,
                                                   google::protobuf::Empty* resp) override;

 private:
  ServiceRuntime& runtime_;
  Authenticator& authenticator_;
  UserDirectory& users_;
};

class GrpcTeamService final : public v1::TeamService::CallbackService {
 public:
  GrpcTeamService(ServiceRuntime& runtime, Authenticator& authenticator, TeamDirectory& teams,
                  NamespaceDirectory& namespaces);

  grpc::ServerUnaryReactor* ListTeams(grpc::CallbackServerContext* ctx, const v1::ListTeamsRequest* req,
                                      v1::ListTeamsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateTeam(grpc::CallbackServerContext* ctx, const v1::CreateTeamRequest* req,
                                       v1::Team* resp) override;
  grpc::ServerUnaryReactor* GetTeam(grpc::CallbackServerContext* ctx, const v1::TeamRef* req,
                                    v1::Team* resp) override;
  grpc::ServerUnaryReactor* UpdateTeam(grpc::CallbackServerContext* ctx, const v1::UpdateTeamRequest* req,
                                       v1::Team* resp) override;
  grpc::ServerUnaryReactor* DeleteTeam(grpc::CallbackServerContext* ctx, const v1::TeamRef* req,
                                       google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* ListTeamMembers(grpc::CallbackServerContext* ctx,
                                            const v1::ListTeamMembersRequest* req,
                                            v1::ListTeamMembersResponse* resp) override;
  grpc::ServerUnaryReactor* AddTeamMember(grpc::CallbackServerContext* ctx,
                                          const v1::AddTeamMemberRequest* req,
                                          v1::TeamMember* resp) override;
  grpc::ServerUnaryReactor* UpdateTeamMember(grpc::CallbackServerContext* ctx,
                                             const v1::UpdateTeamMemberRequest* req,
                                             v1::TeamMember* resp) override;
  grpc::ServerUnaryReactor* RemoveTeamMember(grpc::CallbackServerContext* ctx,
                                             const v1::TeamMemberRef* req,
                                             google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* ListTeamNamespaces(grpc::CallbackServerContext* ctx,
                                               const v1::ListTeamNamespacesRequest* req,
                                               v1::ListNamespacesResponse* resp) override;

 private:
  ServiceRuntime& runtime_;
  Authenticator& authenticator_;
  TeamDirectory& teams_;
  NamespaceDirectory& namespaces_;
};

class GrpcNamespaceService final : public v1::NamespaceService::CallbackService {
 public:
  GrpcNamespaceService(ServiceRuntime& runtime, Authenticator& authenticator,
                       NamespaceDirectory& namespaces);

  grpc::ServerUnaryReactor* ListNamespaces(grpc::CallbackServerContext* ctx,
                                           const v1::ListNamespacesRequest* req,
                                           v1::ListNamespacesResponse* resp) override;
  grpc::ServerUnaryReactor* CreateNamespace(grpc::CallbackServerContext* ctx,
                                            const v1::CreateNamespaceRequest* req,
                                            v1::Namespace* resp) override;
  grpc::ServerUnaryReactor* GetNamespace(grpc::CallbackServerContext* ctx, const v1::NamespaceRef* req,
                                         v1::Namespace* resp) override;
  grpc::ServerUnaryReactor* UpdateNamespace(grpc::CallbackServerContext* ctx,
                                            const v1::UpdateNamespaceRequest* req,
                                            v1::Namespace* resp) override;
  grpc::ServerUnaryReactor* DeleteNamespace(grpc::CallbackServerContext* ctx, const v1::NamespaceRef* req,
                                            google::protobuf::Empty* resp) override;
  grpc::ServerUnaryReactor* ValidateNamespace(grpc::CallbackServerContext* ctx,
                                              const v1::ValidateNamespaceRequest* req,
                                              v1::ValidateNamespaceResponse* resp) override;

 private:
  ServiceRuntime& runtime_;
  Authenticator& authenticator_;
  NamespaceDirectory& namespaces_;
};

}  // namespace portunus::auth
