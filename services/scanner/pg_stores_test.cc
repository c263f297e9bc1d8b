// Adapter tests: PgAdvisoryStore and PgScanStore against a real PostgreSQL (the ctest `pg`
// fixture), with the scanner's own migrations applied.
#include <atomic>
#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/test_database.h"
#include "services/scanner/image_scanner.h"
#include "services/scanner/migrations.h"
#include "services/scanner/oci_layout_source.h"
#include "services/scanner/pg_advisory_store.h"
#include "services/scanner/pg_scan_store.h"
#include "services/scanner/testing/oci_layout_builder.h"
#include "services/scanner/testing/tar_builder.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using Kind = RangeEvent::Kind;

#define SCANNER_DB(pool)                                                    \
  PORTUNUS_TEST_DATABASE(db);                                               \
  PgPool pool({db->dsn(), 8});                                              \
  {                                                                         \
    absl::StatusOr<int> applied = Migrator(pool, "scanner", Migrations()).Apply(); \
    ASSERT_TRUE(applied.ok()) << applied.status();                          \
  }

Affected Adv(std::string id, std::string eco, std::string pkg, std::string fixed, std::string source) {
  Affected a;
  a.vuln_id = std::move(id);
  a.source = std::move(source);
  a.ecosystem = std::move(eco);
  a.package = std::move(pkg);
  a.scheme = VersionScheme::kDpkg;
  a.ranges = {{{Kind::kIntroduced, "0"}, {Kind::kFixed, std::move(fixed)}}};
  a.versions = {"1.0-1", "we\"ird\\"};
  a.severity = Severity::kHigh;
  return a;
}

FeedSource Source(std::string name) {
  FeedSource s;
  s.name = std::move(name);
  s.format = FeedFormat::kDebianTracker;
  s.location = "/feeds/x.json";
  s.digest = "abc";
  s.etag = "\"e1\"";
  s.updated = absl::FromUnixSeconds(1700000000);
  s.last_attempt = s.updated;
  return s;
}

TEST(PgAdvisoryStoreTest, ReplacesSourcesAndLoadsIndexes) {
  SCANNER_DB(pool);
  PgAdvisoryStore store(pool);
  EXPECT_EQ(store.Generation().value(), 0);

  FeedData data;
  Vulnerability v;
  v.id = "CVE-2023-1";
  v.description = "first";
  v.severity = Severity::kMedium;
  v.links = {"https://x/1"};
  v.aliases = {"DSA-1"};
  v.published = absl::FromUnixMicros(1690000000123456);
  data.vulnerabilities = {v, v};  // duplicates are merged
  data.affected = {Adv("CVE-2023-1", "debian:12", "openssl", "3.0.11-1", "tracker"),
                   Adv("CVE-2023-1", "debian:11", "openssl", "1.1.1w-1", "tracker")};
  absl::StatusOr<int64_t> gen = store.ReplaceSource(Source("tracker"), data);
  ASSERT_TRUE(gen.ok()) << gen.status();
  EXPECT_EQ(*gen, 1);

  absl::StatusOr<AdvisoryIndex> index = store.LoadIndex({"debian:12"});
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->affected_count(), 1u);
  ASSERT_NE(index->Find("debian:12", "openssl"), nullptr);
  EXPECT_EQ((*index->Find("debian:12", "openssl"))[0], data.affected[0]);
  EXPECT_EQ(index->SeverityOf("CVE-2023-1"), Severity::kMedium);
  EXPECT_THAT(*index->AliasesOf("CVE-2023-1"), ElementsAre("DSA-1"));
  EXPECT_EQ(store.LoadIndex({}).value().affected_count(), 2u);

  // Another source with an empty description does not blank it; a replace drops old entries.
  FeedData other;
  Vulnerability bare;
  bare.id = "CVE-2023-1";
  other.vulnerabilities = {bare};
  other.affected = {Adv("CVE-2023-1", "alpine:3.18", "openssl", "3.1.4-r0", "secdb")};
  ASSERT_TRUE(store.ReplaceSource(Source("secdb"), other).ok());
  FeedData smaller;
  smaller.vulnerabilities = {v};
  smaller.affected = {data.affected[0]};
  ASSERT_EQ(store.ReplaceSource(Source("tracker"), smaller).value(), 3);
  EXPECT_EQ(store.LoadIndex({}).value().affected_count(), 2u);

  absl::StatusOr<std::map<std::string, Vulnerability>> vulns = store.GetVulnerabilities({"CVE-2023-1", "CVE-0"});
  ASSERT_TRUE(vulns.ok()) << vulns.status();
  ASSERT_EQ(vulns->size(), 1u);
  EXPECT_EQ(vulns->at("CVE-2023-1"), v);

  absl::StatusOr<FeedSource> src = store.GetSource("tracker");
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->affected, 1);
  EXPECT_EQ(src->vulnerabilities, 1);
  EXPECT_EQ(src->etag, "\"e1\"");
  EXPECT_EQ(src->updated, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(store.GetSource("nope").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store.RecordFailure("tracker", "/feeds/x.json", "boom", absl::FromUnixSeconds(1700000100)).ok());
  EXPECT_EQ(store.GetSource("tracker")->last_error, "boom");
  EXPECT_EQ(store.GetSource("tracker")->affected, 1);  // the data stays
  EXPECT_EQ(store.ListSources()->size(), 2u);
}

