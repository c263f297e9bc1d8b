#include "services/scanner/feed_parsers.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Kind = RangeEvent::Kind;

constexpr char kDsa[] = R"({
  "schema_version": "1.6.0",
  "id": "DSA-5532-1",
  "summary": "openssl - security update",
  "details": "Several vulnerabilities were found in OpenSSL.",
  "aliases": ["CVE-2023-5363", "CVE-2023-5678"],
  "modified": "2023-10-26T12:00:00.123Z",
  "published": "2023-10-24T00:00:00Z",
  "references": [{"type": "ADVISORY", "url": "https://www.debian.org/security/2023/dsa-5532"}],
  "affected": [
    {"package": {"ecosystem": "Debian:12", "name": "openssl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}],
     "ecosystem_specific": {"urgency": "high"}},
    {"package": {"ecosystem": "Debian:11", "name": "openssl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u1"}]}]},
    {"package": {"ecosystem": "Debian", "name": "openssl"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}
  ]
})";

TEST(OsvParserTest, ParsesADebianAdvisory) {
  FeedData data;
  ASSERT_TRUE(ParseOsv(kDsa, "osv", &data).ok());
  ASSERT_EQ(data.vulnerabilities.size(), 1u);
  const Vulnerability& v = data.vulnerabilities[0];
  EXPECT_EQ(v.id, "DSA-5532-1");
  EXPECT_EQ(v.summary, "openssl - security update");
  EXPECT_EQ(v.description, "Several vulnerabilities were found in OpenSSL.");
  EXPECT_THAT(v.aliases, ElementsAre("CVE-2023-5363", "CVE-2023-5678"));
  EXPECT_THAT(v.links, ElementsAre("https://www.debian.org/security/2023/dsa-5532"));
  EXPECT_EQ(v.modified, absl::FromUnixMillis(1698321600123));
  ASSERT_EQ(data.affected.size(), 2u);
  EXPECT_EQ(data.affected[0].ecosystem, "debian:12");
  EXPECT_EQ(data.affected[0].package, "openssl");
  EXPECT_EQ(data.affected[0].scheme, VersionScheme::kDpkg);
  EXPECT_EQ(data.affected[0].severity, Severity::kHigh);
  EXPECT_EQ(data.affected[0].source, "osv");
  EXPECT_THAT(data.affected[0].ranges,
              ElementsAre(AffectedRange{{Kind::kIntroduced, "0"}, {Kind::kFixed, "3.0.11-1~deb12u2"}}));
  EXPECT_EQ(data.affected[1].ecosystem, "debian:11");
  EXPECT_EQ(data.skipped, 1);  // "Debian" without a release
}

TEST(OsvParserTest, SeveritiesRangesTypesArraysAndWithdrawn) {
  constexpr char kRecords[] = R"([
    {"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-01-01T00:00:00Z",
     "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
     "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                   "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.3.1"}]},
                              {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}],
                   "versions": ["1.0.0", "1.1.0"]}]},
    {"id": "UBUNTU-CVE-2024-1", "severity": [{"type": "Ubuntu", "score": "medium"}],
     "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "curl"},
                   "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.81.0-1ubuntu1.16"}]}]}]},
    {"id": "GHSA-zzzz-zzzz-zzzz", "database_specific": {"severity": "MODERATE"}},
    {"id": "OLD-1", "withdrawn": "2024-02-02T00:00:00Z", "affected": []}
  ])";
  FeedData data;
  absl::Status s = ParseOsv(kRecords, "osv", &data);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(data.vulnerabilities.size(), 3u);
  EXPECT_EQ(data.vulnerabilities[0].severity, Severity::kCritical);
  EXPECT_EQ(data.vulnerabilities[0].cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  EXPECT_THAT(data.vulnerabilities[0].links, ElementsAre("https://osv.dev/vulnerability/GHSA-aaaa-bbbb-cccc"));
  EXPECT_EQ(data.vulnerabilities[1].severity, Severity::kMedium);
  EXPECT_EQ(data.vulnerabilities[2].severity, Severity::kMedium);
  EXPECT_THAT(data.withdrawn, ElementsAre("OLD-1"));
  ASSERT_EQ(data.affected.size(), 2u);
  EXPECT_EQ(data.affected[0].scheme, VersionScheme::kSemver);
  EXPECT_THAT(data.affected[0].versions, ElementsAre("1.0.0", "1.1.0"));
  EXPECT_EQ(data.affected[1].ecosystem, "ubuntu:22.04");
  EXPECT_EQ(data.skipped, 1);  // the GIT range
}

