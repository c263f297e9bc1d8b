#include "services/common/request_context.h"

#include <random>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace portunus {

std::string NewRequestId() {
  // Formatted by hand: this runs for every HTTP request without an id of its own.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t a = (rng() & 0xffffffffffff0fffULL) | 0x4000;  // version 4
  const uint64_t b = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) id[static_cast<size_t>(pos + i)] = kHex[v & 15], v >>= 4;
    pos += digits + 1;
  };
  put(a >> 32, 8);
  put((a >> 16) & 0xffff, 4);
  put(a & 0xffff, 4);
  put(b >> 48, 4);
  put(b & 0xffffffffffffULL, 12);
  return id;
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
