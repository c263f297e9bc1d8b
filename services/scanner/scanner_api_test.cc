#include "services/scanner/scanner_api.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"
#include "services/scanner/feed_scheduler.h"

namespace portunus::scanner {
namespace {

const std::string kDigest = "sha256:" + std::string(64, 'a');

class ScannerApiTest : public ::testing::Test {
 protected:
  portunus::testing::FakeClock clock_;
  FakeScanStore scans_{clock_};
  FakeAdvisoryStore advisories_;
  VulnDbImporter importer_{{"/tmp/portunus-api-test"}, advisories_, nullptr, clock_};
  ScannerApi api_{{"v1"}, scans_, advisories_, &importer_};
};

TEST(RepositoryNameTest, FollowsTheRegistryGrammar) {
  for (const char* ok : {"app", "team/app", "a/b/c", "my-app", "my--app", "my_app", "my__app", "my.app", "a0/1b"}) {
    EXPECT_TRUE(IsValidRepository(ok)) << ok;
  }
  for (const char* bad : {"", "App", "team/", "/app", "a//b", "-app", "app-", "my___app", "my..app", "a b",
                          "team/app:tag", "localhost:5000/app"}) {
    EXPECT_FALSE(IsValidRepository(bad)) << bad;
  }
  EXPECT_FALSE(IsValidRepository(std::string(256, 'a')));
}

TEST_F(ScannerApiTest, EnqueueValidatesAndSkipsCurrentResults) {
  absl::Status s = api_.Enqueue("Team/App", kDigest, false).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(s), "repository");
  s = api_.Enqueue("team/app", "sha256:xyz", false).status();
  EXPECT_EQ(ErrorField(s), "digest");

  absl::StatusOr<EnqueueOutcome> out = api_.Enqueue("team/app", kDigest, false);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->queued);
  EXPECT_EQ(out->status, ScanStatus::kWorking);

  ScanSummary done;
  done.digest = kDigest;
  done.status = ScanStatus::kDone;
  done.scanner_version = "v1";
  ASSERT_TRUE(scans_.PutResult(done, {}).ok());
  out = api_.Enqueue("team/other", kDigest, false);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->queued);
  EXPECT_EQ(out->status, ScanStatus::kDone);
  out = api_.Enqueue("team/other", kDigest, true);  // a forced rescan is queued
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->queued);
}

TEST_F(ScannerApiTest, ResultsCarryVulnerabilityDetails) {
  ScanSummary done;
  done.digest = kDigest;
  done.status = ScanStatus::kDone;
  ASSERT_TRUE(scans_.PutResult(done, {{"CVE-1", Severity::kHigh, "bash", "5.2", "", "bash", PackageFormat::kDpkg, "amd64"}}).ok());
  FeedData data;
  Vulnerability v;
  v.id = "CVE-1";
  v.description = "bad";
  v.links = {"https://x"};
  data.vulnerabilities = {v};
  FeedSource src;
  src.name = "osv";
  ASSERT_TRUE(advisories_.UpsertRecords(src, data).ok());
  absl::StatusOr<DetailedResult> r = api_.GetResult({kDigest}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->details.at("CVE-1").description, "bad");
  EXPECT_EQ(api_.GetResult({"sha256:" + std::string(64, 'b')}, false).status().code(), absl::StatusCode::kNotFound);
  ResultPageRequest bad{kDigest};
  bad.limit = 5000;
  EXPECT_EQ(ErrorField(api_.GetResult(bad, false).status()), "per_page");
}

TEST_F(ScannerApiTest, SummariesAreBounded) {
  std::vector<std::string> many(kMaxSummaryDigests + 1, kDigest);
  EXPECT_EQ(ErrorField(api_.Summaries(many).status()), "digests");
  EXPECT_EQ(ErrorField(api_.Summaries({"nope"}).status()), "digests");
  absl::StatusOr<std::vector<ScanSummary>> s = api_.Summaries({kDigest});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].status, ScanStatus::kNone);
}

TEST_F(ScannerApiTest, ImportsQueueARematchOnlyWhenSomethingChanged) {
  const std::string path = "/tmp/portunus-api-test-feed.json";
  std::ofstream(path) << R"({"id": "DSA-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]})";
  absl::StatusOr<ImportOutcome> out = api_.Import({path});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->rematch_queued);
  EXPECT_EQ(scans_.PendingJobs().value(), 1);
  out = api_.Import({path});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->rematch_queued);
  EXPECT_EQ(ErrorField(api_.Import({""}).status()), "location");

  // The scheduler imports the configured feeds and reports failures without stopping.
  FeedScheduler scheduler({{path, "/no/such/feed.json"}, absl::Hours(1)}, api_);
  EXPECT_EQ(scheduler.RunOnce(), 1);
  std::remove(path.c_str());
  absl::StatusOr<VulnDbStatus> st = api_.Status();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->sources.size(), 1u);
  EXPECT_EQ(st->generation, 1);
}

}  // namespace
}  // namespace portunus::scanner
