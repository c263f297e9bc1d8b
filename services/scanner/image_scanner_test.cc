#include "services/scanner/image_scanner.h"

#include <atomic>
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

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing::Compression;
using testing::TarBuilder;
using Kind = RangeEvent::Kind;

constexpr char kGzipLayer[] = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr char kZstdLayer[] = "application/vnd.oci.image.layer.v1.tar+zstd";

// Counts blob fetches, to prove layers are read once and re-matching fetches nothing.
class CountingSource : public BlobSource, public ManifestSource {
 public:
  explicit CountingSource(OciLayoutSource& inner) : inner_(inner) {}
  absl::Status StreamBlob(const std::string& r, const std::string& d, const BlobSink& s) override {
    ++blobs;
    return inner_.StreamBlob(r, d, s);
  }
  absl::StatusOr<FetchedManifest> FetchManifest(const std::string& r, const std::string& ref) override {
    ++manifests;
    return inner_.FetchManifest(r, ref);
  }
  std::atomic<int> blobs{0}, manifests{0};

 private:
  OciLayoutSource& inner_;
};

std::string DpkgStatus(const std::vector<std::tuple<std::string, std::string, std::string>>& pkgs) {
  std::string s;
  for (const auto& [name, version, source] : pkgs) {
    s += "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " + version + "\n";
    if (!source.empty()) s += "Source: " + source + "\n";
    s += "\n";
  }
  return s;
}

std::string OsvDebian(const std::string& id, const std::string& pkg, const std::string& fixed) {
  std::string events = R"([{"introduced": "0"})" + (fixed.empty() ? "" : R"(, {"fixed": ")" + fixed + R"("})") + "]";
  return R"({"id": ")" + id + R"(", "affected": [{"package": {"ecosystem": "Debian:12", "name": ")" + pkg +
         R"("}, "ranges": [{"type": "ECOSYSTEM", "events": )" + events + R"(}], "ecosystem_specific": {"urgency": "high"}}]})";
}

class ImageScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/portunus-scanner-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    layout_ = std::make_unique<testing::OciLayoutBuilder>(dir_ + "/layout");
    oci_ = std::make_unique<OciLayoutSource>(dir_ + "/layout");
    source_ = std::make_unique<CountingSource>(*oci_);
    Feed(OsvDebian("CVE-2023-5678", "openssl", "3.0.11-1~deb12u2"));
    Feed(OsvDebian("CVE-2023-0001", "bash", ""));
    Feed(OsvDebian("CVE-2022-0002", "zlib", "1:1.2.11.dfsg-4.1"));
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  void Feed(const std::string& osv) {
    FeedData data;
    ASSERT_TRUE(ParseOsv(osv, "osv", &data).ok());
    FeedSource src;
    src.name = "osv";
    src.updated = clock_.Now();
    ASSERT_TRUE(advisories_.UpsertRecords(src, data).ok());
  }
  ImageScanner Scanner(LayerLimits limits = {}) {
    ImageScanner::Options o;
    o.limits = limits;
    o.scanner_version = "test-1";
    return ImageScanner(o, *source_, *source_, store_, cache_, nullptr, clock_);
  }

  std::string BaseLayer() {
    return TarBuilder()
        .Symlink("etc/os-release", "../usr/lib/os-release")
        .File("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
        .File("var/lib/dpkg/status", DpkgStatus({{"libssl3", "3.0.11-1~deb12u1", "openssl"},
                                                 {"bash", "5.2.15-2+b2", "bash (5.2.15-2)"},
                                                 {"zlib1g", "1:1.2.13.dfsg-1", "zlib"}}))
        .File("bin/bash", std::string(5000, 'b'))
        .Build(Compression::kGzip);
  }

  std::string dir_;
  portunus::testing::FakeClock clock_;
  FakeAdvisoryStore advisories_;
  AdvisoryCache cache_{advisories_};
  FakeScanStore store_{clock_};
  std::unique_ptr<testing::OciLayoutBuilder> layout_;
  std::unique_ptr<OciLayoutSource> oci_;
  std::unique_ptr<CountingSource> source_;
};

