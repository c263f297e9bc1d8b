// gRPC transport of portunus.auth.v1.AccessService (access.proto): Authenticate, Authorize,
// ListPullableNamespaces, EnsureNamespace, Explain. Callback API. Answers that need no I/O
// (cached credentials, decisions from the in-memory cache) finish on the gRPC thread; anything
// that may block (bcrypt, the database) runs on the worker pool.
#pragma once

#include "portunus/auth/v1/access.grpc.pb.h"
#include "services/auth/authenticator.h"
#include "services/auth/authorizer.h"
#include "services/auth/namespace_directory.h"
#include "services/common/service_runner.h"

namespace portunus::auth {

// Thread-safe; everything passed in must outlive it.
class GrpcAccessService final : public v1::AccessService::CallbackService {
 public:
  GrpcAccessService(ServiceRuntime& runtime, Authenticator& authenticator, Authorizer& authorizer,
                    NamespaceDirectory& namespaces);

  grpc::ServerUnaryReactor* Authenticate(grpc::CallbackServerContext* ctx,
                                         const v1::AuthenticateRequest* req,
                                         v1::AuthenticateResponse* resp) override;
  grpc::ServerUnaryReactor* Authorize(grpc::CallbackServerContext* ctx,
                                      const v1::AuthorizeRequest* req,
                                      v1::AuthorizeResponse* resp) override;
  grpc::ServerUnaryReactor* ListPullableNamespaces(grpc::CallbackServerContext* ctx,
                                                   const v1::ListPullableNamespacesRequest* req,
                                                   v1::ListPullableNamespacesResponse* resp) override;
  grpc::ServerUnaryReactor* EnsureNamespace(grpc::CallbackServerContext* ctx,
                                            const v1::EnsureNamespaceRequest* req,
                                            v1::EnsureNamespaceResponse* resp) override;
  grpc::ServerUnaryReactor* Explain(grpc::CallbackServerContext* ctx, const v1::ExplainRequest* req,
                                    v1::ExplainResponse* resp) override;

 private:
  ServiceRuntime& runtime_;
  Authenticator& authenticator_;
  Authorizer& authorizer_;
  NamespaceDirectory& namespaces_;
};

}  // namespace portunus::auth