TEST(OsvParserTest, RejectsGarbage) {
  struct Bad {
    std::string json, reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"{", "not valid JSON"},
           {"42", "not a JSON object"},
           {R"({"id": ""})", "invalid id"},
           {R"({"id": "a b"})", "invalid id"},
           {R"({"id": "X-1", "affected": {}})", "affected is not an array"},
           {R"({"id": "X-1", "affected": [{"package": {"name": "a"}}]})", "without package ecosystem"},
           {R"({"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER"}]}]})",
            "range without events"},
           {R"({"id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"broken": "1"}]}]}]})",
            "unknown range event"},
           {std::string(100, '[') + std::string(100, ']'), "nested deeper"},
       }) {
    FeedData data;
    absl::Status s = ParseOsv(b.json, "osv", &data);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << b.reason;
    EXPECT_THAT(std::string(s.message()), HasSubstr(b.reason));
  }
}

constexpr char kTracker[] = R"({
  "openssl": {
    "CVE-2023-5678": {
      "description": "Generating excessively long X9.42 DH keys ...",
      "scope": "remote",
      "releases": {
        "bookworm": {"status": "resolved", "repositories": {"bookworm": "3.0.11-1~deb12u2"},
                     "fixed_version": "3.0.11-1~deb12u2", "urgency": "low"},
        "bullseye": {"status": "open", "repositories": {"bullseye": "1.1.1w-0+deb11u1"}, "urgency": "low**"},
        "sid": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"},
        "trixie": {"status": "undetermined", "urgency": "not yet assigned"},
        "experimental": {"status": "open"}
      }
    },
    "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "open", "urgency": "unimportant"}}}
  },
  "zlib": {
    "CVE-2023-5678": {"releases": {"bookworm": {"status": "open", "urgency": "not yet assigned"}}},
    "CVE-2022-37434": {"description": "zlib through 1.2.12 ...", "debianbug": 1016710,
      "releases": {"bookworm": {"status": "resolved", "fixed_version": "1:1.2.11.dfsg-4.1", "urgency": "high"}}}
  }
})";

TEST(DebianTrackerParserTest, ParsesReleasesStatusesAndUrgencies) {
  std::istringstream in(kTracker);
  absl::StatusOr<FeedData> data = ParseDebianTracker(in, "debian-security-tracker");
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->affected.size(), 5u);
  const Affected& fixed = data->affected[0];
  EXPECT_EQ(fixed.vuln_id, "CVE-2023-5678");
  EXPECT_EQ(fixed.ecosystem, "debian:12");
  EXPECT_EQ(fixed.package, "openssl");
  EXPECT_EQ(fixed.severity, Severity::kLow);
  EXPECT_THAT(fixed.ranges, ElementsAre(AffectedRange{{Kind::kIntroduced, "0"}, {Kind::kFixed, "3.0.11-1~deb12u2"}}));
  const Affected& open = data->affected[1];
  EXPECT_EQ(open.ecosystem, "debian:11");
  EXPECT_EQ(open.severity, Severity::kLow);
  EXPECT_THAT(open.ranges, ElementsAre(AffectedRange{{Kind::kIntroduced, "0"}}));
  EXPECT_EQ(data->affected[2].vuln_id, "TEMP-0000000-ABCDEF");
  EXPECT_EQ(data->affected[2].severity, Severity::kNegligible);
  EXPECT_EQ(data->affected[3].package, "zlib");
  EXPECT_EQ(data->affected[3].severity, Severity::kUnknown);
  EXPECT_EQ(data->skipped, 3);  // sid not affected, trixie undetermined, experimental unknown
  ASSERT_EQ(data->vulnerabilities.size(), 3u);
  EXPECT_EQ(data->vulnerabilities[0].id, "CVE-2022-37434");
  EXPECT_EQ(data->vulnerabilities[1].id, "CVE-2023-5678");
  EXPECT_EQ(data->vulnerabilities[1].description, "Generating excessively long X9.42 DH keys ...");
  EXPECT_THAT(data->vulnerabilities[1].links,
              ElementsAre("https://security-tracker.debian.org/tracker/CVE-2023-5678",
                          "https://nvd.nist.gov/vuln/detail/CVE-2023-5678"));
}

