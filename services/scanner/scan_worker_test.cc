#include "services/scanner/scan_worker.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"
#include "services/scanner/oci_layout_source.h"
#include "services/scanner/testing/oci_layout_builder.h"
#include "services/scanner/testing/tar_builder.h"

namespace portunus::scanner {
namespace {

using ::testing::HasSubstr;
using testing::TarBuilder;

// Fails a number of times with a given status, then serves the layout.
class FlakySource : public BlobSource, public ManifestSource {
 public:
  explicit FlakySource(OciLayoutSource& inner) : inner_(inner) {}
  absl::Status StreamBlob(const std::string& r, const std::string& d, const BlobSink& s) override {
    return inner_.StreamBlob(r, d, s);
  }
  absl::StatusOr<FetchedManifest> FetchManifest(const std::string& r, const std::string& ref) override {
    if (failures > 0) {
      --failures;
      return failure;
    }
    return inner_.FetchManifest(r, ref);
  }
  int failures = 0;
  absl::Status failure = absl::UnavailableError("registry: connection refused");

 private:
  OciLayoutSource& inner_;
};

class ScanWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portunus-worker-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    layout_ = std::make_unique<testing::OciLayoutBuilder>(dir_ + "/layout");
    oci_ = std::make_unique<OciLayoutSource>(dir_ + "/layout");
    source_ = std::make_unique<FlakySource>(*oci_);
    scanner_ = std::make_unique<ImageScanner>(ImageScanner::Options{}, *source_, *source_, store_, cache_,
                                              nullptr, clock_);
    ScanWorker::Options o;
    o.max_attempts = 3;
    o.retry_backoff = absl::Seconds(10);
    worker_ = std::make_unique<ScanWorker>(o, store_, *scanner_, clock_);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Image(const std::string& installed) {
    return layout_->AddImage({{TarBuilder()
                                   .File("etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n")
                                   .File("lib/apk/db/installed", installed)
                                   .Build(testing::Compression::kGzip),
                               "application/vnd.oci.image.layer.v1.tar+gzip"}});
  }

  std::string dir_;
  portunus::testing::FakeClock clock_;
  FakeScanStore store_{clock_};
  FakeAdvisoryStore advisories_;
  AdvisoryCache cache_{advisories_};
  std::unique_ptr<testing::OciLayoutBuilder> layout_;
  std::unique_ptr<OciLayoutSource> oci_;
  std::unique_ptr<FlakySource> source_;
  std::unique_ptr<ImageScanner> scanner_;
  std::unique_ptr<ScanWorker> worker_;
};

TEST_F(ScanWorkerTest, RunsQueuedScansAndSettlesThem) {
  const std::string digest = Image("P:musl\nV:1.2.4-r2\n");
  const int64_t id = store_.EnqueueScan("ns/app", digest, false, absl::InfinitePast()).value();
  EXPECT_TRUE(worker_->RunOnce("w").value());
  EXPECT_EQ(store_.JobState(id), "done");
  EXPECT_EQ(store_.GetSummaries({digest}).value()[0].status, ScanStatus::kDone);
  EXPECT_FALSE(worker_->RunOnce("w").value());
}

TEST_F(ScanWorkerTest, TransientFailuresAreRetriedWithBackoffThenFail) {
  const std::string digest = Image("P:musl\nV:1.2.4-r2\n");
  source_->failures = 10;
  const int64_t id = store_.EnqueueScan("ns/app", digest, false, absl::InfinitePast()).value();
  EXPECT_TRUE(worker_->RunOnce("w").value());
  EXPECT_EQ(store_.JobState(id), "queued");
  EXPECT_FALSE(worker_->RunOnce("w").value());  // not before the backoff
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(worker_->RunOnce("w").value());   // attempt 2, backoff now 20 s
  clock_.Advance(absl::Seconds(10));
  EXPECT_FALSE(worker_->RunOnce("w").value());
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(worker_->RunOnce("w").value());   // attempt 3 = max: failed for good
  EXPECT_EQ(store_.JobState(id), "failed");
  ScanSummary s = store_.GetSummaries({digest}).value()[0];
  EXPECT_EQ(s.status, ScanStatus::kFailed);
  EXPECT_THAT(s.error, HasSubstr("connection refused"));
}

TEST_F(ScanWorkerTest, AHostileImageFailsAtOnceWithItsReason) {
  const std::string digest = Image("garbage\n");
  const int64_t id = store_.EnqueueScan("ns/app", digest, false, absl::InfinitePast()).value();
  EXPECT_TRUE(worker_->RunOnce("w").value());
  EXPECT_EQ(store_.JobState(id), "failed");
  ScanSummary s = store_.GetSummaries({digest}).value()[0];
  EXPECT_EQ(s.status, ScanStatus::kFailed);
  EXPECT_THAT(s.error, HasSubstr("lib/apk/db/installed: apk installed db line 1"));
}

TEST_F(ScanWorkerTest, RematchJobsRun) {
  const std::string digest = Image("P:musl\nV:1.2.4-r2\n");
  store_.EnqueueScan("ns/app", digest, false, absl::InfinitePast()).value();
  EXPECT_TRUE(worker_->RunOnce("w").value());
  FeedData data;
  ASSERT_TRUE(ParseOsv(R"({"id": "CVE-2025-1", "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "musl"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.4-r3"}]}]}]})", "osv", &data).ok());
  FeedSource src;
  src.name = "osv";
  ASSERT_TRUE(advisories_.UpsertRecords(src, data).ok());
  const int64_t id = store_.EnqueueRematch().value();
  EXPECT_TRUE(worker_->RunOnce("w").value());
  EXPECT_EQ(store_.JobState(id), "done");
  EXPECT_EQ(store_.GetResults({digest}).value().total, 1);
}

TEST(IsTransientTest, Classification) {
  EXPECT_TRUE(IsTransient(absl::UnavailableError("")));
  EXPECT_TRUE(IsTransient(absl::DataLossError("")));
  EXPECT_FALSE(IsTransient(absl::ResourceExhaustedError("")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("")));
  EXPECT_FALSE(IsTransient(absl::NotFoundError("")));
}

}  // namespace
}  // namespace portunus::scanner
