// Issue #7 end to end with the real registry (token auth), skopeo and every service: images built
// offline (a Debian-like image with a dpkg status database, an Alpine-like image with an apk
// installed database, also as a two-platform index, a Rocky-like image with an rpm database made
// by `rpm --justdb`) are pushed
// with skopeo, reach the scanner through the catalog's new-manifest feed, are fetched from the
// registry as the internal principal and report exactly the vulnerabilities of the imported
// feeds; a later layer whiting out a package removes its findings; the gateway shows a tag's
// vulnerabilities (paged, filtered by severity) only to those who may pull it and lets only
// administrators queue a rescan; importing a feed that adds a CVE marks the stored image without
// a single blob GET on the registry (its own request counter proves it).
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "portunus/scanner/v1/scanner.grpc.pb.h"
#include "services/common/testing/test_database.h"
#include "tests/harness/harness.h"
#include "tests/harness/rest.h"

namespace portunus::harness {
namespace {

namespace sv1 = ::portunus::scanner::v1;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using Json = nlohmann::json;

constexpr char kDebianOsRelease[] =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
    "VERSION_CODENAME=bookworm\nID=debian\n";
constexpr char kRockyOsRelease[] = "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\n"
                                   "VERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n";
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

// Rocky Linux 9 (OSV): demo's CVE fixed after the image's 1:1.2.3-4.el9 (both binary packages
// of the demo source rpm are vulnerable), tool's fixed in exactly the image's version.
constexpr char kRockyOsv[] = R"([
  {"id": "CVE-2024-1111", "modified": "2026-10-01T00:00:00Z", "summary": "demo: heap overflow",
   "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "demo"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.4-1.el9"}]}],
                 "ecosystem_specific": {"severity": "high"}}]},
  {"id": "CVE-2024-2222", "modified": "2026-10-01T00:00:00Z", "summary": "tool: fixed already",
   "affected": [{"package": {"ecosystem": "Rocky Linux:9", "name": "tool"},
                 "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0~rc1-1.fc38"}]}]}]}
])";

class ScannerFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    Stack::Options options;
    options.db_dsn = db_->dsn();
    options.config["auth.bcrypt_cost"] = "4";
    options.config["scanner.catalog_feed.poll_interval"] = "200ms";
    options.config["scanner.queue.poll_interval"] = "200ms";
    HARNESS_ASSIGN_OR_FAIL(stack_, Stack::Create(options));
    HARNESS_ASSIGN_OR_FAIL(registry_, RegistryServer::Start(stack_->RegistryOptions()));
    HARNESS_ASSERT_OK(stack_->Start());
    // The administrator; alice owns team devs and its private namespace `secret`; bob is no
    // member of it.
    Reply boot = Call("POST", "/api/v1/users/bootstrap", As{},
                      R"({"user":{"username":"admin","email":"admin@example.com","password":"correct-horse"}})");
    ASSERT_EQ(boot.status, 201) << boot.raw.body;
    for (const char* name : {"alice", "bob"}) {
      Reply u = Call("POST", "/api/v1/users", admin_,
                     Json{{"user", {{"username", name}, {"email", absl::StrCat(name, "@example.com")},
                                    {"password", absl::StrCat(name, "-password")}}}}
                         .dump());
      ASSERT_EQ(u.status, 201) << u.raw.body;
    }
    ASSERT_EQ(Call("POST", "/api/v1/teams", alice_, R"({"name":"devs"})").status, 201);
    Reply secret = Call("POST", "/api/v1/namespaces", alice_, R"({"name":"secret","team":"devs"})");
    ASSERT_EQ(secret.status, 201) << secret.raw.body;
    channel_ = grpc::CreateChannel(stack_->grpc_address("scanner"), grpc::InsecureChannelCredentials());
    scanner_ = sv1::ScannerService::NewStub(channel_);
  }

  Reply Call(const std::string& method, const std::string& path, const As& as,
             const std::string& body = "") {
    return CallRest(stack_->gateway_url(), method, path, as, body);
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

  void Push(const OciImage& image, const std::string& repo_tag, const As& as, bool all = false) {
    Skopeo::CopyOptions o;
    o.all = all;
    o.dest_creds = Credentials{as.basic_user, as.basic_password};
    HARNESS_ASSIGN_OR_FAIL(CommandResult r,
                           skopeo_.Copy(image.ref(), "docker://" + registry_->host_port() + "/" + repo_tag, o));
    ASSERT_TRUE(r.ok()) << r.Describe();
  }

  // Polls the scanner (bounded) until `digest` has a finished result at feed generation
  // >= min_generation; returns it.
  sv1::GetScanResultResponse WaitForResult(const std::string& digest, int64_t min_generation = 0) {
    sv1::GetScanResultResponse resp;
    const bool done = PollUntil(
        [&] {
          grpc::ClientContext ctx;
          ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
          sv1::GetScanResultRequest req;
          req.set_digest(digest);
          req.set_per_page(1000);
          req.set_include_packages(true);
          resp.Clear();
          grpc::Status s = scanner_->GetScanResult(&ctx, req, &resp);
          return s.ok() &&
                 (resp.summary().status() == sv1::SCAN_STATUS_DONE ||
                  resp.summary().status() == sv1::SCAN_STATUS_FAILED) &&
                 resp.summary().feed_generation() >= min_generation;
        },
        absl::Seconds(90), absl::Milliseconds(100));
    if (!done) ADD_FAILURE() << "no result for " << digest << " (last status " << resp.summary().status() << ")";
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

  // The catalog's id of tag `tag` of `repository` (polled: the catalog records pushes from the
  // registry's notifications).
  int64_t TagId(const std::string& repository, const std::string& tag) {
    int64_t id = 0;
    PollUntil(
        [&] {
          Reply repos = Call("GET", "/api/v1/repositories?all=true", admin_);
          if (!repos.body.is_array()) return false;
          for (const Json& repo : repos.body) {
            if (repo.value("full_name", "") != repository) continue;
            Reply tags = Call("GET", absl::StrCat("/api/v1/repositories/", repo.value("id", int64_t{0}), "/tags"),
                              admin_);
            if (!tags.body.is_array()) return false;
            for (const Json& t : tags.body) {
              if (t.value("name", "") == tag) id = t.value("id", int64_t{0});
            }
          }
          return id > 0;
        },
        absl::Seconds(60), absl::Milliseconds(100));
    EXPECT_GT(id, 0) << repository << ":" << tag << " never appeared in the catalog";
    return id;
  }

  // registry_http_requests_total for blob GETs, from the registry's own Prometheus metrics.
  int64_t RegistryBlobGets() {
    HttpRequest req;
    req.url = registry_->debug_url() + "/metrics";
    absl::StatusOr<HttpResponse> resp = Http(req);
    EXPECT_TRUE(resp.ok() && resp->status == 200) << (resp.ok() ? resp->body : resp.status().ToString());
    if (!resp.ok()) return -1;
    int64_t total = 0;
    for (absl::string_view line : absl::StrSplit(resp->body, '\n')) {
      if (!absl::StartsWith(line, "registry_http_requests_total{")) continue;
      if (!absl::StrContains(line, "handler=\"blob\"") || !absl::StrContains(line, "method=\"get\"")) continue;
      double v = 0;
      if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &v)) total += static_cast<int64_t>(v);
    }
    return total;
  }

  // The rpm database fixture (rpm --justdb: demo 1:1.2.3-4.el9, demo-libs, tool 2.0~rc1-1.fc38)
  // made offline by the scanner's own fixture script.
  std::map<std::string, std::string> RpmDatabase() {
    std::map<std::string, std::string> files;
    const std::string out = stack_->dir() + "/rpmdb";
    absl::StatusOr<CommandResult> r =
        RunCommand("/bin/sh", {SourceDir() + "/services/scanner/testdata/make_rpmdb_fixtures.sh", out},
                   absl::Seconds(120));
    EXPECT_TRUE(r.ok() && r->ok()) << (r.ok() ? r->Describe() : r.status().ToString());
    for (const char* name : {"rpmdb.sqlite", "rpmdb.sqlite-wal", "rpmdb.sqlite-shm"}) {
      absl::StatusOr<std::string> content = ReadFile(out + "/sqlite/" + name);
      EXPECT_TRUE(content.ok()) << content.status();
      if (content.ok()) files[name] = *content;
    }
    return files;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<RegistryServer> registry_;
  Skopeo skopeo_;
  TempDir images_{"scanner-flow-images"};
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sv1::ScannerService::Stub> scanner_;
  const As admin_ = As::Basic("admin", "correct-horse");
  const As alice_ = As::Basic("alice", "alice-password");
  const As bob_ = As::Basic("bob", "bob-password");
};

