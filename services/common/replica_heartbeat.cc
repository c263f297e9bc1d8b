#include "services/common/replica_heartbeat.h"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/grpcpp.h"
#include "portunus/health/v1/replicas.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/common/log.h"
#include "services/common/request_context.h"

#ifndef PORTUNUS_VERSION
#define PORTUNUS_VERSION "dev"
#endif

namespace portunus {

namespace v1 = ::portunus::health::v1;

struct ReplicaHeartbeat::Rpc {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ReplicaRegistry::Stub> stub;
  std::string authorization;
};

const char* PortunusVersion() { return PORTUNUS_VERSION; }

ReplicaIdentity NewReplicaIdentity(const std::string& service, const std::string& address) {
  std::random_device rd;
  const uint64_t bits = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  ReplicaIdentity id;
  id.id = absl::StrFormat("%s-%012x", service, bits & 0xffffffffffffULL);
  id.service = service;
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) == 0) id.hostname = host;
  id.pid = static_cast<int64_t>(getpid());
  id.address = address;
  id.version = PORTUNUS_VERSION;
  id.started_at = absl::Now();
  return id;
}

ReplicaHeartbeat::ReplicaHeartbeat(Options options, ReplicaIdentity identity,
                                   std::function<ReplicaReadiness()> readiness)
    : options_(std::move(options)),
      identity_(std::move(identity)),
      readiness_(std::move(readiness)),
      rpc_(std::make_unique<Rpc>()),
      interval_(options_.default_interval) {
  rpc_->channel = MakeChannel(options_.health_address);
  rpc_->stub = v1::ReplicaRegistry::NewStub(rpc_->channel);
  rpc_->authorization =
      "Basic " + absl::Base64Escape(absl::StrCat("portunus:", options_.internal_secret));
  if (options_.metrics != nullptr) {
    auto& family = prometheus::BuildCounter()
                       .Name("portunus_replica_heartbeats_total")
                       .Help("Heartbeats this replica sent to the health service, by result.")
                       .Register(*options_.metrics);
    ok_ = &family.Add({{"result", "ok"}});
    failed_ = &family.Add({{"result", "error"}});
  }
}

ReplicaHeartbeat::~ReplicaHeartbeat() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void ReplicaHeartbeat::Start() {
  thread_ = std::thread([this] { Loop(); });
}

absl::Status ReplicaHeartbeat::SendOnce() {
  v1::HeartbeatRequest req;
  req.set_replica_id(identity_.id);
  req.set_service(identity_.service);
  req.set_hostname(identity_.hostname);
  req.set_pid(identity_.pid);
  req.set_address(identity_.address);
  req.set_version(identity_.version);
  req.set_started_at(
      absl::FormatTime(absl::RFC3339_full, identity_.started_at, absl::UTCTimeZone()));
  const ReplicaReadiness ready = readiness_();
  req.set_ready(ready.ready);
  if (!ready.ready) req.set_not_ready_reason(ready.reason.substr(0, 1024));

  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, options_.rpc_timeout, NewRequestId());
  ctx.AddMetadata(kAuthorizationMetadata, rpc_->authorization);
  v1::HeartbeatResponse resp;
  const grpc::Status s = rpc_->stub->Heartbeat(&ctx, req, &resp);
  absl::MutexLock lock(&mu_);
  if (!s.ok()) {
    if (failed_ != nullptr) failed_->Increment();
    const absl::Status status(
        static_cast<absl::StatusCode>(s.error_code()),
        absl::StrCat("heartbeat to the health service at ", options_.health_address,
                     " failed: ", s.error_message()));
    if (!failing_) {
      // Once per outage: the health service may simply not be deployed yet.
      LogWarn("cannot send heartbeat", {{"replica_id", identity_.id}, {"error", status.message()}});
      failing_ = true;
    }
    // Retry soon after a failure (health may just be starting), backing off to the default.
    retry_ = retry_ == absl::ZeroDuration() ? absl::Milliseconds(250) : 2 * retry_;
    interval_ = std::min(retry_, options_.default_interval);
    return status;
  }
  if (ok_ != nullptr) ok_->Increment();
  retry_ = absl::ZeroDuration();
  if (failing_) {
    LogInfo("heartbeats delivered again", {{"replica_id", identity_.id}});
    failing_ = false;
  }
  // Bounds guard against a broken peer: at least 100 ms, at most 5 minutes.
  interval_ = absl::Milliseconds(std::clamp(resp.next_heartbeat_ms(), 100, 300000));
  return absl::OkStatus();
}

void ReplicaHeartbeat::Loop() {
  do {
    SendOnce().IgnoreError();  // logged and counted in SendOnce; retried at the next interval
  } while (!stop_.WaitForNotificationWithTimeout([this] {
    absl::MutexLock lock(&mu_);
    return interval_;
  }()));
}

absl::Status ReplicaHeartbeat::Stop(absl::Time deadline) {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  v1::DeregisterRequest req;
  req.set_replica_id(identity_.id);
  grpc::ClientContext ctx;
  const absl::Duration timeout =
      std::max(absl::Milliseconds(1), std::min(options_.rpc_timeout, deadline - absl::Now()));
  PrepareClientContext(&ctx, timeout, NewRequestId());
  ctx.AddMetadata(kAuthorizationMetadata, rpc_->authorization);
  v1::DeregisterResponse resp;
  const grpc::Status s = rpc_->stub->Deregister(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(
        static_cast<absl::StatusCode>(s.error_code()),
        absl::StrCat("deregistering from the health service failed: ", s.error_message()));
  }
  return absl::OkStatus();
}

}  // namespace portunus
