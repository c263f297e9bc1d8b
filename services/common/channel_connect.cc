#include "services/common/channel_connect.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace portunus {

absl::Status ConnectNow(grpc::Channel& channel, absl::Duration wait) {
  const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  if (state == GRPC_CHANNEL_READY) return absl::OkStatus();
  // A refused connection fails in microseconds, so trying now costs nothing.
  if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) grpc::experimental::ChannelResetConnectionBackoff(&channel);
  if (channel.WaitForConnected(absl::ToChronoTime(absl::Now() + wait))) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("no connection within ", absl::FormatDuration(wait)));
}

}  // namespace portunus
