// The Harbor Scanner Adapter API v1.2 handlers (harbor_adapter.h) over the real ScannerApi on the
// in-memory stores, with a scripted scan runner: metadata, scan request validation (400/422/501
// naming the field, never 500), 202 + id, 302 + Refresh-After while running, the report's shape,
// failed scans, unknown ids, bearer authentication.
#include "services/scanner/harbor_adapter.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/fake_clock.h"
#include "services/common/worker_pool.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"

namespace portunus::scanner {
namespace {

using nlohmann::json;

const std::string kDigest = "sha256:" + std::string(64, 'e');

// Stores a scripted result for the digest when released; fails when told to.
class ScriptedRunner final : public HarborScanRunner {
 public:
  explicit ScriptedRunner(ScanStore& store) : store_(store) {}
  absl::Status Scan(const HarborScanRequest& request) override {
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(request);
    }
    release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    ScanSummary s;
    s.digest = request.digest;
    s.status = ScanStatus::kDone;
    s.counts[static_cast<int>(Severity::kHigh)] = 1;
    s.counts[static_cast<int>(Severity::kLow)] = 1;
    s.scanned_at = s.matched_at = absl::FromUnixSeconds(1700000100);
    Finding high{"CVE-2023-5678", Severity::kHigh, "libssl3", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2",
                 "openssl", PackageFormat::kDpkg, "amd64"};
    Finding low{"CVE-2011-3374", Severity::kLow, "apt", "2.6.1", "", "apt", PackageFormat::kDpkg, "amd64"};
    return store_.PutResult(s, {high, low});
  }
  void Release() {
    if (!release_.HasBeenNotified()) release_.Notify();
  }

  absl::Mutex mu_;
  std::vector<HarborScanRequest> requests_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);

 private:
  ScanStore& store_;
  absl::Notification release_;
};

class HarborAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(""); }
  void Make(const std::string& token) {
    FeedSource src;
    src.name = "debian-security-tracker";
    src.updated = absl::FromUnixSeconds(1700000000);
    FeedData data;
    Vulnerability v;
    v.id = "CVE-2023-5678";
    v.description = "Generating excessively long X9.42 DH keys may be very slow.";
    v.links = {"https://security-tracker.debian.org/tracker/CVE-2023-5678"};
    v.cvss_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L";
    data.vulnerabilities.push_back(v);
    ASSERT_TRUE(advisories_.UpsertRecords(src, data).ok());
    HarborAdapter::Options o;
    o.token = token;
    o.refresh_after = absl::Seconds(3);
    o.scanner_version = "portunus-scanner/9.9";
    o.max_scans = 10;
    adapter_ = std::make_unique<HarborAdapter>(o, runner_, api_, workers_, clock_);
  }
  void TearDown() override { runner_.Release(); }

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    HttpHeaders headers = {}) {
    HttpRequest req;
    req.method = method;
    req.target = req.path = path;
    req.body = body;
    req.headers = std::move(headers);
    req.request_id = "req-1";
    absl::Notification done;
    HttpResponse out;
    adapter_->Handle(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done.Notify();
    });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }
  std::string ValidBody() const {
    return json{{"registry", {{"url", "https://core.harbor.domain/"}, {"authorization", "Basic cm9ib3Q6c2VjcmV0"}}},
                {"artifact",
                 {{"repository", "library/mongo"},
                  {"digest", kDigest},
                  {"tag", "3.14-xenial"},
                  {"mime_type", "application/vnd.docker.distribution.manifest.v2+json"}}}}
        .dump();
  }
  // Waits until the scan `id` no longer answers 302.
  HttpResponse PollReport(const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      HttpResponse r = Send("GET", "/api/v1/scan/" + id + "/report");
      if (r.status != 302) return r;
      absl::SleepFor(absl::Milliseconds(10));
    }
    ADD_FAILURE() << "scan " << id << " never finished";
    return HttpResponse(0);
  }

  portunus::testing::FakeClock clock_;
  FakeScanStore scans_{clock_};
  FakeAdvisoryStore advisories_;
  ScannerApi api_{ScannerApi::Options{"portunus-scanner/9.9"}, scans_, advisories_, nullptr};
  ScriptedRunner runner_{scans_};
  std::unique_ptr<HarborAdapter> adapter_;
  WorkerPool workers_{2};  // destroyed first: its tasks finish while the adapter exists
};

