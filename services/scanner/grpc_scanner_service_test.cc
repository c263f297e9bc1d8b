// The gRPC transport run in-process over ScannerApi with fake stores.
#include "services/scanner/grpc_scanner_service.h"

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/common/testing/fake_caller_authenticator.h"
#include "services/scanner/fake_scan_store.h"

namespace portunus::scanner {
namespace {

using ::portunus::testing::FakeCallerAuthenticator;

const std::string kDigest = "sha256:" + std::string(64, 'a');

class GrpcScannerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    readiness_.Set(true, "");
    authenticator_.Add("Basic admin", Caller::User("root", /*admin=*/true));
    authenticator_.Add("Basic bob", Caller::User("bob"));
    scanner_service_ = std::make_unique<GrpcScannerService>(rt_, api_, authenticator_);
    vulndb_service_ = std::make_unique<GrpcVulnDbService>(rt_, api_, authenticator_);
    grpc::ServerBuilder builder;
    builder.RegisterService(scanner_service_.get());
    builder.RegisterService(vulndb_service_.get());
    server_ = builder.BuildAndStart();
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    scanner_ = v1::ScannerService::NewStub(channel);
    vulndb_ = v1::VulnDbService::NewStub(channel);
  }
  void TearDown() override { server_->Shutdown(); }

  // A context carrying `authorization` (as the gateway forwards it).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& authorization) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", authorization);
    return ctx;
  }

  portunus::testing::FakeClock clock_;
  CommonConfig common_;
  WorkerPool workers_{2};
  MetricsServer metrics_;
  Readiness readiness_;
  ServiceRuntime rt_{"scanner", common_, nullptr, workers_, metrics_, readiness_, clock_};
  FakeScanStore scans_{clock_};
  FakeAdvisoryStore advisories_;
  ScannerApi api_{{"v1"}, scans_, advisories_, nullptr};
  FakeCallerAuthenticator authenticator_;
  std::unique_ptr<GrpcScannerService> scanner_service_;
  std::unique_ptr<GrpcVulnDbService> vulndb_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ScannerService::Stub> scanner_;
  std::unique_ptr<v1::VulnDbService::Stub> vulndb_;
};

TEST_F(GrpcScannerServiceTest, EnqueueAndSummaries) {
  v1::EnqueueScanRequest req;
  req.set_repository("team/app");
  req.set_digest(kDigest);
  v1::EnqueueScanResponse resp;
  ASSERT_TRUE(scanner_->EnqueueScan(As("Basic admin").get(), req, &resp).ok());
  EXPECT_TRUE(resp.queued());
  EXPECT_EQ(resp.status(), v1::SCAN_STATUS_WORKING);

  req.set_repository("Not Valid");
  grpc::Status bad = scanner_->EnqueueScan(As("Basic admin").get(), req, &resp);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorField(FromGrpcStatus(bad)), "repository");

  grpc::ClientContext sctx;
  v1::GetScanSummariesRequest sreq;
  sreq.add_digests(kDigest);
  sreq.add_digests("sha256:" + std::string(64, 'b'));
  v1::GetScanSummariesResponse sresp;
  ASSERT_TRUE(scanner_->GetScanSummaries(&sctx, sreq, &sresp).ok());
  ASSERT_EQ(sresp.summaries_size(), 2);
  EXPECT_EQ(sresp.summaries(0).status(), v1::SCAN_STATUS_WORKING);
  EXPECT_EQ(sresp.summaries(1).status(), v1::SCAN_STATUS_NONE);
}

