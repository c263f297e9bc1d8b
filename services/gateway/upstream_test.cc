#include "services/gateway/upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/request_context.h"

namespace portunus::gateway {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// A real gRPC backend: records the metadata of each call and answers by the requested service
// name ("missing": a field error, "slow": never, anything else: SERVING).
class RecordingHealth final : public Health::CallbackService {
 public:
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const HealthCheckRequest* req,
                                  HealthCheckResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    request_id_ = MetadataValue(*ctx, "x-request-id");
    authorization_ = MetadataValue(*ctx, "authorization");
    portus_auth_ = MetadataValue(*ctx, "portus-auth");
    deadline_ = absl::FromChrono(ctx->deadline());
    if (req->service() == "missing") {
      reactor->Finish(ToGrpcStatus(InvalidFieldError("service", "no such service")));
    } else if (req->service() == "slow") {
      held_.push_back(reactor);
    } else {
      resp->set_status(HealthCheckResponse::SERVING);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  void ReleaseHeld() {
    absl::MutexLock lock(&mu_);
    for (auto* r : held_) r->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "test over"));
    held_.clear();
  }
  size_t held() {
    absl::MutexLock lock(&mu_);
    return held_.size();
  }

  absl::Mutex mu_;
  std::string request_id_ ABSL_GUARDED_BY(mu_);
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::string portus_auth_ ABSL_GUARDED_BY(mu_);
  absl::Time deadline_ ABSL_GUARDED_BY(mu_);
  std::vector<grpc::ServerUnaryReactor*> held_ ABSL_GUARDED_BY(mu_);
};

class UpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    service_.ReleaseHeld();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  std::unique_ptr<Upstreams> MakeUpstreams(absl::Duration timeout, int port = 0) {
    Upstreams::Options o;
    const std::string address = absl::StrCat("127.0.0.1:", port == 0 ? port_ : port);
    o.auth_address = o.catalog_address = o.scanner_address = o.health_address = address;
    o.rpc_timeout = timeout;
    return std::make_unique<Upstreams>(o);
  }

  struct Result {
    absl::Notification done;
    absl::Status status;
    HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
    std::thread::id thread;
  };

  // Starts Check(service) and returns where its outcome lands.
  std::shared_ptr<Result> StartCheck(Upstreams& up, Health::Stub& stub, const std::string& service,
                                     const HttpRequest& from) {
    auto result = std::make_shared<Result>();
    HealthCheckRequest req;
    req.set_service(service);
    up.Call(stub, &Health::Stub::PrepareAsyncCheck, req, from,
            [result](absl::Status s, HealthCheckResponse& resp) {
              result->status = std::move(s);
              result->serving = resp.status();
              result->thread = std::this_thread::get_id();
              result->done.Notify();
            });
    return result;
  }

  RecordingHealth service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

HttpRequest From() {
  HttpRequest req;
  req.request_id = "rid-42";
  req.headers = {{"authorization", "Bearer tok"}, {"portus-auth", "alice:secret-token"},
                 {"cookie", "not=forwarded"}};
  return req;
}

TEST_F(UpstreamTest, ForwardsRequestIdCredentialsAndADeadline) {
  auto up = MakeUpstreams(absl::Seconds(5));
  auto stub = Health::NewStub(up->auth());
  const absl::Time before = absl::Now();
  auto result = StartCheck(*up, *stub, "", From());
  result->done.WaitForNotification();
  EXPECT_TRUE(result->status.ok()) << result->status;
  EXPECT_EQ(result->serving, HealthCheckResponse::SERVING);
  EXPECT_NE(result->thread, std::this_thread::get_id());  // ran on the CQ thread
  absl::MutexLock lock(&service_.mu_);
  EXPECT_EQ(service_.request_id_, "rid-42");
  EXPECT_EQ(service_.authorization_, "Bearer tok");
  EXPECT_EQ(service_.portus_auth_, "alice:secret-token");
  EXPECT_GT(service_.deadline_, before + absl::Seconds(3));
  EXPECT_LT(service_.deadline_, absl::Now() + absl::Seconds(6));
}

TEST_F(UpstreamTest, NonAsciiCredentialsAreNotForwarded) {
  auto up = MakeUpstreams(absl::Seconds(5));
  auto stub = Health::NewStub(up->auth());
  HttpRequest from = From();
  from.headers = {{"authorization", "Basic \xff\xfe"}};
  auto result = StartCheck(*up, *stub, "", from);
  result->done.WaitForNotification();
  EXPECT_TRUE(result->status.ok()) << result->status;
  absl::MutexLock lock(&service_.mu_);
  EXPECT_EQ(service_.authorization_, "");
}

TEST_F(UpstreamTest, BackendErrorsKeepTheirCodeAndField) {
  auto up = MakeUpstreams(absl::Seconds(5));
  auto stub = Health::NewStub(up->auth());
  auto result = StartCheck(*up, *stub, "missing", From());
  result->done.WaitForNotification();
  EXPECT_EQ(result->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(result->status), "service");
  EXPECT_EQ(HttpStatusFor(result->status), 422);
}

TEST_F(UpstreamTest, SlowBackendHitsTheDeadline) {
  auto up = MakeUpstreams(absl::Milliseconds(200));
  auto stub = Health::NewStub(up->auth());
  auto result = StartCheck(*up, *stub, "slow", From());
  result->done.WaitForNotification();
  EXPECT_EQ(result->status.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(UpstreamTest, DownBackendIsUnavailable) {
  // A port that was free a moment ago: nothing listens there.
  int free_port = 0;
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    free_port = ntohs(addr.sin_port);
    close(fd);
  }
  auto up = MakeUpstreams(absl::Seconds(5), free_port);
  auto stub = Health::NewStub(up->auth());
  auto result = StartCheck(*up, *stub, "", From());
  result->done.WaitForNotification();
  EXPECT_EQ(result->status.code(), absl::StatusCode::kUnavailable) << result->status;
}

TEST_F(UpstreamTest, ShutdownCancelsCallsInFlightAndRefusesNewOnes) {
  auto up = MakeUpstreams(absl::Seconds(60));
  auto stub = Health::NewStub(up->auth());
  auto result = StartCheck(*up, *stub, "slow", From());
  // Wait until the backend holds the call, so it is really in flight.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (service_.held() == 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(service_.held(), 1u);
  EXPECT_EQ(up->InFlightForTest(), 1u);
  up->Shutdown();
  ASSERT_TRUE(result->done.HasBeenNotified());
  EXPECT_EQ(result->status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(up->InFlightForTest(), 0u);

  auto late = StartCheck(*up, *stub, "", From());
  ASSERT_TRUE(late->done.HasBeenNotified());  // inline
  EXPECT_EQ(late->status.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace portunus::gateway