TEST_F(HarborAdapterTest, Metadata) {
  HttpResponse r = Send("GET", "/api/v1/metadata");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type"), "application/vnd.scanner.adapter.metadata+json; version=1.0");
  json j = json::parse(r.body);
  EXPECT_EQ(j["scanner"], json::parse(R"({"name":"Portunus","vendor":"Portunus","version":"portunus-scanner/9.9"})"));
  ASSERT_EQ(j["capabilities"].size(), 1u);
  EXPECT_EQ(j["capabilities"][0]["type"], "vulnerability");
  EXPECT_THAT(j["capabilities"][0]["consumes_mime_types"].get<std::vector<std::string>>(),
              ::testing::IsSupersetOf({"application/vnd.oci.image.manifest.v1+json",
                                       "application/vnd.docker.distribution.manifest.v2+json"}));
  EXPECT_THAT(j["capabilities"][0]["produces_mime_types"].get<std::vector<std::string>>(),
              ::testing::Contains("application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"));
  EXPECT_EQ(j["properties"]["harbor.scanner-adapter/scanner-type"], "os-package-vulnerability");
  EXPECT_EQ(j["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(Send("POST", "/api/v1/metadata").status, 405);
}

TEST_F(HarborAdapterTest, ScanThenReport) {
  HttpResponse accepted = Send("POST", "/api/v1/scan", ValidBody());
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(accepted.Header("Content-Type"), "application/vnd.scanner.adapter.scan.response+json; version=1.0");
  const std::string id = json::parse(accepted.body)["id"];
  EXPECT_THAT(id, ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));

  HttpResponse running = Send("GET", "/api/v1/scan/" + id + "/report");
  EXPECT_EQ(running.status, 302);
  EXPECT_EQ(running.Header("Refresh-After"), "3");

  runner_.Release();
  HttpResponse report = PollReport(id);
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(report.Header("Content-Type"), "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0");
  json j = json::parse(report.body);
  EXPECT_EQ(j["generated_at"], "2023-11-14T22:15:00.000Z");
  EXPECT_EQ(j["artifact"], json::parse(R"({"repository":"library/mongo","digest":")" + kDigest +
                                       R"(","tag":"3.14-xenial","mime_type":"application/vnd.docker.distribution.manifest.v2+json"})"));
  EXPECT_EQ(j["scanner"]["name"], "Portunus");
  EXPECT_EQ(j["severity"], "High");
  ASSERT_EQ(j["vulnerabilities"].size(), 2u);
  const json& v = j["vulnerabilities"][0];
  EXPECT_EQ(v["id"], "CVE-2023-5678");
  EXPECT_EQ(v["package"], "libssl3");
  EXPECT_EQ(v["version"], "3.0.11-1~deb12u1");
  EXPECT_EQ(v["fix_version"], "3.0.11-1~deb12u2");
  EXPECT_EQ(v["severity"], "High");
  EXPECT_EQ(v["description"], "Generating excessively long X9.42 DH keys may be very slow.");
  EXPECT_EQ(v["links"], json::array({"https://security-tracker.debian.org/tracker/CVE-2023-5678"}));
  EXPECT_EQ(j["vulnerabilities"][1]["fix_version"], "");  // unfixed
  EXPECT_EQ(j["vulnerabilities"][1]["severity"], "Low");

  // The runner got the registry and credentials Harbor sent (URL without its trailing slash).
  absl::MutexLock lock(&runner_.mu_);
  ASSERT_EQ(runner_.requests_.size(), 1u);
  EXPECT_EQ(runner_.requests_[0].registry_url, "https://core.harbor.domain");
  EXPECT_EQ(runner_.requests_[0].authorization, "Basic cm9ib3Q6c2VjcmV0");
  EXPECT_EQ(runner_.requests_[0].repository, "library/mongo");
  EXPECT_EQ(runner_.requests_[0].digest, kDigest);
}

TEST_F(HarborAdapterTest, ReportMimeTypes) {
  runner_.Release();
  const std::string id = json::parse(Send("POST", "/api/v1/scan", ValidBody()).body)["id"];
  ASSERT_EQ(PollReport(id).status, 200);
  HttpResponse v11 = Send("GET", "/api/v1/scan/" + id + "/report", "",
                          {{"accept", "application/vnd.security.vulnerability.report; version=1.1"}});
  EXPECT_EQ(v11.status, 200);
  EXPECT_EQ(v11.Header("Content-Type"), "application/vnd.security.vulnerability.report; version=1.1");
  HttpResponse raw = Send("GET", "/api/v1/scan/" + id + "/report", "",
                          {{"accept", "application/vnd.scanner.adapter.vuln.report.raw"}});
  EXPECT_EQ(raw.status, 501);
  EXPECT_TRUE(json::parse(raw.body)["error"]["message"].is_string());
}

