#include "services/scanner/vulndb_importer.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/testing/http_test_server.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing::HttpTestServer;

std::string Osv(const std::string& id, const std::string& eco, const std::string& pkg,
                const std::string& fixed) {
  return absl::StrCat(R"({"id": ")", id, R"(", "modified": "2024-01-01T00:00:00Z", "affected": [)",
                      R"({"package": {"ecosystem": ")", eco, R"(", "name": ")", pkg, R"("},)",
                      R"("ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": ")",
                      fixed, R"("}]}]}]})");
}

constexpr char kSecdb[] = R"({"distroversion": "v3.18", "reponame": "main", "packages": [
  {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r0": ["CVE-2023-5363"]}}}]})";
constexpr char kTracker[] = R"({"openssl": {"CVE-2023-5678": {"description": "DH keys",
  "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u2", "urgency": "low"}}}}})";

class VulnDbImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portunus-vulndb-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string Write(const std::string& rel, const std::string& content) {
    const std::string path = dir_ + "/" + rel;
    std::system(("mkdir -p $(dirname " + path + ")").c_str());
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string Zip(const std::string& rel, const std::vector<std::pair<std::string, std::string>>& files) {
    const std::string path = dir_ + "/" + rel;
    struct archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, path.c_str());
    for (const auto& [name, content] : files) {
      struct archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name.c_str());
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_perm(e, 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
      archive_write_header(a, e);
      archive_write_data(a, content.data(), content.size());
      archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
  }
  VulnDbImporter Importer(FeedFetcher* fetcher = nullptr) {
    return VulnDbImporter({dir_ + "/tmp"}, store_, fetcher, clock_);
  }

  std::string dir_;
  FakeAdvisoryStore store_;
  portunus::testing::FakeClock clock_;
};

TEST_F(VulnDbImporterTest, ImportsASingleOsvFileAndSkipsItWhenUnchanged) {
  const std::string path = Write("dsa.json", Osv("DSA-1-1", "Debian:12", "openssl", "3.0.11-1"));
  VulnDbImporter importer = Importer();
  absl::StatusOr<ImportSummary> s = importer.Import({path});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->sources, ElementsAre("osv"));
  EXPECT_EQ(s->documents, 1);
  EXPECT_EQ(s->vulnerabilities, 1);
  EXPECT_EQ(s->affected, 1);
  EXPECT_FALSE(s->unchanged);
  EXPECT_EQ(s->generation, 1);

  s = importer.Import({path});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->unchanged);
  EXPECT_EQ(s->generation, 1);
  ImportRequest force{path};
  force.force = true;
  s = importer.Import(force);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->generation, 2);
  EXPECT_EQ(store_.affected_count(), 1u);  // upserted, not duplicated
}

TEST_F(VulnDbImporterTest, ImportsDirectoriesOfMixedFeeds) {
  Write("feeds/osv/a.json", Osv("DSA-1-1", "Debian:12", "openssl", "3.0.11-1"));
  Write("feeds/osv/b.json", "[" + Osv("ALPINE-1", "Alpine:v3.18", "musl", "1.2.4-r1") + "," +
                                Osv("GHSA-x-y-z", "npm", "left-pad", "1.3.0") + "]");
  Write("feeds/secdb/v3.18/main.json", kSecdb);
  Write("feeds/tracker.json", kTracker);
  Write("feeds/README.md", "ignored");
  std::vector<ImportProgress> progress;
  absl::StatusOr<ImportSummary> s =
      Importer().Import({dir_ + "/feeds"}, [&](const ImportProgress& p) { progress.push_back(p); });
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->sources, UnorderedElementsAre("osv", "alpine-secdb:v3.18/main", "debian-security-tracker"));
  EXPECT_EQ(s->documents, 4);
  EXPECT_EQ(s->affected, 5);
  EXPECT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().phase, "storing");

  absl::StatusOr<AdvisoryIndex> index = store_.LoadIndex({"debian:12"});
  ASSERT_TRUE(index.ok());
  ASSERT_NE(index->Find("debian:12", "openssl"), nullptr);
  EXPECT_EQ(index->Find("debian:12", "openssl")->size(), 2u);  // DSA from OSV + CVE from the tracker
  EXPECT_EQ(index->Find("alpine:3.18", "openssl"), nullptr);   // not loaded
}

TEST_F(VulnDbImporterTest, ImportsZipArchivesAndWithdrawals) {
  const std::string zip = Zip("all.zip", {{"DSA-1-1.json", Osv("DSA-1-1", "Debian:12", "a", "1")},
                                          {"DSA-2-1.json", Osv("DSA-2-1", "Debian:12", "b", "2")},
                                          {"notes.txt", "ignored"}});
  VulnDbImporter importer = Importer();
  absl::StatusOr<ImportSummary> s = importer.Import({zip});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->documents, 2);
  EXPECT_EQ(store_.affected_count(), 2u);

  const std::string withdrawn =
      Write("w.json", R"({"id": "DSA-2-1", "withdrawn": "2024-03-01T00:00:00Z"})");
  s = importer.Import({withdrawn});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->withdrawn, 1);
  EXPECT_EQ(store_.affected_count(), 1u);
}