TEST(PgAdvisoryStoreTest, UpsertsOsvRecordsAndWithdrawals) {
  SCANNER_DB(pool);
  PgAdvisoryStore store(pool);
  FeedData a;
  a.vulnerabilities = {Vulnerability{"DSA-1"}, Vulnerability{"DSA-2"}};
  a.vulnerabilities[0].id = "DSA-1";
  a.vulnerabilities[1].id = "DSA-2";
  a.affected = {Adv("DSA-1", "debian:12", "a", "1", "osv"), Adv("DSA-2", "debian:12", "b", "2", "osv")};
  ASSERT_TRUE(store.UpsertRecords(Source("osv"), a).ok());
  FeedData b;
  b.vulnerabilities = {a.vulnerabilities[0]};
  b.affected = {Adv("DSA-1", "debian:12", "a", "1.1", "osv")};
  b.withdrawn = {"DSA-2"};
  ASSERT_TRUE(store.UpsertRecords(Source("osv"), b).ok());
  absl::StatusOr<AdvisoryIndex> index = store.LoadIndex({});
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->affected_count(), 1u);
  EXPECT_EQ((*index->Find("debian:12", "a"))[0].ranges[0][1].version, "1.1");
}

TEST(PgScanStoreTest, QueueIsDedupedLeasedAndSafeForManyWorkers) {
  SCANNER_DB(pool);
  PgScanStore store(pool);
  const std::string d1 = "sha256:" + std::string(64, '1');
  absl::StatusOr<int64_t> j1 = store.EnqueueScan("ns/app", d1, false, absl::InfinitePast());
  ASSERT_TRUE(j1.ok()) << j1.status();
  EXPECT_EQ(store.EnqueueScan("ns/other", d1, true, absl::InfinitePast()).value(), *j1);
  EXPECT_EQ(store.EnqueueScan("", d1, false, absl::InfinitePast()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store.GetSummaries({d1}).value()[0].status, ScanStatus::kWorking);
  const int64_t r1 = store.EnqueueRematch().value();
  EXPECT_EQ(store.EnqueueRematch().value(), r1);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(store.EnqueueScan("ns/app", absl::StrCat("sha256:", std::string(63, 'a'), i % 10), false,
                                  absl::InfinitePast()).ok());
  }
  EXPECT_EQ(store.PendingJobs().value(), 12);

  // Four workers drain the queue concurrently: every job is claimed exactly once.
  std::mutex mu;
  std::vector<int64_t> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (;;) {
        absl::StatusOr<std::optional<ScanJob>> job = store.ClaimJob(absl::StrCat("w", w), absl::Minutes(5));
        if (!job.ok() || !job->has_value()) return;
        std::lock_guard<std::mutex> l(mu);
        claimed.push_back((*job)->id);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), 12u);
  EXPECT_EQ(std::set<int64_t>(claimed.begin(), claimed.end()).size(), 12u);
  EXPECT_FALSE(store.ClaimJob("w9", absl::Minutes(5)).value().has_value());

  // Finish, fail for good, fail with a retry later.
  ASSERT_TRUE(store.FinishJob(claimed[0]).ok());
  ASSERT_TRUE(store.FailJob(claimed[1], "bad layer", std::nullopt).ok());
  ASSERT_TRUE(store.FailJob(claimed[2], "registry down", absl::Now() + absl::Hours(1)).ok());
  EXPECT_EQ(store.FinishJob(999999).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.PendingJobs().value(), 10);
}