TEST_F(HarborAdapterTest, FailedScanAnswers500AndUnknownIds404) {
  {
    absl::MutexLock lock(&runner_.mu_);
    runner_.failure_ = absl::UnauthenticatedError("token server refused the credentials (HTTP 401)");
  }
  runner_.Release();
  const std::string id = json::parse(Send("POST", "/api/v1/scan", ValidBody()).body)["id"];
  HttpResponse failed = PollReport(id);
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.Header("Content-Type"), "application/vnd.scanner.adapter.error+json; version=1.0");
  EXPECT_THAT(json::parse(failed.body)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("refused the credentials"));
  EXPECT_EQ(Send("GET", "/api/v1/scan/nope/report").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/scan//report").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/other").status, 404);
}

TEST_F(HarborAdapterTest, BadScanRequestsNameTheField) {
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  const std::string art = R"("artifact":{"repository":"library/mongo","digest":")" + kDigest + R"("})";
  const std::vector<Case> cases = {
      {"", 400, ""},
      {"{", 400, ""},
      {"[1]", 400, ""},
      {"{}", 422, "registry"},
      {R"({"registry":"x",)" + art + "}", 422, "registry"},
      {R"({"registry":{},)" + art + "}", 422, "registry.url"},
      {R"({"registry":{"url":5},)" + art + "}", 422, "registry.url"},
      {R"({"registry":{"url":"ftp://x"},)" + art + "}", 422, "registry.url"},
      {R"({"registry":{"url":"https://"},)" + art + "}", 422, "registry.url"},
      {R"({"registry":{"url":"https://r","authorization":"Digest x"},)" + art + "}", 422, "registry.authorization"},
      {R"({"registry":{"url":"https://r"}})", 422, "artifact"},
      {R"({"registry":{"url":"https://r"},"artifact":{"digest":")" + kDigest + R"("}})", 422, "artifact.repository"},
      {R"({"registry":{"url":"https://r"},"artifact":{"repository":"Bad Name","digest":")" + kDigest + R"("}})", 422,
       "artifact.repository"},
      {R"({"registry":{"url":"https://r"},"artifact":{"repository":"a/b"}})", 422, "artifact.digest"},
      {R"({"registry":{"url":"https://r"},"artifact":{"repository":"a/b","digest":"sha256:zz"}})", 422,
       "artifact.digest"},
      {R"({"registry":{"url":"https://r"},"artifact":{"repository":"a/b","digest":")" + kDigest +
           R"(","tag":"-bad"}})",
       422, "artifact.tag"},
      {R"({"registry":{"url":"https://r"},"artifact":{"repository":"a/b","digest":")" + kDigest +
           R"(","mime_type":"application/vnd.cncf.helm.config.v1+json"}})",
       501, ""},
      {R"({"registry":{"url":"https://r"},)" + art + R"(,"enabled_capabilities":[{"type":"sbom"}]})", 501, ""},
      {R"({"registry":{"url":"https://r"},)" + art + R"(,"enabled_capabilities":{}})", 422, "enabled_capabilities"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    HttpResponse r = Send("POST", "/api/v1/scan", c.body);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), "application/vnd.scanner.adapter.error+json; version=1.0");
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
    if (!c.field.empty()) {
      EXPECT_EQ(j["error"]["field"], c.field);
    }
  }
  absl::MutexLock lock(&runner_.mu_);
  EXPECT_TRUE(runner_.requests_.empty());
  EXPECT_EQ(Send("GET", "/api/v1/scan").status, 405);
}

TEST_F(HarborAdapterTest, BearerTokenWhenConfigured) {
  Make("s3cret");
  HttpResponse none = Send("GET", "/api/v1/metadata");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Send("GET", "/api/v1/metadata", "", {{"authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/metadata", "", {{"authorization", "Basic czNjcmV0"}}).status, 401);
  EXPECT_EQ(Send("POST", "/api/v1/scan", ValidBody(), {{"authorization", "Bearer s3cre"}}).status, 401);
  EXPECT_EQ(Send("GET", "/api/v1/metadata", "", {{"authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(Send("POST", "/api/v1/scan", ValidBody(), {{"authorization", "bearer s3cret"}}).status, 202);
}

TEST_F(HarborAdapterTest, OldestFinishedScansAreForgotten) {
  runner_.Release();
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    HttpResponse r = Send("POST", "/api/v1/scan", ValidBody());
    ASSERT_EQ(r.status, 202);
    ids.push_back(json::parse(r.body)["id"]);
    ASSERT_EQ(PollReport(ids.back()).status, 200);
  }
  EXPECT_EQ(Send("GET", "/api/v1/scan/" + ids[0] + "/report").status, 404);
  EXPECT_EQ(Send("GET", "/api/v1/scan/" + ids[11] + "/report").status, 200);
}

}  // namespace
}  // namespace portunus::scanner
