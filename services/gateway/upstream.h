// The gateway's connections to the backend services, and the one way route files call them.
//
// One long-lived gRPC channel per backend (auth, catalog, scanner, health; addresses from the
// common config's `<svc>.address`), created at startup: a channel per request is 7x slower
// (PERFORMANCE-CEILINGS.md 5h). Calls use gRPC's asynchronous CompletionQueue API driven by a
// single dedicated thread, the fastest layout measured on the project machine (5e): an io
// thread never waits for a backend, and the completion runs on the CQ thread, which then
// hands the HTTP response back through the HttpResponder.
//
//   auto stub = std::shared_ptr<v1::UserService::Stub>(v1::UserService::NewStub(up.auth()));
//   router.Add("GET", "/api/v1/users/:id", [&up, stub](HttpRequest&& req, PathParams p,
//                                                      HttpResponder respond) {
//     v1::GetUserRequest rpc;
//     ...
//     up.Call(*stub, &v1::UserService::Stub::PrepareAsyncGetUser, rpc, req,
//             [respond, id = req.request_id](absl::Status s, v1::User& user) {
//               respond(s.ok() ? ProtoResponse(200, user) : ErrorResponse(s, id));
//             });
//   });
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/support/async_unary_call.h"
#include "services/common/common_config.h"
#include "services/common/http_server.h"
#include "services/common/log.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::gateway {

namespace upstream_internal {

// One call in flight; owned by the CompletionQueue (its tag) until it completes.
class PendingCall {
 public:
  virtual ~PendingCall() = default;
  virtual void Complete() = 0;
  grpc::ClientContext context;
};

}  // namespace upstream_internal

// Thread-safe. Must outlive every call it started (Shutdown waits for them).
class Upstreams {
 public:
  struct Options {
    std::string auth_address;
    std::string catalog_address;
    std::string scanner_address;
    std::string health_address;
    absl::Duration rpc_timeout = absl::Seconds(10);  // the deadline of every call
  };
  // Addresses and deadline from the common config (`<svc>.address`, `internal.rpc_timeout`).
  static Options OptionsFrom(const CommonConfig& common);

  // Creates the channels (they connect lazily and reconnect by themselves) and starts the CQ
  // thread.
  explicit Upstreams(Options options);
  ~Upstreams();  // Shutdown()
  Upstreams(const Upstreams&) = delete;
  Upstreams& operator=(const Upstreams&) = delete;

  const std::shared_ptr<grpc::Channel>& auth() const { return auth_; }
  const std::shared_ptr<grpc::Channel>& catalog() const { return catalog_; }
  const std::shared_ptr<grpc::Channel>& scanner() const { return scanner_; }
  const std::shared_ptr<grpc::Channel>& health() const { return health_; }
  absl::Duration rpc_timeout() const { return options_.rpc_timeout; }

  // Starts the unary RPC `prepare` (e.g. &v1::UserService::Stub::PrepareAsyncGetUser) on
  // `stub` with `request`, on behalf of the HTTP request `from`: the call carries
  // `x-request-id` (from.request_id), the caller's `authorization` and `portus-auth` headers as
  // metadata, and the deadline now + rpc_timeout. `done(absl::Status, Resp&)` runs exactly once
  // on the CQ thread (never inline): with OK and the response, or with the mapped gRPC error
  // (FromGrpcStatus: kDeadlineExceeded on timeout, kUnavailable when the backend is down, the
  // backend's own status otherwise, keeping its field). After Shutdown began, `done` runs
  // inline with kUnavailable. `done` must not block (it may call an HttpResponder).
  template <class Resp, class Stub, class Req, class Done>
  void Call(Stub& stub,
            std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*prepare)(
                grpc::ClientContext*, const Req&, grpc::CompletionQueue*),
            const Req& request, const HttpRequest& from, Done&& done);

  // The same for a call made on behalf of several HTTP requests (or none): it carries
  // `x-request-id: request_id` and no caller credentials.
  template <class Resp, class Stub, class Req, class Done>
  void Call(Stub& stub,
            std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*prepare)(
                grpc::ClientContext*, const Req&, grpc::CompletionQueue*),
            const Req& request, absl::string_view request_id, Done&& done);

  // Cancels the calls in flight (their `done` gets kCancelled), waits for their completions
  // and stops the CQ thread. Idempotent.
  void Shutdown();

  size_t InFlightForTest() const;

 private:
  template <class Resp, class Done>
  class Pending final : public upstream_internal::PendingCall {
   public:
    explicit Pending(Done done) : done_(std::move(done)) {}
    void Complete() override { done_(FromGrpcStatus(status_), response_); }
    Resp response_;
    grpc::Status status_;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader_;

   private:
    Done done_;
  };

  // Sets deadline and metadata from the HTTP request.
  void PrepareContext(grpc::ClientContext* context, const HttpRequest& from) const;
  // Starts `call` (its context prepared), or completes it with kUnavailable after Shutdown.
  template <class P, class Stub, class Req, class Prepare>
  void Start(std::unique_ptr<P> call, Stub& stub, Prepare prepare, const Req& request);
  void Loop();

  const Options options_;
  std::shared_ptr<grpc::Channel> auth_, catalog_, scanner_, health_;
  grpc::CompletionQueue cq_;
  // A std::mutex on this per-call path: Debian's Abseil checks every absl::Mutex lock for
  // deadlocks.
  mutable std::mutex mu_;
  bool shutting_down_ = false;                                       // guarded by mu_
  std::unordered_set<upstream_internal::PendingCall*> in_flight_;  // guarded by mu_
  std::thread thread_;
};

template <class Resp, class Stub, class Req, class Done>
void Upstreams::Call(Stub& stub,
                     std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*prepare)(
                         grpc::ClientContext*, const Req&, grpc::CompletionQueue*),
                     const Req& request, const HttpRequest& from, Done&& done) {
  auto call = std::make_unique<Pending<Resp, std::decay_t<Done>>>(std::forward<Done>(done));
  PrepareContext(&call->context, from);
  Start(std::move(call), stub, prepare, request);
}

template <class Resp, class Stub, class Req, class Done>
void Upstreams::Call(Stub& stub,
                     std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> (Stub::*prepare)(
                         grpc::ClientContext*, const Req&, grpc::CompletionQueue*),
                     const Req& request, absl::string_view request_id, Done&& done) {
  auto call = std::make_unique<Pending<Resp, std::decay_t<Done>>>(std::forward<Done>(done));
  PrepareClientContext(&call->context, options_.rpc_timeout, request_id);
  Start(std::move(call), stub, prepare, request);
}

template <class P, class Stub, class Req, class Prepare>
void Upstreams::Start(std::unique_ptr<P> call, Stub& stub, Prepare prepare, const Req& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shutting_down_) {
      // Started under the lock so Shutdown never shuts the queue down under a new call.
      call->reader_ = (stub.*prepare)(&call->context, request, &cq_);
      call->reader_->StartCall();
      P* raw = call.release();
      in_flight_.insert(raw);
      raw->reader_->Finish(&raw->response_, &raw->status_, static_cast<void*>(
                                                                static_cast<upstream_internal::PendingCall*>(raw)));
      return;
    }
  }
  call->status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down");
  call->Complete();
}

}  // namespace portunus::gateway
