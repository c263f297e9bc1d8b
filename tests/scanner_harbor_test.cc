// The Harbor Scanner Adapter API v1.2 end to end: the scanner serves it on its own listener
// (scanner.harbor_adapter.*), Harbor asks for a scan of an image in a real registry that uses
// Portunus's token auth, passing the registry credentials the way Harbor does (an Authorization
// value for the registry), and polls the report: 302 with Refresh-After while it runs, then the
// Harbor vulnerability report with exactly the findings of the imported feed. The adapter's own
// bearer token guards every route; bad requests are 4xx naming the field.
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"

namespace portunus::harness {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

constexpr char kReportMime[] = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
constexpr char kAdapterToken[] = "harbor-adapter-test-token-0123456789";

constexpr char kOsRelease[] =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
    "VERSION_CODENAME=bookworm\nID=debian\n";

// openssl's CVE is fixed after the image's version (reported), zlib's in the image's version
// (not reported).
constexpr char kDebianTracker[] = R"({
  "openssl": {"CVE-2023-5678": {"description": "DH key generation is slow",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u2", "urgency": "medium"}}}},
  "zlib": {"CVE-2022-37434": {"description": "inflateGetHeader overflow",
    "releases": {"bookworm": {"status": "resolved", "fixed_version": "1:1.2.13.dfsg-1", "urgency": "high"}}}}
})";

std::string DpkgStanza(const std::string& name, const std::string& version, const std::string& source) {
  return absl::StrCat("Package: ", name, "\nStatus: install ok installed\nArchitecture: amd64\nSource: ",
                      source, "\nVersion: ", version, "\n\n");
}

class ScannerHarborTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    adapter_port_ = PickFreePort();
    Stack::Options options;
    options.db_dsn = db_->dsn();
    options.config["auth.bcrypt_cost"] = "4";
    options.config["scanner.harbor_adapter.listen"] = absl::StrCat("127.0.0.1:", adapter_port_);
    options.config["scanner.harbor_adapter.token"] = kAdapterToken;
    options.config["scanner.harbor_adapter.refresh_after"] = "1s";
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSIGN_OR_FAIL(registry_, RegistryServer::Start(stack_->RegistryOptions()));
    HARNESS_ASSERT_OK(stack_->Start());
    base_ = absl::StrCat("http://127.0.0.1:", adapter_port_);

    HttpRequest boot;
    boot.method = "POST";
    boot.url = stack_->gateway_url() + "/api/v1/users/bootstrap";
    boot.headers.emplace_back("Content-Type", "application/json");
    boot.body = R"({"user":{"username":"admin","email":"admin@example.com","password":"correct-horse"}})";
    absl::StatusOr<HttpResponse> b = Http(boot);
    ASSERT_TRUE(b.ok() && b->status == 201) << (b.ok() ? b->body : b.status().ToString());

    const std::string feed = stack_->dir() + "/debian.json";
    std::ofstream(feed) << kDebianTracker;
    HARNESS_ASSIGN_OR_FAIL(CommandResult imported, stack_->RunCtl({"vulndb", "import", feed}));
    ASSERT_TRUE(imported.ok()) << imported.Describe();
  }

  // A request to the adapter, with its bearer token unless `token` is false.
  HttpResponse Adapter(const std::string& method, const std::string& path, const std::string& body = "",
                       bool token = true) {
    HttpRequest req;
    req.method = method;
    req.url = base_ + path;
    req.body = body;
    if (!body.empty()) {
      req.headers.emplace_back("Content-Type",
                               "application/vnd.scanner.adapter.scan.request+json; version=1.0");
    }
    req.headers.emplace_back("Accept", method == "GET" && path != "/api/v1/metadata" ? kReportMime : "*/*");
    if (token) req.headers.emplace_back("Authorization", absl::StrCat("Bearer ", kAdapterToken));
    absl::StatusOr<HttpResponse> resp = Http(req);
    EXPECT_TRUE(resp.ok()) << method << " " << path << ": " << resp.status();
    if (!resp.ok()) return HttpResponse{};
    return *resp;
  }

  std::string ScanRequest(const std::string& repository, const std::string& digest) {
    return Json{{"registry",
                 {{"url", "http://" + registry_->host_port()},
                  {"authorization", "Basic " + absl::Base64Escape("admin:correct-horse")}}},
                {"artifact",
                 {{"repository", repository},
                  {"digest", digest},
                  {"tag", "v1"},
                  {"mime_type", "application/vnd.oci.image.manifest.v1+json"}}}}
        .dump();
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<RegistryServer> registry_;
  Skopeo skopeo_;
  TempDir images_{"scanner-harbor-images"};
  int adapter_port_ = 0;
  std::string base_;
};

