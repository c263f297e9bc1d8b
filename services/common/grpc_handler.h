// Helpers for transport files (grpc_<svc>_service.cc): run a unary RPC's work and finish it
// with the mapped status, refusing calls while the service is not ready.
//
//   grpc::ServerUnaryReactor* GrpcAuthService::GetUser(grpc::CallbackServerContext* ctx,
//                                                      const v1::GetUserRequest* req,
//                                                      v1::User* resp) {
//     return RunOnWorkers(ctx, runtime_, [=](const std::string& request_id) -> absl::Status {
//       PORTUNUS_ASSIGN_OR_RETURN(User user, users_.Get(req->id()));
//       ToProto(user, resp);
//       return absl::OkStatus();
//     });
//   }
#pragma once

#include <string>
#include <utility>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "services/common/request_context.h"
#include "services/common/service_runner.h"
#include "services/common/status_mapping.h"

namespace portunus {

// Runs `work(request_id)` -> absl::Status on the worker pool (for blocking work: database,
// bcrypt, registry calls) and finishes the call with ToGrpcStatus(result).
template <typename Work>
grpc::ServerUnaryReactor* RunOnWorkers(grpc::CallbackServerContext* ctx, ServiceRuntime& rt,
                                       Work work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::string request_id = RequestIdFrom(*ctx);
  if (!rt.readiness.ready()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "service not ready: " + rt.readiness.reason()));
    return reactor;
  }
  rt.workers.Schedule([reactor, work = std::move(work), request_id = std::move(request_id)]() mutable {
    absl::Status status = work(request_id);
    reactor->Finish(ToGrpcStatus(status, request_id));
  });
  return reactor;
}

// Runs `work(request_id)` on the calling gRPC thread: for CPU-only work that never blocks
// (cached decisions, signing).
template <typename Work>
grpc::ServerUnaryReactor* RunInline(grpc::CallbackServerContext* ctx, ServiceRuntime& rt,
                                    Work work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const std::string request_id = RequestIdFrom(*ctx);
  if (!rt.readiness.ready()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "service not ready: " + rt.readiness.reason()));
    return reactor;
  }
  reactor->Finish(ToGrpcStatus(work(request_id), request_id));
  return reactor;
}

}  // namespace portunus