TEST(PgScanStoreTest, ExpiredLeasesAreClaimedAgain) {
  SCANNER_DB(pool);
  PgScanStore store(pool);
  const std::string d = "sha256:" + std::string(64, '2');
  ASSERT_TRUE(store.EnqueueScan("ns/app", d, false, absl::InfinitePast()).ok());
  absl::StatusOr<std::optional<ScanJob>> first = store.ClaimJob("crashing", absl::ZeroDuration());
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->attempts, 1);
  absl::StatusOr<std::optional<ScanJob>> again = store.ClaimJob("other", absl::Minutes(5));
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->id, (*first)->id);
  EXPECT_EQ((*again)->attempts, 2);
  EXPECT_EQ((*again)->digest, d);
  EXPECT_EQ((*again)->repository, "ns/app");
}

TEST(PgScanStoreTest, LayersManifestsAndResultsRoundTrip) {
  SCANNER_DB(pool);
  PgScanStore store(pool);
  const std::string layer = "sha256:" + std::string(64, 'c');
  LayerContent c;
  c.compressed_bytes = 10;
  c.uncompressed_bytes = 20;
  c.entry_count = 3;
  c.entries = {{LayerEntry::Type::kFile, "var/lib/rpm/Packages", std::string("\0\x01\xff binary", 10)},
               {LayerEntry::Type::kWhiteout, "lib/apk/db/installed", ""},
               {LayerEntry::Type::kSymlink, "etc/os-release", "../usr/lib/os-release"}};
  EXPECT_EQ(store.GetLayer(layer).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store.PutLayer(layer, c).ok());
  ASSERT_TRUE(store.PutLayer(layer, c).ok());  // a second writer is a no-op
  absl::StatusOr<LayerContent> got = store.GetLayer(layer);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->entries, c.entries);
  EXPECT_EQ(got->entry_count, 3);

  ManifestRecord m;
  m.digest = "sha256:" + std::string(64, 'd');
  m.media_type = "application/vnd.oci.image.manifest.v1+json";
  m.repository = "ns/app";
  m.layers = {layer};
  m.os.id = "debian";
  m.os.version_id = "12";
  m.os.id_like = {"x"};
  m.ecosystem = "debian:12";
  m.packages = {{PackageFormat::kDpkg, "libssl3", "3.0.11-1~deb12u1", "amd64", "openssl", "3.0.11-1~deb12u1"}};
  m.databases = {"var/lib/dpkg/status"};
  m.inventoried_at = absl::FromUnixSeconds(1700000000);
  ASSERT_TRUE(store.PutManifest(m).ok());
  ManifestRecord idx;
  idx.digest = "sha256:" + std::string(64, 'e');
  idx.children = {m.digest};
  ASSERT_TRUE(store.PutManifest(idx).ok());
  absl::StatusOr<ManifestRecord> gm = store.GetManifest(m.digest);
  ASSERT_TRUE(gm.ok()) << gm.status();
  EXPECT_EQ(gm->packages, m.packages);
  EXPECT_EQ(gm->os, m.os);
  EXPECT_EQ(gm->inventoried_at, m.inventoried_at);
  EXPECT_THAT(store.ListImageManifests("", 10).value(), ::testing::SizeIs(1));
  EXPECT_THAT(store.IndexesContaining(m.digest).value(), ElementsAre(idx.digest));

  ScanSummary s;
  s.digest = m.digest;
  s.status = ScanStatus::kDone;
  s.counts = {0, 0, 1, 0, 2, 0};
  s.package_count = 1;
  s.ecosystem = "debian:12";
  s.os_name = "Debian";
  s.scanner_version = "v1";
  s.feed_generation = 7;
  s.feed_versions = "osv@2026-01-01T00:00:00Z";
  s.scanned_at = absl::FromUnixSeconds(1700000000);
  s.matched_at = absl::FromUnixSeconds(1700000001);
  std::vector<Finding> findings = {
      {"CVE-3", Severity::kHigh, "libssl3", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "openssl", PackageFormat::kDpkg, "amd64"},
      {"CVE-4", Severity::kHigh, "libssl3", "3.0.11-1~deb12u1", "", "openssl", PackageFormat::kDpkg, "amd64"},
      {"CVE-1", Severity::kLow, "libssl3", "3.0.11-1~deb12u1", "", "openssl", PackageFormat::kDpkg, "amd64"}};
  ASSERT_TRUE(store.PutResult(s, findings).ok());
  absl::StatusOr<ResultPage> page = store.GetResults({m.digest, Severity::kUnknown, {}, 1, 1});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->total, 3);
  EXPECT_THAT(page->findings, ElementsAre(findings[1]));
  EXPECT_EQ(page->summary.counts, s.counts);
  EXPECT_EQ(page->summary.scanned_at, s.scanned_at);
  EXPECT_EQ(page->summary.feed_versions, s.feed_versions);
  page = store.GetResults({m.digest, Severity::kMedium, {}, 0, 100});
  EXPECT_EQ(page->total, 2);
  page = store.GetResults({m.digest, Severity::kUnknown, {Severity::kLow}, 0, 100});
  EXPECT_THAT(page->findings, ElementsAre(findings[2]));
  EXPECT_THAT(store.GetFindings(m.digest).value(), ElementsAre(findings[0], findings[1], findings[2]));
  EXPECT_EQ(store.GetResults({"sha256:nope"}).status().code(), absl::StatusCode::kNotFound);

  std::vector<ScanSummary> sums = store.GetSummaries({"sha256:unknown", m.digest}).value();
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_EQ(sums[0].status, ScanStatus::kNone);
  EXPECT_EQ(sums[1].status, ScanStatus::kDone);

  ASSERT_TRUE(store.PutFailure(idx.digest, "layer x: decompression bomb", absl::FromUnixSeconds(1)).ok());
  sums = store.GetSummaries({idx.digest}).value();
  EXPECT_EQ(sums[0].status, ScanStatus::kFailed);
  EXPECT_EQ(sums[0].error, "layer x: decompression bomb");
  EXPECT_EQ(store.GetFindings(idx.digest).status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(store.RecordRematchChanges(7, {{m.digest, {"CVE-9"}}}).ok());
  EXPECT_THAT(store.ListRematchChanges(7).value(), ::testing::SizeIs(1));
  EXPECT_EQ(store.ListRematchChanges(7).value()[0].gained, std::vector<std::string>{"CVE-9"});
}

