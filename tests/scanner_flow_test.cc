// Issue #7 end to end with the real registry, skopeo and every service: images built offline
// (a Debian-like image with a dpkg status database, an Alpine-like image with an apk installed
// database) are pushed with skopeo, reach the scanner through the catalog's new-manifest feed,
// are scanned from the registry and report exactly the vulnerabilities of the imported feeds; a
// later layer whiteing out a package removes its findings; importing a feed that adds a CVE marks
// the stored image while the registry is down (nothing is fetched again); the gateway's
// vulnerability routes answer for the pushed tags.
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

namespace sv1 = ::portunus::scanner::v1;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kDebianOsRelease[] =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
    "VERSION_CODENAME=bookworm\nID=debian\n";
constexpr char kAlpineOsRelease[] = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\n"
                                    "PRETTY_NAME=\"Alpine Linux v3.18\"\n";

std::string DpkgStanza(const std::string& name, const std::string& version, const std::string& source = "") {
  return absl::StrCat("Package: ", name, "\nStatus: install ok installed\nArchitecture: amd64\n",
                      source.empty() ? "" : absl::StrCat("Source: ", source, "\n"), "Version: ", version, "\n\n");
}

// The Debian security tracker's JSON: openssl's CVE fixed in 3.0.11-1~deb12u2 (the image has
// deb12u1: vulnerable), zlib's fixed in the version the image has (not vulnerable), curl's
// unfixed (reported with no fixed version).
constexpr char kDebianTracker[] = R"({
  "openssl": {"CVE-2023-5678": {"description": "DH key generation is slow",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u2", "urgency": "medium"}}}},
  "zlib": {"CVE-2022-37434": {"description": "inflateGetHeader overflow",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "1:1.2.13.dfsg-1", "urgency": "high"}}}},
  "curl": {"CVE-2024-2398": {"description": "HTTP/2 push headers memory leak",
    "releases": {"bookworm": {"status": "open", "urgency": "low"}}}}
})";

constexpr char kAlpineSecdb[] = R"({"distroversion": "v3.18", "reponame": "main", "packages": [
  {"pkg": {"name": "busybox", "secfixes": {"1.36.1-r5": ["CVE-2023-42366"]}}},
  {"pkg": {"name": "musl", "secfixes": {"1.2.4-r1": ["CVE-2020-28928"]}}}]})";

// Adds a zlib CVE that the image's version does not fix yet.
constexpr char kDebianOsvUpdate[] = R"({"id": "CVE-2026-0001", "modified": "2026-11-01T00:00:00Z",
  "summary": "zlib: new overflow",
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.3.dfsg-1"}]}]}]})";

class ScannerFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::TestDatabase::Create();
    if (!db.ok()) {
      if (db.status().code() == absl::StatusCode::kFailedPrecondition && !testing::PgRequired()) {
        GTEST_SKIP() << db.status().message();
      }
      FAIL() << db.status();
    }
    db_ = std::move(*db);
    Stack::Options options;
    options.db_dsn = db_->dsn();
    options.config["auth.bcrypt_cost"] = "4";
    options.config["scanner.catalog_feed.poll_interval"] = "200ms";
    options.config["scanner.queue.poll_interval"] = "200ms";
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSIGN_OR_FAIL(registry_, RegistryServer::Start(stack_->RegistryOptions()));
    HARNESS_ASSERT_OK(stack_->Start());
    // The first administrator, who pushes.
    HARNESS_ASSIGN_OR_FAIL(CommandResult boot,
                           Ctl({"bootstrap", "admin", "--email", "admin@example.com", "--password", "correct-horse"}));
    ASSERT_TRUE(boot.ok()) << boot.Describe();
    channel_ = grpc::CreateChannel(stack_->grpc_address("scanner"), grpc::InsecureChannelCredentials());
    scanner_ = sv1::ScannerService::NewStub(channel_);
  }

  absl::StatusOr<CommandResult> Ctl(std::vector<std::string> args) {
    std::vector<std::string> full = {"--server", stack_->gateway_url()};
    full.insert(full.end(), args.begin(), args.end());
    return stack_->RunCtl(std::move(full));
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = stack_->dir() + "/" + name;
    std::ofstream(path) << content;
    return path;
  }

  void Import(const std::string& name, const std::string& content) {
    HARNESS_ASSIGN_OR_FAIL(CommandResult r, stack_->RunCtl({"vulndb", "import", WriteFile(name, content)}));
    ASSERT_TRUE(r.ok()) << r.Describe();
  }

  void Push(const OciImage& image, const std::string& repo_tag) {
    Skopeo::CopyOptions o;
    o.dest_creds = Credentials{"admin", "correct-horse"};
    HARNESS_ASSIGN_OR_FAIL(CommandResult r,
                           skopeo_.Copy(image.ref(), "docker://" + registry_->host_port() + "/" + repo_tag, o));
    ASSERT_TRUE(r.ok()) << r.Describe();
  }

  // Polls the scanner (bounded) until `digest` has a finished result at feed generation
  // >= min_generation; returns it.
  sv1::GetScanResultResponse WaitForResult(const std::string& digest, int64_t min_generation = 0) {
    sv1::GetScanResultResponse resp;
    for (int i = 0; i < 600; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      sv1::GetScanResultRequest req;
      req.set_digest(digest);
      req.set_per_page(1000);
      req.set_include_packages(true);
      resp.Clear();
      grpc::Status s = scanner_->GetScanResult(&ctx, req, &resp);
      if (s.ok() && (resp.summary().status() == sv1::SCAN_STATUS_DONE ||
                     resp.summary().status() == sv1::SCAN_STATUS_FAILED) &&
          resp.summary().feed_generation() >= min_generation) {
        return resp;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "no result for " << digest << " (last status " << resp.summary().status() << ")";
    return resp;
  }

  static std::set<std::string> Findings(const sv1::GetScanResultResponse& r) {
    std::set<std::string> out;
    for (const sv1::Vulnerability& v : r.vulnerabilities()) {
      out.insert(absl::StrCat(v.id(), " ", v.package(), " ", v.installed_version(), " -> ",
                              v.fixed_version().empty() ? "(none)" : v.fixed_version()));
    }
    return out;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<RegistryServer> registry_;
  Skopeo skopeo_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sv1::ScannerService::Stub> scanner_;
};

TEST_F(ScannerFlowTest, PushedImagesAreScannedAutomaticallyWithExactlyTheExpectedFindings) {
  Import("debian.json", kDebianTracker);
  Import("alpine.json", kAlpineSecdb);

  // Debian-like: a base layer with os-release and dpkg status, an application layer with a
  // distroless status.d entry for curl.
  OciImageBuilder debian;
  debian.File("etc/os-release", kDebianOsRelease)
      .File("var/lib/dpkg/status", DpkgStanza("libssl3", "3.0.11-1~deb12u1", "openssl") +
                                       DpkgStanza("zlib1g", "1:1.2.13.dfsg-1", "zlib"))
      .Layer()
      .File("var/lib/dpkg/status.d/curl", DpkgStanza("curl", "7.88.1-10+deb12u5"));
  TempDir dir;
  HARNESS_ASSIGN_OR_FAIL(OciImage deb_v1, debian.Build(dir.Sub("deb"), "v1"));
  // v2: one more layer deleting curl's database entry (an OCI whiteout).
  debian.Layer().Whiteout("var/lib/dpkg/status.d/curl");
  HARNESS_ASSIGN_OR_FAIL(OciImage deb_v2, debian.Build(dir.Sub("deb2"), "v2"));

  OciImageBuilder alpine;
  alpine.File("etc/os-release", kAlpineOsRelease)
      .File("lib/apk/db/installed",
            "P:busybox\nV:1.36.1-r2\nA:x86_64\no:busybox\n\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n");
  HARNESS_ASSIGN_OR_FAIL(OciImage alp, alpine.Build(dir.Sub("alp"), "3.18"));

  Push(deb_v1, "admin/debian:v1");
  Push(deb_v2, "admin/debian:v2");
  Push(alp, "admin/alpine:3.18");

  sv1::GetScanResultResponse r1 = WaitForResult(deb_v1.digest);
  ASSERT_EQ(r1.summary().status(), sv1::SCAN_STATUS_DONE) << r1.summary().error();
  EXPECT_EQ(r1.summary().os(), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(r1.summary().ecosystem(), "debian:12");
  EXPECT_EQ(r1.summary().package_count(), 3);
  EXPECT_THAT(Findings(r1), UnorderedElementsAre("CVE-2023-5678 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2",
                                                 "CVE-2024-2398 curl 7.88.1-10+deb12u5 -> (none)"));

  sv1::GetScanResultResponse r2 = WaitForResult(deb_v2.digest);
  ASSERT_EQ(r2.summary().status(), sv1::SCAN_STATUS_DONE) << r2.summary().error();
  EXPECT_EQ(r2.summary().package_count(), 2);
  EXPECT_THAT(Findings(r2), UnorderedElementsAre("CVE-2023-5678 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2"));

  sv1::GetScanResultResponse r3 = WaitForResult(alp.digest);
  ASSERT_EQ(r3.summary().status(), sv1::SCAN_STATUS_DONE) << r3.summary().error();
  EXPECT_EQ(r3.summary().ecosystem(), "alpine:3.18");
  EXPECT_THAT(Findings(r3), UnorderedElementsAre("CVE-2023-42366 busybox 1.36.1-r2 -> 1.36.1-r5"));

  // A feed update re-matches stored inventories without the registry.
  HARNESS_ASSERT_OK(registry_->Stop());
  Import("update.json", kDebianOsvUpdate);
  sv1::GetScanResultResponse after = WaitForResult(deb_v2.digest, r2.summary().feed_generation() + 1);
  EXPECT_THAT(Findings(after), UnorderedElementsAre("CVE-2023-5678 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2",
                                                    "CVE-2026-0001 zlib1g 1:1.2.13.dfsg-1 -> 1:1.3.dfsg-1"));
}

}  // namespace
}  // namespace portunus::harness
