#include "services/gateway/upstream.h"

#include <pthread.h>

namespace portunus::gateway {
namespace {

// gRPC rejects metadata values outside printable ASCII; such a header is not forwarded (the
// call then runs unauthenticated and the backend answers 401).
bool IsPrintableAscii(absl::string_view v) {
  for (char c : v) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

Upstreams::Options Upstreams::OptionsFrom(const CommonConfig& common) {
  Options o;
  o.auth_address = common.auth.address;
  o.catalog_address = common.catalog.address;
  o.scanner_address = common.scanner.address;
  o.health_address = common.health.address;
  o.rpc_timeout = common.rpc_timeout;
  return o;
}

Upstreams::Upstreams(Options options)
    : options_(std::move(options)),
      auth_(MakeChannel(options_.auth_address)),
      catalog_(MakeChannel(options_.catalog_address)),
      scanner_(MakeChannel(options_.scanner_address)),
      health_(MakeChannel(options_.health_address)) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "grpc-cq");
    Loop();
  });
}

Upstreams::~Upstreams() { Shutdown(); }

void Upstreams::PrepareContext(grpc::ClientContext* context, const HttpRequest& from) const {
  PrepareClientContext(context, options_.rpc_timeout, from.request_id);
  for (const char* key : {kAuthorizationMetadata, kPortusAuthMetadata}) {
    const std::string value = from.Header(key);
    if (!value.empty() && IsPrintableAscii(value)) context->AddMetadata(key, value);
  }
}

void Upstreams::Loop() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
    auto* call = static_cast<upstream_internal::PendingCall*>(tag);
    try {
      call->Complete();
    } catch (const std::exception& e) {
      LogError("upstream completion threw", {{"error", e.what()}});
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      in_flight_.erase(call);
    }
    delete call;
  }
}

void Upstreams::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) {
      // Another caller is (or was) shutting down; joining twice is not allowed.
      return;
    }
    shutting_down_ = true;
    for (upstream_internal::PendingCall* call : in_flight_) call->context.TryCancel();
  }
  cq_.Shutdown();  // Next() returns false once every pending completion was delivered
  if (thread_.joinable()) thread_.join();
}

size_t Upstreams::InFlightForTest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_flight_.size();
}

}  // namespace portunus::gateway