TEST(PgScanStoreTest, RescanAllQueuesEveryManifestEverAskedFor) {
  SCANNER_DB(pool);
  PgScanStore store(pool);
  for (char c : {'a', 'b', 'c'}) {
    const int64_t id = store.EnqueueScan("ns/app", "sha256:" + std::string(64, c), false, absl::InfinitePast()).value();
    ASSERT_TRUE(store.ClaimJob("w", absl::Minutes(1)).ok());
    ASSERT_TRUE(store.FinishJob(id).ok());
  }
  ASSERT_TRUE(store.EnqueueScan("ns/app", "sha256:" + std::string(64, 'a'), false, absl::InfinitePast()).ok());
  EXPECT_EQ(store.EnqueueRescanAll().value(), 2);  // 'a' is already pending
  EXPECT_EQ(store.PendingJobs().value(), 3);
}

TEST(PgScanStoreTest, ImageScannerWorksOnTheRealStores) {
  SCANNER_DB(pool);
  PgScanStore store(pool);
  PgAdvisoryStore advisories(pool);
  FeedData data;
  ASSERT_TRUE(ParseOsv(R"({"id": "CVE-2023-5678", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}]})",
                       "osv", &data).ok());
  FeedSource src = Source("osv");
  ASSERT_TRUE(advisories.UpsertRecords(src, data).ok());

  char tmpl[] = "/tmp/portunus-pgscan-test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  testing::OciLayoutBuilder layout(dir + "/layout");
  const std::string digest = layout.AddImage(
      {{testing::TarBuilder()
            .File("etc/os-release", "ID=debian\nVERSION_ID=12\n")
            .File("var/lib/dpkg/status",
                  "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\n")
            .Build(testing::Compression::kGzip),
        "application/vnd.oci.image.layer.v1.tar+gzip"}});
  OciLayoutSource source(dir + "/layout");
  portunus::testing::FakeClock clock;
  AdvisoryCache cache(advisories);
  ImageScanner scanner({}, source, source, store, cache, nullptr, clock);
  ASSERT_TRUE(scanner.Scan("ns/app", digest).ok());
  absl::StatusOr<ResultPage> page = store.GetResults({digest});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->findings.size(), 1u);
  EXPECT_EQ(page->findings[0].vuln_id, "CVE-2023-5678");

  // A new advisory: re-matched from the stored inventory.
  FeedData more;
  ASSERT_TRUE(ParseOsv(R"({"id": "CVE-2024-1", "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]})",
                       "osv", &more).ok());
  ASSERT_TRUE(advisories.UpsertRecords(src, more).ok());
  std::system(("rm -rf " + dir).c_str());  // nothing may be fetched any more
  absl::StatusOr<std::vector<RematchChange>> changes = scanner.RematchAll();
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_THAT((*changes)[0].gained, ElementsAre("CVE-2024-1"));
  EXPECT_EQ(store.GetResults({digest}).value().total, 2);
}

}  // namespace
}  // namespace portunus::scanner