TEST_F(GrpcScannerServiceTest, ResultsArePagedAndFiltered) {
  ScanSummary s;
  s.digest = kDigest;
  s.status = ScanStatus::kDone;
  s.counts = {0, 0, 1, 0, 2, 0};
  s.os_name = "Debian GNU/Linux 12 (bookworm)";
  s.scanned_at = absl::FromUnixSeconds(1700000000);
  ASSERT_TRUE(scans_.PutResult(s, {{"CVE-2", Severity::kHigh, "a", "1", "2", "a", PackageFormat::kDpkg, "amd64"},
                                   {"CVE-3", Severity::kHigh, "b", "1", "", "b", PackageFormat::kDpkg, "amd64"},
                                   {"CVE-1", Severity::kLow, "c", "1", "", "c", PackageFormat::kDpkg, "amd64"}}).ok());
  grpc::ClientContext ctx;
  v1::GetScanResultRequest req;
  req.set_digest(kDigest);
  req.set_min_severity(v1::SEVERITY_MEDIUM);
  req.set_per_page(1);
  req.set_page(2);
  v1::GetScanResultResponse resp;
  ASSERT_TRUE(scanner_->GetScanResult(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.total(), 2);
  ASSERT_EQ(resp.vulnerabilities_size(), 1);
  EXPECT_EQ(resp.vulnerabilities(0).id(), "CVE-3");
  EXPECT_EQ(resp.vulnerabilities(0).severity(), v1::SEVERITY_HIGH);
  EXPECT_EQ(resp.vulnerabilities(0).package_type(), "dpkg");
  EXPECT_EQ(resp.summary().status(), v1::SCAN_STATUS_DONE);
  EXPECT_EQ(resp.summary().counts().high(), 2);
  EXPECT_EQ(resp.summary().counts().total(), 3);
  EXPECT_EQ(resp.summary().scanned_at(), "2023-11-14T22:13:20.000Z");

  grpc::ClientContext nctx;
  req.set_digest("sha256:" + std::string(64, 'c'));
  EXPECT_EQ(scanner_->GetScanResult(&nctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext bctx;
  req.set_min_severity(static_cast<v1::Severity>(9));
  EXPECT_EQ(scanner_->GetScanResult(&bctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(GrpcScannerServiceTest, VulnDbStatusAndImportWithoutImporter) {
  grpc::ClientContext ctx;
  v1::GetVulnDbStatusResponse resp;
  ASSERT_TRUE(vulndb_->GetVulnDbStatus(&ctx, v1::GetVulnDbStatusRequest(), &resp).ok());
  EXPECT_EQ(resp.generation(), 0);
  v1::ImportVulnDbRequest ireq;
  ireq.set_location("/x");
  ireq.set_format("weird");
  v1::ImportVulnDbResponse iresp;
  EXPECT_EQ(vulndb_->ImportVulnDb(As("Basic admin").get(), ireq, &iresp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ireq.set_format("osv");
  EXPECT_EQ(vulndb_->ImportVulnDb(As("Basic admin").get(), ireq, &iresp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(GrpcScannerServiceTest, ChangesNeedAnAdministratorOrTheInternalPrincipal) {
  v1::EnqueueScanRequest req;
  req.set_repository("team/app");
  req.set_digest(kDigest);
  v1::EnqueueScanResponse resp;
  grpc::ClientContext anonymous;
  grpc::Status s = scanner_->EnqueueScan(&anonymous, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("queueing a scan requires administrator credentials"));
  s = scanner_->EnqueueScan(As("Basic bob").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("bob is not one"));
  EXPECT_EQ(scanner_->EnqueueScan(As("Basic wrong").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  authenticator_.FailNextCall(absl::UnavailableError("cannot check credentials: auth service: down"));
  EXPECT_EQ(scanner_->EnqueueScan(As("Basic admin").get(), req, &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  // Nothing was queued by the refused calls.
  absl::StatusOr<std::vector<ScanSummary>> none = scans_.GetSummaries({kDigest});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ((*none)[0].status, ScanStatus::kNone);

  v1::RescanAllResponse all;
  EXPECT_EQ(scanner_->RescanAll(As("Basic bob").get(), v1::RescanAllRequest(), &all).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(scanner_->EnqueueScan(As("Basic admin").get(), req, &resp).ok());
  authenticator_.Add("Basic internal", Caller::Internal());
  ASSERT_TRUE(scanner_->RescanAll(As("Basic internal").get(), v1::RescanAllRequest(), &all).ok());

  v1::ImportVulnDbRequest ireq;
  ireq.set_location("/x");
  v1::ImportVulnDbResponse iresp;
  EXPECT_EQ(vulndb_->ImportVulnDb(As("Basic bob").get(), ireq, &iresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GrpcScannerServiceTest, NotReadyServiceRefusesCalls) {
  readiness_.Set(false, "database is initializing");
  grpc::ClientContext ctx;
  v1::RescanAllResponse resp;
  grpc::Status s = scanner_->RescanAll(&ctx, v1::RescanAllRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace portunus::scanner