TEST_F(ImageScannerTest, ScansADebianImageAndReportsExactlyItsVulnerabilities) {
  const std::string digest = layout_->AddImage({{BaseLayer(), kGzipLayer}}, "v1");
  ASSERT_TRUE(Scanner().Scan("ns/app", digest).ok());
  absl::StatusOr<ResultPage> page = store_.GetResults({digest});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->summary.status, ScanStatus::kDone);
  EXPECT_EQ(page->summary.ecosystem, "debian:12");
  EXPECT_EQ(page->summary.os_name, "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(page->summary.package_count, 3);
  EXPECT_EQ(page->summary.scanner_version, "test-1");
  EXPECT_EQ(page->summary.counts[static_cast<int>(Severity::kHigh)], 2);
  EXPECT_THAT(page->findings,
              ElementsAre(Finding{"CVE-2023-0001", Severity::kHigh, "bash", "5.2.15-2+b2", "", "bash",
                                  PackageFormat::kDpkg, "amd64"},
                          Finding{"CVE-2023-5678", Severity::kHigh, "libssl3", "3.0.11-1~deb12u1",
                                  "3.0.11-1~deb12u2", "openssl", PackageFormat::kDpkg, "amd64"}));
  absl::StatusOr<ManifestRecord> record = store_.GetManifest(digest);
  ASSERT_TRUE(record.ok());
  EXPECT_THAT(record->databases, ElementsAre("var/lib/dpkg/status"));
}

TEST_F(ImageScannerTest, SharedLayersAreReadOnceAndUpperLayersWin) {
  const std::string base = BaseLayer();
  const std::string upgrade =
      TarBuilder()
          .File("var/lib/dpkg/status", DpkgStatus({{"libssl3", "3.0.11-1~deb12u2", "openssl"},
                                                   {"bash", "5.2.15-2+b2", "bash (5.2.15-2)"},
                                                   {"zlib1g", "1:1.2.13.dfsg-1", "zlib"}}))
          .Build(Compression::kZstd);
  const std::string a = layout_->AddImage({{base, kGzipLayer}});
  const std::string b = layout_->AddImage({{base, kGzipLayer}, {upgrade, kZstdLayer}}, "", /*docker=*/true);
  ImageScanner scanner = Scanner();
  ASSERT_TRUE(scanner.Scan("ns/a", a).ok());
  ASSERT_TRUE(scanner.Scan("ns/b", b).ok());
  EXPECT_EQ(source_->blobs.load(), 2);  // the base layer once, the upgrade once
  EXPECT_EQ(store_.layer_puts(), 2);
  absl::StatusOr<ResultPage> page = store_.GetResults({b});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->findings.size(), 1u);  // libssl3 is fixed in the upper layer
  EXPECT_EQ(page->findings[0].vuln_id, "CVE-2023-0001");
}

TEST_F(ImageScannerTest, AWhiteoutRemovesAPackagesFindings) {
  const std::string distroless =
      TarBuilder()
          .File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
          .File("var/lib/dpkg/status.d/bash", "Package: bash\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n")
          .File("var/lib/dpkg/status.d/libssl3",
                "Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u1\nArchitecture: amd64\n")
          .Build(Compression::kGzip);
  const std::string remove_bash = TarBuilder().File("var/lib/dpkg/status.d/.wh.bash", "").Build(Compression::kGzip);
  const std::string digest = layout_->AddImage({{distroless, kGzipLayer}, {remove_bash, kGzipLayer}});
  ASSERT_TRUE(Scanner().Scan("ns/app", digest).ok());
  absl::StatusOr<ResultPage> page = store_.GetResults({digest});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->findings.size(), 1u);
  EXPECT_EQ(page->findings[0].package, "libssl3");
  EXPECT_EQ(page->summary.package_count, 1);
}

