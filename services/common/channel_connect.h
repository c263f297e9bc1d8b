// For callers of services that may start after them, stop and come back (health's checks and its
// caller authentication). A gRPC channel whose connection attempt failed fails every call at
// once until its reconnect backoff runs out (1 s, growing by 1.6x up to 120 s during a long
// outage), even when the service is back by then: health would report a recovered service as
// unreachable, and refuse admins of cluster_status, for up to two minutes. ConnectNow cuts that
// wait short when someone asks.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace grpc {
class Channel;
}

namespace portunus {

// OK once `channel` is connected. Starts a connection attempt when the channel is idle, or at
// once (resetting the backoff) when the last attempt failed, and waits up to `wait` for it.
// kUnavailable ("no connection within ...") when none came up in time. Thread-safe.
absl::Status ConnectNow(grpc::Channel& channel, absl::Duration wait);

}  // namespace portunus
