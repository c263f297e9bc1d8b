// The gRPC transport run in-process over ScannerApi with fake stores.
#include "services/scanner/grpc_scanner_service.h"

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/metrics.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"

namespace portunus::scanner {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

class GrpcScannerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    readiness_.Set(true, "");
    scanner_service_ = std::make_unique<GrpcScannerService>(rt_, api_);
    vulndb_service_ = std::make_unique<GrpcVulnDbService>(rt_, api_);
    grpc::ServerBuilder builder;
    builder.RegisterService(scanner_service_.get());
    builder.RegisterService(vulndb_service_.get());
    server_ = builder.BuildAndStart();
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    scanner_ = v1::ScannerService::NewStub(channel);
    vulndb_ = v1::VulnDbService::NewStub(channel);
  }
  void TearDown() override { server_->Shutdown(); }

  portunus::testing::FakeClock clock_;
  CommonConfig common_;
  WorkerPool workers_{2};
  MetricsServer metrics_;
  Readiness readiness_;
  ServiceRuntime rt_{"scanner", common_, nullptr, workers_, metrics_, readiness_, clock_};
  FakeScanStore scans_{clock_};
  FakeAdvisoryStore advisories_;
  ScannerApi api_{{"v1"}, scans_, advisories_, nullptr};
  std::unique_ptr<GrpcScannerService> scanner_service_;
  std::unique_ptr<GrpcVulnDbService> vulndb_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::ScannerService::Stub> scanner_;
  std::unique_ptr<v1::VulnDbService::Stub> vulndb_;
};

TEST_F(GrpcScannerServiceTest, EnqueueAndSummaries) {
  grpc::ClientContext ctx;
  v1::EnqueueScanRequest req;
  req.set_repository("team/app");
  req.set_digest(kDigest);
  v1::EnqueueScanResponse resp;
  ASSERT_TRUE(scanner_->EnqueueScan(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.queued());
  EXPECT_EQ(resp.status(), v1::SCAN_STATUS_WORKING);

  grpc::ClientContext bad_ctx;
  req.set_repository("Not Valid");
  grpc::Status bad = scanner_->EnqueueScan(&bad_ctx, req, &resp);
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
  grpc::ClientContext ictx;
  v1::ImportVulnDbRequest ireq;
  ireq.set_location("/x");
  ireq.set_format("weird");
  v1::ImportVulnDbResponse iresp;
  EXPECT_EQ(vulndb_->ImportVulnDb(&ictx, ireq, &iresp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext jctx;
  ireq.set_format("osv");
  EXPECT_EQ(vulndb_->ImportVulnDb(&jctx, ireq, &iresp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
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