TEST_F(VulnDbImporterTest, ReplacingASourceDropsWhatItNoLongerSays) {
  VulnDbImporter importer = Importer();
  ASSERT_TRUE(importer.Import({Write("t1.json", kTracker)}).ok());
  EXPECT_EQ(store_.affected_count(), 1u);
  ASSERT_TRUE(importer.Import({Write("t2.json", R"({"zlib": {}})"), FeedFormat::kDebianTracker}).ok());
  EXPECT_EQ(store_.affected_count(), 0u);
  absl::StatusOr<FeedSource> src = store_.GetSource("debian-security-tracker");
  ASSERT_TRUE(src.ok());
  EXPECT_EQ(src->affected, 0);
}

TEST_F(VulnDbImporterTest, GarbageFailsNamingTheFileAndIsRecorded) {
  const std::string bad = Write("bad.json", R"({"id": "X-1", "affected": [{"package": {}}]})");
  absl::StatusOr<ImportSummary> s = Importer().Import({bad, FeedFormat::kOsv});
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("bad.json: OSV record X-1"));
  absl::StatusOr<FeedSource> src = store_.GetSource("osv");
  ASSERT_TRUE(src.ok());
  EXPECT_THAT(src->last_error, HasSubstr("bad.json"));
  EXPECT_EQ(store_.affected_count(), 0u);

  EXPECT_EQ(Importer().Import({dir_ + "/missing.json"}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Importer().Import({Write("x.json", "not json")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Importer().Import({""}).status().code(), absl::StatusCode::kInvalidArgument);
  const std::string broken_zip = Write("broken.zip", std::string("PK\x03\x04", 4) + std::string(100, 'x'));
  EXPECT_EQ(Importer().Import({broken_zip}).status().code(), absl::StatusCode::kInvalidArgument);
  // Nothing was stored by any failed import.
  EXPECT_EQ(store_.Generation().value(), 0);
}

TEST_F(VulnDbImporterTest, DownloadsUrlsWithEtags) {
  int hits = 0;
  HttpTestServer server([&](const std::string& req) {
    ++hits;
    HttpTestServer::Response r;
    if (req.find("GET /missing") == 0) {
      r.status = 404;
      return r;
    }
    if (req.find("If-None-Match: \"v1\"") != std::string::npos) {
      r.status = 304;
      return r;
    }
    r.headers.push_back({"ETag", "\"v1\""});
    r.body = kSecdb;
    return r;
  });
  CurlFeedFetcher fetcher({});
  VulnDbImporter importer = Importer(&fetcher);
  absl::StatusOr<ImportSummary> s = importer.Import({server.Url("/v3.18/main.json")});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->sources, ElementsAre("alpine-secdb:v3.18/main"));
  EXPECT_FALSE(s->unchanged);
  absl::StatusOr<FeedSource> src = store_.GetSource("alpine-secdb:v3.18/main");
  ASSERT_TRUE(src.ok());
  EXPECT_EQ(src->etag, "\"v1\"");
  EXPECT_EQ(src->location, server.Url("/v3.18/main.json"));

  s = importer.Import({server.Url("/v3.18/main.json")});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->unchanged);
  EXPECT_THAT(s->sources, ElementsAre("alpine-secdb:v3.18/main"));

  EXPECT_EQ(importer.Import({server.Url("/missing")}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Importer().Import({server.Url("/x")}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // no fetcher configured
  // The temporary download directory is left empty.
  EXPECT_EQ(std::system(("test -z \"$(ls -A " + dir_ + "/tmp)\"").c_str()), 0);
}

TEST(CurlFeedFetcherTest, LimitsAndErrors) {
  HttpTestServer server([](const std::string& req) {
    HttpTestServer::Response r;
    if (req.find("GET /big") == 0) r.body = std::string(100000, 'x');
    if (req.find("GET /fail") == 0) r.status = 503;
    if (req.find("GET /teapot") == 0) r.status = 418;
    return r;
  });
  char tmpl[] = "/tmp/portunus-fetch-test.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  CurlFeedFetcher::Options o;
  o.max_size = 1000;
  CurlFeedFetcher fetcher(o);
  EXPECT_EQ(fetcher.Download(server.Url("/big"), dir + "/a", "", nullptr).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(fetcher.Download(server.Url("/fail"), dir + "/b", "", nullptr).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(fetcher.Download(server.Url("/teapot"), dir + "/c", "", nullptr).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fetcher.Download("file:///etc/passwd", dir + "/d", "", nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(fetcher.Download("http://127.0.0.1:1/x", dir + "/e", "", nullptr).status().code(),
            absl::StatusCode::kUnavailable);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace portunus::scanner
