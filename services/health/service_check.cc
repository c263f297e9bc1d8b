#include "services/health/service_check.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "services/common/request_context.h"
#include "services/common/channel_connect.h"

namespace portunus::health {

absl::StatusOr<bool> GrpcServingProber::Serving(absl::Duration timeout) {
  // Connect first so a service that came back is seen at the next check, not after gRPC's
  // reconnect backoff (up to 120 s).
  const absl::Time started = absl::Now();
  // Half the timeout at most, so an unreachable service is reported as such, not as a check that
  // did not finish.
  if (absl::Status connected = ConnectNow(*channel_, std::min(timeout / 2, absl::Seconds(1)));
      !connected.ok()) {
    return connected;
  }
  timeout = std::max(absl::Milliseconds(1), timeout - (absl::Now() - started));
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, timeout, NewRequestId());
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  const grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

std::optional<ComponentStatus> ServiceCheck::Run(absl::Duration timeout) {
  ComponentStatus status;
  absl::StatusOr<bool> serving = prober_.Serving(timeout);
  if (!serving.ok()) {
    status.message = absl::StrCat(name_, " is not reachable: ", serving.status().message());
  } else if (!*serving) {
    const std::string reason = reason_ ? reason_(name_) : "";
    status.message = reason.empty() ? absl::StrCat(name_, " is not serving")
                                    : absl::StrCat(name_, " is not serving: ", reason);
  } else {
    status.success = true;
    status.message = absl::StrCat(name_, " is serving");
  }
  return status;
}

}  // namespace portunus::health