TEST_F(ScannerFlowTest, PushedImagesAreScannedAutomaticallyAndShownToThoseWhoMayPull) {
  Import("debian.json", kDebianTracker);
  Import("alpine.json", kAlpineSecdb);
  Import("rocky.json", kRockyOsv);

  // Debian-like: a base layer with os-release and dpkg status, an application layer with a
  // distroless status.d entry for curl.
  OciImageBuilder debian;
  debian.File("etc/os-release", kDebianOsRelease)
      .File("var/lib/dpkg/status", DpkgStanza("libssl3", "3.0.11-1~deb12u1", "openssl") +
                                       DpkgStanza("zlib1g", "1:1.2.13.dfsg-1", "zlib"))
      .Layer()
      .File("var/lib/dpkg/status.d/curl", DpkgStanza("curl", "7.88.1-10+deb12u5"));
  HARNESS_ASSIGN_OR_FAIL(OciImage deb_v1, debian.Build(images_.Sub("deb"), "v1"));
  // v2: one more layer deleting curl's database entry (an OCI whiteout).
  debian.Layer().Whiteout("var/lib/dpkg/status.d/curl");
  HARNESS_ASSIGN_OR_FAIL(OciImage deb_v2, debian.Build(images_.Sub("deb2"), "v2"));

  OciImageBuilder alpine;
  alpine.File("etc/os-release", kAlpineOsRelease)
      .File("lib/apk/db/installed",
            "P:busybox\nV:1.36.1-r2\nA:x86_64\no:busybox\n\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n");
  HARNESS_ASSIGN_OR_FAIL(OciImage alp, alpine.Build(images_.Sub("alp"), "3.18"));

  // A multi-platform index: amd64 as above, arm64 with busybox fixed and an older musl.
  OciImageBuilder multi;
  multi.File("etc/os-release", kAlpineOsRelease)
      .File("lib/apk/db/installed",
            "P:busybox\nV:1.36.1-r2\nA:x86_64\no:busybox\n\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n")
      .AddPlatform("linux", "arm64", "v8")
      .File("etc/os-release", kAlpineOsRelease)
      .File("lib/apk/db/installed",
            "P:busybox\nV:1.36.1-r5\nA:aarch64\no:busybox\n\nP:musl\nV:1.2.4-r0\nA:aarch64\no:musl\n\n");
  HARNESS_ASSIGN_OR_FAIL(OciImage alp_multi, multi.Build(images_.Sub("multi"), "multi"));
  ASSERT_EQ(alp_multi.manifests.size(), 2u);

  OciImageBuilder rocky;
  rocky.File("etc/os-release", kRockyOsRelease).Layer();
  for (const auto& [name, content] : RpmDatabase()) rocky.File("var/lib/rpm/" + name, content);
  HARNESS_ASSIGN_OR_FAIL(OciImage rpm, rocky.Build(images_.Sub("rocky"), "9"));

  Push(deb_v1, "secret/debian:v1", alice_);
  Push(deb_v2, "secret/debian:v2", alice_);
  Push(alp, "admin/alpine:3.18", admin_);
  Push(rpm, "admin/rocky:9", admin_);
  Push(alp_multi, "admin/alpine:multi", admin_, /*all=*/true);

  // Scanned without anyone asking: the catalog's feed queued them.
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

  // The index: each linux platform scanned, the union reported for the index.
  sv1::GetScanResultResponse multi_result = WaitForResult(alp_multi.digest);
  ASSERT_EQ(multi_result.summary().status(), sv1::SCAN_STATUS_DONE) << multi_result.summary().error();
  EXPECT_THAT(Findings(multi_result), UnorderedElementsAre("CVE-2023-42366 busybox 1.36.1-r2 -> 1.36.1-r5",
                                                           "CVE-2020-28928 musl 1.2.4-r0 -> 1.2.4-r1"));
  sv1::GetScanResultResponse arm = WaitForResult(alp_multi.manifests[1]["digest"].get<std::string>());
  EXPECT_THAT(Findings(arm), UnorderedElementsAre("CVE-2020-28928 musl 1.2.4-r0 -> 1.2.4-r1"));

  sv1::GetScanResultResponse r4 = WaitForResult(rpm.digest);
  ASSERT_EQ(r4.summary().status(), sv1::SCAN_STATUS_DONE) << r4.summary().error();
  EXPECT_EQ(r4.summary().ecosystem(), "rocky:9");
  EXPECT_EQ(r4.summary().package_count(), 3);
  EXPECT_THAT(Findings(r4), UnorderedElementsAre("CVE-2024-1111 demo 1:1.2.3-4.el9 -> 1:1.2.4-1.el9",
                                                 "CVE-2024-1111 demo-libs 1:1.2.3-4.el9 -> 1:1.2.4-1.el9"));

  // REST, for those who may pull: alice (her team's private namespace) and the administrator.
  const int64_t v1_id = TagId("secret/debian", "v1");
  const std::string v1_path = absl::StrCat("/api/v1/tags/", v1_id, "/vulnerabilities");
  Reply all = Call("GET", v1_path, alice_);
  ASSERT_EQ(all.status, 200) << all.raw.body;
  EXPECT_EQ(all.raw.Header("X-Total"), "2");
  EXPECT_EQ(all.raw.Header("X-Scan-Status"), "done");
  ASSERT_EQ(all.body.size(), 2u);
  std::set<std::string> names;
  for (const Json& v : all.body) names.insert(v.value("name", "") + "/" + v.value("severity", ""));
  EXPECT_THAT(names, UnorderedElementsAre("CVE-2023-5678/Medium", "CVE-2024-2398/Low"));
  Reply page2 = Call("GET", v1_path + "?per_page=1&page=2", admin_);
  ASSERT_EQ(page2.status, 200) << page2.raw.body;
  EXPECT_EQ(page2.raw.Header("X-Total"), "2");
  ASSERT_EQ(page2.body.size(), 1u);
  Reply page1 = Call("GET", v1_path + "?per_page=1&page=1", admin_);
  ASSERT_EQ(page1.body.size(), 1u);
  EXPECT_NE(page1.body[0]["name"], page2.body[0]["name"]);
  Reply medium = Call("GET", v1_path + "?severity=medium,high", alice_);
  ASSERT_EQ(medium.status, 200) << medium.raw.body;
  ASSERT_EQ(medium.body.size(), 1u);
  EXPECT_EQ(medium.body[0]["name"], "CVE-2023-5678");
  EXPECT_EQ(medium.body[0]["package"], "libssl3");
  EXPECT_EQ(medium.body[0]["version"], "3.0.11-1~deb12u1");
  EXPECT_EQ(medium.body[0]["fixed_by"], "3.0.11-1~deb12u2");
  EXPECT_EQ(Call("GET", v1_path + "?severity=dreadful", alice_).status, 422);
  // Bob may not pull from `secret`: the tag does not exist for him, nor for anonymous callers.
  Reply hidden = Call("GET", v1_path, bob_);
  EXPECT_TRUE(hidden.status == 404 || hidden.status == 403) << hidden.status << " " << hidden.raw.body;
  EXPECT_FALSE(absl::StrContains(hidden.raw.body, "CVE-2023-5678"));
  Reply anonymous = Call("GET", v1_path, As{});
  EXPECT_TRUE(anonymous.status == 401 || anonymous.status == 404) << anonymous.status;
  EXPECT_FALSE(absl::StrContains(anonymous.raw.body, "CVE-2023-5678"));
  // The rpm image through REST too.
  Reply rpm_vulns = Call("GET", absl::StrCat("/api/v1/tags/", TagId("admin/rocky", "9"), "/vulnerabilities"), admin_);
  ASSERT_EQ(rpm_vulns.status, 200) << rpm_vulns.raw.body;
  EXPECT_EQ(rpm_vulns.body.size(), 2u);

  // Rescanning one tag is for administrators: 202 for them, 403 for alice (who sees the tag), 404
  // for those who may not even see it.
  EXPECT_EQ(Call("POST", absl::StrCat("/api/v1/vulnerabilities/", v1_id), alice_).status, 403);
  const long anonymous_rescan = Call("POST", absl::StrCat("/api/v1/vulnerabilities/", v1_id), As{}).status;
  EXPECT_TRUE(anonymous_rescan == 401 || anonymous_rescan == 404) << anonymous_rescan;
  EXPECT_EQ(Call("POST", absl::StrCat("/api/v1/vulnerabilities/", v1_id), bob_).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/vulnerabilities/999999", admin_).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/vulnerabilities/nope", admin_).status, 422);
  Reply rescan = Call("POST", absl::StrCat("/api/v1/vulnerabilities/", v1_id), admin_);
  EXPECT_EQ(rescan.status, 202) << rescan.raw.body;
  EXPECT_EQ(rescan.body.value("queued", false), true) << rescan.raw.body;
  // The forced rescan finishes (a new scan time) with the same findings.
  ASSERT_TRUE(PollUntil(
      [&] {
        grpc::ClientContext ctx;
        sv1::GetScanResultRequest req;
        req.set_digest(deb_v1.digest);
        sv1::GetScanResultResponse resp;
        return scanner_->GetScanResult(&ctx, req, &resp).ok() &&
               resp.summary().status() == sv1::SCAN_STATUS_DONE &&
               resp.summary().scanned_at() != r1.summary().scanned_at();
      },
      absl::Seconds(60), absl::Milliseconds(100)));
  EXPECT_EQ(Findings(WaitForResult(deb_v1.digest)), Findings(r1));

  // A feed update re-matches the stored inventories without fetching a single blob.
  const int64_t blob_gets = RegistryBlobGets();
  ASSERT_GT(blob_gets, 0);  // the scans above did fetch layers
  Import("update.json", kDebianOsvUpdate);
  sv1::GetScanResultResponse after = WaitForResult(deb_v2.digest, r2.summary().feed_generation() + 1);
  EXPECT_THAT(Findings(after), UnorderedElementsAre("CVE-2023-5678 libssl3 3.0.11-1~deb12u1 -> 3.0.11-1~deb12u2",
                                                    "CVE-2026-0001 zlib1g 1:1.2.13.dfsg-1 -> 1:1.3.dfsg-1"));
  sv1::GetScanResultResponse alp_after = WaitForResult(alp.digest, r2.summary().feed_generation() + 1);
  EXPECT_EQ(Findings(alp_after), Findings(r3));
  EXPECT_EQ(RegistryBlobGets(), blob_gets);
  Reply v2_after = Call("GET", absl::StrCat("/api/v1/tags/", TagId("secret/debian", "v2"), "/vulnerabilities"), alice_);
  ASSERT_EQ(v2_after.status, 200) << v2_after.raw.body;
  EXPECT_EQ(v2_after.body.size(), 2u);
}

}  // namespace
}  // namespace portunus::harness
