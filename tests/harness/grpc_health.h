// grpc.health.v1.Health/Check from C++, for integration tests.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::harness {

// Calls grpc.health.v1.Health/Check on `address` ("127.0.0.1:50051") for `service` ("" = the
// whole server). Returns the status name: "SERVING", "NOT_SERVING", "UNKNOWN" or
// "SERVICE_UNKNOWN". A failed RPC is returned as its status (kUnavailable when nothing listens,
// kNotFound for an unknown service name, kDeadlineExceeded after `timeout`).
absl::StatusOr<std::string> GrpcHealthCheck(const std::string& address,
                                            const std::string& service = "",
                                            absl::Duration timeout = absl::Seconds(2));

}  // namespace portunus::harness
