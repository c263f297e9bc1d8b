// RegistryImageSource against the real registry (docker-registry 2.8, no auth): manifests come
// back exactly as stored (verified digest, media type), layers stream in pieces and are checked
// against their digest, unknown content is kNotFound; and the whole scan pipeline (ImageScanner
// over the registry) reads a pushed image and an OCI index of two linux platforms.
#include "services/scanner/registry_image_source.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/registry_process.h"
#include "services/common/testing/registry_push.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"
#include "services/scanner/feed_parsers.h"
#include "services/scanner/image_scanner.h"
#include "services/scanner/testing/tar_builder.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Compression;
using testing::TarBuilder;

std::string Noise(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

std::string DebianLayer(const std::string& libssl_version) {
  return TarBuilder()
      .File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
      .File("var/lib/dpkg/status", "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n"
                                   "Source: openssl\nVersion: " + libssl_version + "\n\n")
      .File("usr/bin/openssl", Noise(300000))  // incompressible: more than one transfer chunk
      .Build(Compression::kGzip);
}

class RegistryImageSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<portunus::testing::RegistryProcess>> registry =
        portunus::testing::RegistryProcess::Start();
    if (!registry.ok() && registry.status().code() == absl::StatusCode::kFailedPrecondition) {
      GTEST_SKIP() << registry.status();
    }
    ASSERT_TRUE(registry.ok()) << registry.status();
    registry_ = std::move(*registry);
    HttpRegistryClient::Options o;
    o.url = registry_->url();
    o.timeout = absl::Seconds(10);
    absl::StatusOr<std::unique_ptr<HttpRegistryClient>> client = HttpRegistryClient::Create(o, nullptr, clock_);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    source_ = std::make_unique<RegistryImageSource>(*client_);

    FeedData data;
    ASSERT_TRUE(ParseOsv(R"({"id": "CVE-2023-5678", "affected": [{"package": {"ecosystem": "Debian:12",
        "name": "openssl"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},
        {"fixed": "3.0.11-1~deb12u2"}]}]}]})",
                         "osv", &data)
                    .ok());
    FeedSource src;
    src.name = "osv";
    src.updated = clock_.Now();
    ASSERT_TRUE(advisories_.UpsertRecords(src, data).ok());
  }

  ImageScanner Scanner() {
    ImageScanner::Options o;
    o.scanner_version = "test-1";
    return ImageScanner(o, *source_, *source_, store_, cache_, nullptr, clock_);
  }

  portunus::testing::FakeClock clock_;
  std::unique_ptr<portunus::testing::RegistryProcess> registry_;
  std::unique_ptr<HttpRegistryClient> client_;
  std::unique_ptr<RegistryImageSource> source_;
  FakeAdvisoryStore advisories_;
  AdvisoryCache cache_{advisories_};
  FakeScanStore store_{clock_};
};

TEST_F(RegistryImageSourceTest, FetchesManifestsAndStreamsLayersInPieces) {
  portunus::testing::FakeImage image;
  image.layers = {DebianLayer("3.0.11-1~deb12u1")};
  absl::StatusOr<portunus::testing::BuiltImage> pushed =
      portunus::testing::PushTestImage(registry_->url(), "", "team/app", "v1", image);
  ASSERT_TRUE(pushed.ok()) << pushed.status();

  absl::StatusOr<FetchedManifest> m = source_->FetchManifest("team/app", pushed->digest);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->digest, pushed->digest);
  EXPECT_EQ(m->media_type, pushed->media_type);
  EXPECT_EQ(m->body, pushed->manifest);

  std::string received;
  int chunks = 0;
  const std::string layer_digest = Sha256Digest(pushed->layers[0]);
  ASSERT_TRUE(source_
                  ->StreamBlob("team/app", layer_digest,
                               [&](absl::string_view chunk) {
                                 ++chunks;
                                 received.append(chunk.data(), chunk.size());
                                 return absl::OkStatus();
                               })
                  .ok());
  EXPECT_EQ(received, pushed->layers[0]);
  EXPECT_GT(chunks, 1);

  // The sink's error stops the transfer and comes back as is.
  absl::Status stopped = source_->StreamBlob("team/app", layer_digest, [](absl::string_view) {
    return absl::ResourceExhaustedError("layer too big");
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kResourceExhausted);

  EXPECT_EQ(source_->FetchManifest("team/app", "sha256:" + std::string(64, 'a')).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(source_->FetchManifest("team/nothing", "v1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(source_->StreamBlob("team/app", "sha256:" + std::string(64, 'b'), [](absl::string_view) {
                      return absl::OkStatus();
                    }).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RegistryImageSourceTest, ScansAnImageAndAnIndexFromTheRegistry) {
  portunus::testing::FakeImage amd64;
  amd64.layers = {DebianLayer("3.0.11-1~deb12u1")};
  portunus::testing::FakeImage arm64;
  arm64.architecture = "arm64";
  arm64.variant = "v8";
  arm64.layers = {DebianLayer("3.0.11-1~deb12u2")};  // fixed on this platform
  absl::StatusOr<portunus::testing::BuiltImage> a =
      portunus::testing::PushTestImage(registry_->url(), "", "team/app", "amd64", amd64);
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<portunus::testing::BuiltImage> b =
      portunus::testing::PushTestImage(registry_->url(), "", "team/app", "arm64", arm64);
  ASSERT_TRUE(b.ok()) << b.status();

  ImageScanner scanner = Scanner();
  ASSERT_TRUE(scanner.Scan("team/app", a->digest).ok());
  absl::StatusOr<ResultPage> page = store_.GetResults({a->digest});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->summary.status, ScanStatus::kDone);
  EXPECT_EQ(page->summary.ecosystem, "debian:12");
  ASSERT_EQ(page->findings.size(), 1u);
  EXPECT_EQ(page->findings[0].vuln_id, "CVE-2023-5678");
  EXPECT_EQ(page->findings[0].installed_version, "3.0.11-1~deb12u1");

  // An index of both platforms plus an attestation-like non-linux entry: the linux images are
  // scanned, the union reported.
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"mediaType", kMediaTypeOciIndex},
      {"manifests",
       {{{"mediaType", a->media_type},
         {"digest", a->digest},
         {"size", a->manifest.size()},
         {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
        {{"mediaType", b->media_type},
         {"digest", b->digest},
         {"size", b->manifest.size()},
         {"platform", {{"os", "linux"}, {"architecture", "arm64"}, {"variant", "v8"}}}}}}};
  absl::StatusOr<std::string> index_digest =
      client_->PutManifest("team/app", "multi", kMediaTypeOciIndex, index.dump());
  ASSERT_TRUE(index_digest.ok()) << index_digest.status();
  ASSERT_TRUE(scanner.Scan("team/app", *index_digest).ok());
  page = store_.GetResults({*index_digest});
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->summary.status, ScanStatus::kDone);
  ASSERT_EQ(page->findings.size(), 1u);
  EXPECT_EQ(page->findings[0].installed_version, "3.0.11-1~deb12u1");
  absl::StatusOr<ResultPage> arm = store_.GetResults({b->digest});
  ASSERT_TRUE(arm.ok()) << arm.status();
  EXPECT_EQ(arm->summary.status, ScanStatus::kDone);
  EXPECT_TRUE(arm->findings.empty());
}

}  // namespace
}  // namespace portunus::scanner
