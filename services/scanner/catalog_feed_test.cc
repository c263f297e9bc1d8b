// The catalog -> scanner hook over fakes: new manifests are queued once, the cursor advances
// only past complete batches, outages and foreign advances are survived.
#include "services/scanner/catalog_feed.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_catalog_feed.h"
#include "services/scanner/fake_scan_store.h"

namespace portunus::scanner {
namespace {

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

class CatalogFeedTest : public ::testing::Test {
 protected:
  int64_t Cursor() { return *cursors_.GetCursor(CatalogFeedFollower::kFeedName); }
  ScanStatus Status(const std::string& digest) {
    absl::StatusOr<std::vector<ScanSummary>> s = scans_.GetSummaries({digest});
    EXPECT_TRUE(s.ok());
    return s.ok() ? (*s)[0].status : ScanStatus::kNone;
  }

  portunus::testing::FakeClock clock_;
  FakeScanStore scans_{clock_};
  FakeAdvisoryStore advisories_;
  ScannerApi api_{{"v1"}, scans_, advisories_, nullptr};
  FakeManifestFeed feed_;
  FakeFeedCursorStore cursors_;
};

TEST_F(CatalogFeedTest, QueuesEveryNewManifestOnceAndAdvances) {
  feed_.Add("team/app", Digest('a'));
  feed_.Add("team/app", Digest('b'));
  feed_.Add("other/x", Digest('c'));
  CatalogFeedFollower follower({absl::Seconds(1), 2, 100}, feed_, cursors_, api_);
  absl::StatusOr<CatalogFeedFollower::Pass> pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->seen, 3);
  EXPECT_EQ(pass->queued, 3);
  EXPECT_EQ(Cursor(), 3);
  EXPECT_EQ(Status(Digest('a')), ScanStatus::kWorking);
  EXPECT_EQ(Status(Digest('c')), ScanStatus::kWorking);

  // Nothing new: nothing queued, the cursor stays.
  pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->seen, 0);
  EXPECT_EQ(Cursor(), 3);

  // The same digest pushed to another repository is a new entry, scanned from that repository.
  feed_.Add("mirror/app", Digest('a'));
  pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->seen, 1);
  EXPECT_EQ(pass->queued, 1);
  EXPECT_EQ(Cursor(), 4);

  // Entries delivered twice (a replica died after queueing, before advancing) add no jobs: the
  // pending ones are found again.
  const int64_t pending = *scans_.PendingJobs();
  EXPECT_EQ(pending, 3);  // one pending job per digest: mirror/app shares team/app's
  FakeFeedCursorStore fresh;
  CatalogFeedFollower replay({absl::Seconds(1), 500, 100}, feed_, fresh, api_);
  pass = replay.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->seen, 4);
  EXPECT_EQ(*scans_.PendingJobs(), pending);
}

TEST_F(CatalogFeedTest, OutagesKeepTheCursorAndMalformedEntriesAreSkipped) {
  feed_.Add("team/app", Digest('a'));
  feed_.Add("Bad Name", Digest('b'));
  feed_.Add("team/app", "sha256:short");
  CatalogFeedFollower follower({absl::Seconds(1), 500, 100}, feed_, cursors_, api_);
  feed_.FailNextCall(absl::UnavailableError("catalog ListManifestsSince: connection refused"));
  absl::StatusOr<CatalogFeedFollower::Pass> pass = follower.RunOnce();
  EXPECT_EQ(pass.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Cursor(), 0);
  EXPECT_EQ(Status(Digest('a')), ScanStatus::kNone);

  pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->queued, 1);
  EXPECT_EQ(pass->skipped, 2);
  EXPECT_EQ(Cursor(), 3);  // skipped entries are not retried forever
}

TEST_F(CatalogFeedTest, ExpiredEntriesAreReportedAndAnotherReplicasAdvanceIsRespected) {
  for (char c : std::string("abcdef")) feed_.Add("team/app", Digest(c));
  feed_.ExpireBefore(4);  // 1..3 are gone before the scanner read them
  // What the catalog still holds under tags: b (its entry expired), e (its entry is still in
  // the feed), 9 (pushed before the feed existed), and a malformed name.
  feed_.SetTagged({{0, "team/app", Digest('b')}, {0, "team/app", Digest('e')}, {0, "old/x", Digest('9')},
                   {0, "Bad Name", Digest('y')}});
  CatalogFeedFollower follower({absl::Seconds(1), 500, 100}, feed_, cursors_, api_);

  // The catch-up listing fails: nothing moves, the next poll tries again.
  feed_.FailTagged(absl::UnavailableError("catalog down"));
  absl::StatusOr<CatalogFeedFollower::Pass> pass = follower.RunOnce();
  EXPECT_EQ(pass.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Cursor(), 0);
  EXPECT_EQ(Status(Digest('b')), ScanStatus::kNone);

  feed_.FailTagged(absl::OkStatus());
  pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_EQ(pass->missed, 3);
  EXPECT_EQ(pass->caught_up, 3);  // b, e, 9
  EXPECT_EQ(pass->skipped, 1);
  EXPECT_EQ(pass->queued, 3);     // d, e (already pending: still counted as queued), f
  EXPECT_EQ(Cursor(), 6);
  EXPECT_EQ(Status(Digest('b')), ScanStatus::kWorking);
  EXPECT_EQ(Status(Digest('9')), ScanStatus::kWorking);
  EXPECT_EQ(Status(Digest('a')), ScanStatus::kNone);  // no longer tagged: not scanned
  EXPECT_EQ(feed_.tagged_calls(), 2);

  // Another replica got further meanwhile: this one does not move the cursor back.
  feed_.Add("team/app", Digest('g'));
  feed_.Add("team/app", Digest('h'));
  cursors_.SetForTest(CatalogFeedFollower::kFeedName, 8);
  pass = follower.RunOnce();
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(Cursor(), 8);
  EXPECT_EQ(feed_.tagged_calls(), 2);  // no gap any more: no second catch-up
}

TEST_F(CatalogFeedTest, BackgroundLoopPollsUntilStopped) {
  CatalogFeedFollower follower({absl::Milliseconds(5), 500, 100}, feed_, cursors_, api_);
  follower.Start();
  feed_.Add("team/app", Digest('a'));
  // Poll (bounded) until the loop picked it up.
  for (int i = 0; i < 2000 && Status(Digest('a')) != ScanStatus::kWorking; ++i) absl::SleepFor(absl::Milliseconds(5));
  follower.Stop();
  EXPECT_EQ(Status(Digest('a')), ScanStatus::kWorking);
  const int calls = feed_.calls();
  absl::SleepFor(absl::Milliseconds(30));
  EXPECT_EQ(feed_.calls(), calls);  // stopped means stopped
}

}  // namespace
}  // namespace portunus::scanner
