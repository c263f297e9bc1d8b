#include "services/health/grpc_health_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::health {
namespace {

v1::Replica::State ToProto(ReplicaState s) {
  switch (s) {
    case ReplicaState::kReady:
      return v1::Replica::READY;
    case ReplicaState::kNotReady:
      return v1::Replica::NOT_READY;
    case ReplicaState::kStale:
      return v1::Replica::STALE;
    case ReplicaState::kStopped:
      return v1::Replica::STOPPED;
  }
  return v1::Replica::STATE_UNSPECIFIED;
}

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& status,
                                 const std::string& request_id) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status, request_id));
  return reactor;
}

}  // namespace

std::string FormatRfc3339(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

void ToProto(const ComponentStatus& c, v1::Component* out) {
  out->set_name(c.name);
  out->set_success(c.success);
  out->set_msg(c.message);
  out->set_warning(c.warning);
  out->set_checked_at(FormatRfc3339(c.checked_at));
  out->set_duration_seconds(absl::ToDoubleSeconds(c.duration));
}

void ToProto(const HealthReport& report, v1::GetHealthResponse* out) {
  for (const ComponentStatus& c : report.components) ToProto(c, out->add_components());
  const ComponentStatus* failure = report.FirstFailure();
  out->set_healthy(failure == nullptr);
  out->set_error(failure == nullptr ? "" : failure->message);
}

void ToProto(const ReplicaView& r, v1::Replica* out) {
  out->set_id(r.record.id);
  out->set_service(r.record.service);
  out->set_hostname(r.record.hostname);
  out->set_pid(r.record.pid);
  out->set_address(r.record.address);
  out->set_version(r.record.version);
  out->set_started_at(FormatRfc3339(r.record.started_at));
  out->set_last_heartbeat(FormatRfc3339(r.record.last_heartbeat));
  out->set_state(ToProto(r.state));
  out->set_health(r.health);
}

void ToProto(const ClusterStatus& status, v1::GetClusterStatusResponse* out) {
  for (const ReplicaView& r : status.replicas) ToProto(r, out->add_replicas());
  for (const ClusterIssue& i : status.issues) {
    v1::Issue* issue = out->add_current_issues();
    issue->set_critical(i.critical);
    issue->set_description(i.description);
  }
  for (const ComponentStatus& c : status.report.components) ToProto(c, out->add_components());
  out->set_generated_at(FormatRfc3339(status.generated_at));
}

grpc::ServerUnaryReactor* GrpcHealthService::GetHealth(grpc::CallbackServerContext* ctx,
                                                       const v1::GetHealthRequest* /*req*/,
                                                       v1::GetHealthResponse* resp) {
  ToProto(deps_.monitor.Report(), resp);
  return Finish(ctx, absl::OkStatus(), "");
}

grpc::ServerUnaryReactor* GrpcHealthService::GetClusterStatus(
    grpc::CallbackServerContext* ctx, const v1::GetClusterStatusRequest* /*req*/,
    v1::GetClusterStatusResponse* resp) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  CallerCredentials credentials{MetadataValue(*ctx, kAuthorizationMetadata),
                                MetadataValue(*ctx, kPortusAuthMetadata)};
  std::string request_id = RequestIdFrom(*ctx);
  // Authenticating is a blocking call to the auth service: off gRPC's threads.
  deps_.workers.Schedule([this, reactor, resp, credentials = std::move(credentials),
                          request_id = std::move(request_id)] {
    absl::StatusOr<Caller> caller =
        IsInternalCredential(credentials.authorization, deps_.internal_secret)
            ? absl::StatusOr<Caller>(Caller::Internal())
            : deps_.authenticator.Authenticate(credentials, deps_.rpc_timeout, request_id);
    absl::Status status = caller.ok() ? RequireAdmin(*caller, "the cluster status") : caller.status();
    if (status.ok()) {
      ToProto(BuildClusterStatus(deps_.monitor.Report(), deps_.replicas.Snapshot(),
                                 deps_.replicas.last_sync(), deps_.expected_services(),
                                 deps_.clock.Now()),
              resp);
    }
    reactor->Finish(ToGrpcStatus(status, request_id));
  });
  return reactor;
}

grpc::ServerUnaryReactor* GrpcReplicaRegistryService::Heartbeat(grpc::CallbackServerContext* ctx,
                                                                const v1::HeartbeatRequest* req,
                                                                v1::HeartbeatResponse* resp) {
  const std::string request_id = RequestIdFrom(*ctx);
  if (!IsInternalCredential(MetadataValue(*ctx, kAuthorizationMetadata), secret_)) {
    return Finish(
        ctx,
        absl::UnauthenticatedError(
            "heartbeats must be sent as the internal principal (Basic portunus:<internal.secret>)"),
        request_id);
  }
  ReplicaRecord r;
  r.id = req->replica_id();
  r.service = req->service();
  r.hostname = req->hostname();
  r.pid = req->pid();
  r.address = req->address();
  r.version = req->version();
  r.ready = req->ready();
  r.reason = req->not_ready_reason();
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, req->started_at(), &r.started_at, &error)) {
    return Finish(ctx, InvalidFieldError("started_at", "must be an RFC 3339 time"), request_id);
  }
  absl::Status status = registry_.Heartbeat(std::move(r));
  if (status.ok()) {
    resp->set_next_heartbeat_ms(
        static_cast<int32_t>(absl::ToInt64Milliseconds(registry_.options().heartbeat_interval)));
  }
  return Finish(ctx, status, request_id);
}

grpc::ServerUnaryReactor* GrpcReplicaRegistryService::Deregister(grpc::CallbackServerContext* ctx,
                                                                 const v1::DeregisterRequest* req,
                                                                 v1::DeregisterResponse* /*resp*/) {
  const std::string request_id = RequestIdFrom(*ctx);
  if (!IsInternalCredential(MetadataValue(*ctx, kAuthorizationMetadata), secret_)) {
    return Finish(
        ctx,
        absl::UnauthenticatedError(
            "deregistering requires the internal principal (Basic portunus:<internal.secret>)"),
        request_id);
  }
  return Finish(ctx, registry_.Deregister(req->replica_id()), request_id);
}

}  // namespace portunus::health