TEST_F(ScannerHarborTest, HarborScansAnImageInATokenAuthRegistryAndReadsTheReport) {
  OciImageBuilder debian;
  debian.File("etc/os-release", kOsRelease)
      .File("var/lib/dpkg/status", DpkgStanza("libssl3", "3.0.11-1~deb12u1", "openssl") +
                                       DpkgStanza("zlib1g", "1:1.2.13.dfsg-1", "zlib"));
  HARNESS_ASSIGN_OR_FAIL(OciImage image, debian.Build(images_.Sub("deb"), "v1"));
  Skopeo::CopyOptions copy;
  copy.dest_creds = Credentials{"admin", "correct-horse"};
  HARNESS_ASSIGN_OR_FAIL(CommandResult pushed,
                         skopeo_.Copy(image.ref(), "docker://" + registry_->host_port() + "/admin/debian:v1", copy));
  ASSERT_TRUE(pushed.ok()) << pushed.Describe();

  // The adapter's token guards every route.
  EXPECT_EQ(Adapter("GET", "/api/v1/metadata", "", /*token=*/false).status, 401);

  // Metadata: who we are and what we consume and produce.
  HttpResponse meta = Adapter("GET", "/api/v1/metadata");
  ASSERT_EQ(meta.status, 200) << meta.body;
  Json m = Json::parse(meta.body, nullptr, false);
  ASSERT_TRUE(m.is_object()) << meta.body;
  EXPECT_EQ(m["scanner"]["name"], "Portunus");
  ASSERT_TRUE(m["capabilities"].is_array() && !m["capabilities"].empty()) << meta.body;
  EXPECT_THAT(m["capabilities"][0]["produces_mime_types"].dump(), HasSubstr("vuln.report.harbor+json"));
  EXPECT_THAT(m["capabilities"][0]["consumes_mime_types"].dump(),
              HasSubstr("application/vnd.oci.image.manifest.v1+json"));

  // Bad requests name the field and never reach the registry.
  HttpResponse no_digest = Adapter("POST", "/api/v1/scan",
                                   Json{{"registry", {{"url", "http://" + registry_->host_port()}}},
                                        {"artifact", {{"repository", "admin/debian"}}}}
                                       .dump());
  EXPECT_EQ(no_digest.status / 100, 4) << no_digest.body;
  EXPECT_THAT(no_digest.body, HasSubstr("artifact.digest"));
  EXPECT_EQ(Adapter("POST", "/api/v1/scan", "{not json").status / 100, 4);

  // The scan: accepted with an id, then the report once done.
  HttpResponse accepted = Adapter("POST", "/api/v1/scan", ScanRequest("admin/debian", image.digest));
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  Json a = Json::parse(accepted.body, nullptr, false);
  ASSERT_TRUE(a.is_object() && a["id"].is_string()) << accepted.body;
  const std::string id = a["id"].get<std::string>();

  HttpResponse report;
  bool saw_running = false;
  ASSERT_TRUE(PollUntil(
      [&] {
        report = Adapter("GET", "/api/v1/scan/" + id + "/report");
        if (report.status == 302) {
          saw_running = true;
          EXPECT_FALSE(report.Header("Refresh-After").empty());
        }
        return report.status != 302;
      },
      absl::Seconds(90), absl::Milliseconds(100)));
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_THAT(report.Header("Content-Type"), HasSubstr("vuln.report.harbor+json"));
  Json r = Json::parse(report.body, nullptr, false);
  ASSERT_TRUE(r.is_object()) << report.body;
  EXPECT_EQ(r["artifact"]["repository"], "admin/debian");
  EXPECT_EQ(r["artifact"]["digest"], image.digest);
  EXPECT_EQ(r["scanner"]["name"], "Portunus");
  EXPECT_FALSE(r.value("generated_at", "").empty());
  std::set<std::string> findings;
  for (const Json& v : r["vulnerabilities"]) {
    findings.insert(absl::StrCat(v.value("id", ""), " ", v.value("package", ""), " ", v.value("version", ""),
                                 " -> ", v.value("fix_version", "")));
  }
  EXPECT_THAT(findings, UnorderedElementsAre("CVE-2023-5678 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2"));
  (void)saw_running;  // a fast scan may finish before the first poll

  // Unknown ids are 404; wrong registry credentials end the scan as failed, reported as such.
  EXPECT_EQ(Adapter("GET", "/api/v1/scan/no-such-id/report").status, 404);
  Json bad = Json::parse(ScanRequest("admin/debian", image.digest));
  bad["registry"]["authorization"] = "Basic " + absl::Base64Escape("admin:wrong-password");
  HttpResponse refused = Adapter("POST", "/api/v1/scan", bad.dump());
  ASSERT_EQ(refused.status, 202) << refused.body;
  const std::string bad_id = Json::parse(refused.body)["id"].get<std::string>();
  HttpResponse failed;
  ASSERT_TRUE(PollUntil(
      [&] {
        failed = Adapter("GET", "/api/v1/scan/" + bad_id + "/report");
        return failed.status != 302;
      },
      absl::Seconds(60), absl::Milliseconds(100)));
  EXPECT_EQ(failed.status, 500) << failed.body;  // the spec's answer for a failed scan
  EXPECT_THAT(failed.body, HasSubstr("scan failed"));
}

}  // namespace
}  // namespace portunus::harness