TEST_F(ImageScannerTest, IndexesScanEveryLinuxPlatformAndAggregate) {
  const std::string amd = layout_->AddImage({{BaseLayer(), kGzipLayer}});
  const std::string fixed_layer =
      TarBuilder()
          .File("etc/os-release", "ID=debian\nVERSION_ID=12\n")
          .File("var/lib/dpkg/status", DpkgStatus({{"libssl3", "3.0.11-1~deb12u1", "openssl"}}))
          .Build(Compression::kGzip);
  const std::string arm = layout_->AddImage({{fixed_layer, kGzipLayer}});
  const std::string win = layout_->AddImage({{fixed_layer, kGzipLayer}});
  const std::string index = layout_->AddIndex({{amd, "linux/amd64"}, {arm, "linux/arm64"}, {win, "windows/amd64"}});
  ASSERT_TRUE(Scanner().Scan("ns/multi", index).ok());
  absl::StatusOr<ManifestRecord> rec = store_.GetManifest(index);
  ASSERT_TRUE(rec.ok());
  EXPECT_THAT(rec->children, ElementsAre(amd, arm));
  absl::StatusOr<ResultPage> page = store_.GetResults({index});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->summary.status, ScanStatus::kDone);
  // libssl3's CVE appears in both platforms with the same version: reported once.
  EXPECT_EQ(page->findings.size(), 2u);
  EXPECT_EQ(page->summary.package_count, 3);
  EXPECT_EQ(store_.GetManifest(arm)->platform, "linux/arm64");
}

TEST_F(ImageScannerTest, HostileOrMismatchedInputFailsWithAReason) {
  LayerLimits limits;
  limits.max_entries = 3;
  const std::string digest = layout_->AddImage({{BaseLayer(), kGzipLayer}});
  absl::Status s = Scanner(limits).Scan("ns/app", digest);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_entries"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("layer sha256:"));

  const std::string garbage = TarBuilder()
                                  .File("etc/os-release", "ID=alpine\n")
                                  .File("lib/apk/db/installed", "this is not an apk database\n")
                                  .Build(Compression::kGzip);
  s = Scanner().Scan("ns/app", layout_->AddImage({{garbage, kGzipLayer}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("lib/apk/db/installed"));

  // A manifest whose bytes do not hash to the digest asked for.
  std::system(("cp " + dir_ + "/layout/blobs/sha256/" + digest.substr(7) + " " + dir_ +
               "/layout/blobs/sha256/" + std::string(64, 'a')).c_str());
  s = Scanner().Scan("ns/app", "sha256:" + std::string(64, 'a'));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not match its digest"));

  EXPECT_EQ(Scanner().Scan("ns/app", "sha256:" + std::string(64, 'b')).code(), absl::StatusCode::kNotFound);
}

TEST_F(ImageScannerTest, AFeedUpdateRematchesStoredInventoriesWithoutFetching) {
  const std::string digest = layout_->AddImage({{BaseLayer(), kGzipLayer}});
  ImageScanner scanner = Scanner();
  ASSERT_TRUE(scanner.Scan("ns/app", digest).ok());
  const int blobs = source_->blobs.load();
  const int manifests = source_->manifests.load();

  Feed(OsvDebian("CVE-2024-9999", "zlib", "1:1.2.13.dfsg-2"));  // affects zlib1g now
  absl::StatusOr<std::vector<RematchChange>> changes = scanner.RematchAll();
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].digest, digest);
  EXPECT_THAT((*changes)[0].gained, ElementsAre("CVE-2024-9999"));
  EXPECT_EQ(source_->blobs.load(), blobs);
  EXPECT_EQ(source_->manifests.load(), manifests);
  absl::StatusOr<ResultPage> page = store_.GetResults({digest});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->findings.size(), 3u);
  EXPECT_EQ(page->summary.feed_generation, advisories_.Generation().value());
  absl::StatusOr<std::vector<RematchChange>> recorded =
      store_.ListRematchChanges(advisories_.Generation().value());
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(recorded->size(), 1u);

  // Nothing new: no changes.
  changes = scanner.RematchAll();
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
}

}  // namespace
}  // namespace portunus::scanner
