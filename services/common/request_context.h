// Request ids and credentials travelling in gRPC metadata.
//
// The gateway takes X-Request-Id from the HTTP request (or makes one) and sends it as the
// `x-request-id` metadata; every service logs it and passes it on. Caller credentials travel
// unchanged as `authorization` (Basic/Bearer) or `portus-auth` (Portus's user:token header), so
// each service authenticates its caller itself through the auth service.
#pragma once

#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace portunus {

inline constexpr char kRequestIdMetadata[] = "x-request-id";
inline constexpr char kAuthorizationMetadata[] = "authorization";
inline constexpr char kPortusAuthMetadata[] = "portus-auth";

// A new random request id: 32 lowercase hex digits in UUID layout (8-4-4-4-12).
std::string NewRequestId();

// Accepts ids of 1-128 characters from [A-Za-z0-9._:-]; anything else is replaced by a new id,
// so a client cannot inject text into logs.
std::string SanitizeRequestId(absl::string_view candidate);

// The request id of an incoming call (sanitized), or a new one when the caller sent none.
std::string RequestIdFrom(const grpc::ServerContextBase& ctx);

// The value of incoming metadata `key`, or "".
std::string MetadataValue(const grpc::ServerContextBase& ctx, absl::string_view key);

// Sets the deadline (now + timeout) and request id of an outgoing call.
void PrepareClientContext(grpc::ClientContext* ctx, absl::Duration timeout,
                          absl::string_view request_id);

// Copies the caller's credentials metadata from `in` to `out`.
void ForwardCredentials(const grpc::ServerContextBase& in, grpc::ClientContext* out);

// One long-lived insecure channel to `address` (service-to-service traffic stays on the
// cluster network; terminate TLS in the mesh or ingress).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

}  // namespace portunus
