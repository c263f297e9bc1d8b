#include "services/catalog/grpc_access_client.h"

#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "portunus/auth/v1/access.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::catalog {
namespace {

std::string Base64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                                reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

auth::v1::Principal ToPrincipal(const Caller& c) {
  auth::v1::Principal p;
  switch (c.kind) {
    case Caller::Kind::kAnonymous:
      p.set_kind(auth::v1::Principal::ANONYMOUS);
      break;
    case Caller::Kind::kUser:
      p.set_kind(auth::v1::Principal::USER);
      break;
    case Caller::Kind::kBot:
      p.set_kind(auth::v1::Principal::BOT);
      break;
    case Caller::Kind::kInternal:
      p.set_kind(auth::v1::Principal::INTERNAL);
      break;
  }
  p.set_user_id(c.user_id);
  p.set_name(c.name);
  p.set_admin(c.admin);
  return p;
}

absl::Status FromRpc(const grpc::Status& s, const char* what) {
  absl::Status a = FromGrpcStatus(s);
  return absl::Status(a.code(), absl::StrCat("auth ", what, ": ", a.message()));
}

}  // namespace

struct GrpcAccessClient::Stub {
  std::unique_ptr<auth::v1::AccessService::Stub> access;
};

GrpcAccessClient::GrpcAccessClient(std::shared_ptr<grpc::Channel> channel,
                                   std::string internal_secret, absl::Duration rpc_timeout)
    : callers_(channel, GrpcCallerAuthenticator::Options{}),
      stub_(std::make_unique<Stub>(Stub{auth::v1::AccessService::NewStub(std::move(channel))})),
      internal_authorization_(absl::StrCat("Basic ", Base64("portunus:" + internal_secret))),
      rpc_timeout_(rpc_timeout) {}

GrpcAccessClient::~GrpcAccessClient() = default;

absl::StatusOr<Caller> GrpcAccessClient::Authenticate(const CallerCredentials& credentials) {
  return callers_.Authenticate(credentials, rpc_timeout_, "");
}

absl::StatusOr<NamespaceFilter> GrpcAccessClient::PullableNamespaces(const Caller& caller) {
  if (caller.kind == Caller::Kind::kInternal) return NamespaceFilter{true, {}};
  auth::v1::ListPullableNamespacesRequest req;
  *req.mutable_principal() = ToPrincipal(caller);
  auth::v1::ListPullableNamespacesResponse resp;
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, rpc_timeout_, "");
  ctx.AddMetadata(kAuthorizationMetadata, internal_authorization_);
  grpc::Status s = stub_->access->ListPullableNamespaces(&ctx, req, &resp);
  if (!s.ok()) return FromRpc(s, "ListPullableNamespaces");
  NamespaceFilter f;
  f.all = resp.all();
  f.names.insert(resp.names().begin(), resp.names().end());
  if (resp.global()) f.names.insert("");  // the global namespace
  return f;
}

absl::StatusOr<bool> GrpcAccessClient::MayDelete(const Caller& caller,
                                                 const std::string& repository) {
  auth::v1::AuthorizeRequest req;
  *req.mutable_principal() = ToPrincipal(caller);
  auth::v1::Scope* scope = req.add_scopes();
  scope->set_type("repository");
  scope->set_name(repository);
  scope->add_actions("delete");
  auth::v1::AuthorizeResponse resp;
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, rpc_timeout_, "");
  ctx.AddMetadata(kAuthorizationMetadata, internal_authorization_);
  grpc::Status s = stub_->access->Authorize(&ctx, req, &resp);
  if (!s.ok()) return FromRpc(s, "Authorize");
  for (const auth::v1::Decision& d : resp.decisions()) {
    for (const std::string& a : d.granted()) {
      if (a == "delete") return true;
    }
  }
  return false;
}

absl::StatusOr<int64_t> GrpcAccessClient::EnsureNamespace(const std::string& name) {
  auth::v1::EnsureNamespaceRequest req;
  req.set_name(name);
  auth::v1::EnsureNamespaceResponse resp;
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, rpc_timeout_, "");
  ctx.AddMetadata(kAuthorizationMetadata, internal_authorization_);
  grpc::Status s = stub_->access->EnsureNamespace(&ctx, req, &resp);
  if (!s.ok()) return FromRpc(s, "EnsureNamespace");
  return resp.namespace_id();
}

}  // namespace portunus::catalog