TEST(DebianTrackerParserTest, RejectsGarbage) {
  for (std::string bad : {"[]", "\"x\"", "{\"a\": {", "{} {}", "nonsense"}) {
    std::istringstream in(bad);
    absl::StatusOr<FeedData> data = ParseDebianTracker(in, "d");
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  std::istringstream deep(std::string(200, '{'));
  EXPECT_EQ(ParseDebianTracker(deep, "d").status().code(), absl::StatusCode::kInvalidArgument);
}

constexpr char kSecdb[] = R"json({
  "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
  "archs": ["x86_64"], "reponame": "main", "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
  "distroversion": "v3.18",
  "packages": [
    {"pkg": {"name": "openssl", "secfixes": {
       "3.1.4-r0": ["CVE-2023-5363"],
       "3.1.1-r0": ["CVE-2023-2650 CVE-2023-1255"],
       "0": ["CVE-2022-1234"]}}},
    {"pkg": {"name": "busybox", "secfixes": {"1.36.1-r1": ["CVE-2022-48174 (not a real note)"]}}}
  ]
})json";

TEST(AlpineSecdbParserTest, ParsesFixes) {
  std::string suffix;
  absl::StatusOr<FeedData> data = ParseAlpineSecdb(kSecdb, "alpine-secdb", &suffix);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(suffix, "v3.18/main");
  ASSERT_EQ(data->affected.size(), 4u);
  for (const Affected& a : data->affected) {
    EXPECT_EQ(a.ecosystem, "alpine:3.18");
    EXPECT_EQ(a.scheme, VersionScheme::kApk);
  }
  EXPECT_EQ(data->affected[0].vuln_id, "CVE-2023-2650");
  EXPECT_THAT(data->affected[0].ranges,
              ElementsAre(AffectedRange{{Kind::kIntroduced, "0"}, {Kind::kFixed, "3.1.1-r0"}}));
  EXPECT_EQ(data->affected[1].vuln_id, "CVE-2023-1255");
  EXPECT_EQ(data->affected[3].package, "busybox");
  EXPECT_EQ(data->affected[3].vuln_id, "CVE-2022-48174");
  EXPECT_EQ(data->skipped, 1);
  EXPECT_EQ(data->vulnerabilities.size(), 4u);
}

TEST(AlpineSecdbParserTest, RejectsGarbage) {
  for (std::string bad : {"[]", R"({"distroversion": "v3.18"})", R"({"packages": []})",
                          R"({"distroversion": "v3.18", "packages": [{"pkg": {}}]})",
                          R"({"distroversion": "v3.18", "packages": [{"pkg": {"name": "a", "secfixes": {"1": "x"}}}]})"}) {
    EXPECT_EQ(ParseAlpineSecdb(bad, "a", nullptr).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(FeedFormatTest, DetectsFromTheFirstKey) {
  EXPECT_EQ(*DetectFeedFormat(kDsa), FeedFormat::kOsv);
  EXPECT_EQ(*DetectFeedFormat(" [ {\"id\": 1} ]"), FeedFormat::kOsv);
  EXPECT_EQ(*DetectFeedFormat("{\"id\": \"X\"}"), FeedFormat::kOsv);
  EXPECT_EQ(*DetectFeedFormat(kTracker), FeedFormat::kDebianTracker);
  EXPECT_EQ(*DetectFeedFormat(kSecdb), FeedFormat::kAlpineSecdb);
  EXPECT_EQ(DetectFeedFormat("PK\x03\x04").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace portunus::scanner
