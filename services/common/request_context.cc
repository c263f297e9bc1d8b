#include "services/common/request_context.h"

#include <random>

#include "absl/strings/str_format.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace portunus {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = rng(), b = rng();
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", static_cast<uint32_t>(a >> 32),
                         static_cast<uint32_t>((a >> 16) & 0xffff),
                         static_cast<uint32_t>((a & 0x0fff) | 0x4000),
                         static_cast<uint32_t>(((b >> 48) & 0x3fff) | 0x8000),
                         b & 0xffffffffffffULL);
}

std::string SanitizeRequestId(absl::string_view candidate) {
  if (candidate.empty() || candidate.size() > 128) return NewRequestId();
  for (char c : candidate) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return NewRequestId();
  }
  return std::string(candidate);
}

std::string MetadataValue(const grpc::ServerContextBase& ctx, absl::string_view key) {
  const auto& md = ctx.client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

std::string RequestIdFrom(const grpc::ServerContextBase& ctx) {
  return SanitizeRequestId(MetadataValue(ctx, kRequestIdMetadata));
}

void PrepareClientContext(grpc::ClientContext* ctx, absl::Duration timeout,
                          absl::string_view request_id) {
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!request_id.empty()) ctx->AddMetadata(kRequestIdMetadata, std::string(request_id));
}

void ForwardCredentials(const grpc::ServerContextBase& in, grpc::ClientContext* out) {
  for (const char* key : {kAuthorizationMetadata, kPortusAuthMetadata}) {
    std::string v = MetadataValue(in, key);
    if (!v.empty()) out->AddMetadata(key, v);
  }
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace portunus
