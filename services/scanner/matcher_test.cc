#include "services/scanner/matcher.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using Kind = RangeEvent::Kind;

Affected Adv(std::string id, std::string eco, std::string pkg, VersionScheme scheme,
             std::string fixed, Severity sev = Severity::kUnknown) {
  Affected a;
  a.vuln_id = std::move(id);
  a.source = "test";
  a.ecosystem = std::move(eco);
  a.package = std::move(pkg);
  a.scheme = scheme;
  AffectedRange r{{Kind::kIntroduced, "0"}};
  if (!fixed.empty()) r.push_back({Kind::kFixed, fixed});
  a.ranges.push_back(r);
  a.severity = sev;
  return a;
}

Inventory DebianInventory() {
  Inventory inv;
  inv.os.id = "debian";
  inv.os.version_id = "12";
  inv.packages = {
      {PackageFormat::kDpkg, "libssl3", "3.0.11-1~deb12u1", "amd64", "openssl", "3.0.11-1~deb12u1"},
      {PackageFormat::kDpkg, "openssl", "3.0.11-1~deb12u1", "amd64", "openssl", "3.0.11-1~deb12u1"},
      {PackageFormat::kDpkg, "zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1"},
      {PackageFormat::kDpkg, "bash", "5.2.15-2+b2", "amd64", "bash", "5.2.15-2"},
  };
  return inv;
}

TEST(MatcherTest, MatchesBySourcePackageWithinTheDistroRelease) {
  AdvisoryIndex index;
  index.Add(Adv("CVE-2023-5678", "debian:12", "openssl", VersionScheme::kDpkg, "3.0.11-1~deb12u2", Severity::kLow));
  index.Add(Adv("CVE-2023-9999", "debian:11", "openssl", VersionScheme::kDpkg, ""));  // other release
  index.Add(Adv("CVE-2022-37434", "debian:12", "zlib", VersionScheme::kDpkg, "1:1.2.11.dfsg-4.1"));  // fixed before
  index.Add(Adv("CVE-2023-0001", "debian:12", "bash", VersionScheme::kDpkg, ""));  // unfixed
  index.AddVulnerability("CVE-2023-0001", Severity::kHigh, {});
  index.Add(Adv("CVE-2023-0002", "alpine:3.18", "bash", VersionScheme::kApk, ""));

  MatchResult r = Match(DebianInventory(), index);
  EXPECT_EQ(r.ecosystem, "debian:12");
  EXPECT_THAT(r.findings,
              ElementsAre(Finding{"CVE-2023-0001", Severity::kHigh, "bash", "5.2.15-2+b2", "", "bash",
                                  PackageFormat::kDpkg, "amd64"},
                          Finding{"CVE-2023-5678", Severity::kLow, "libssl3", "3.0.11-1~deb12u1",
                                  "3.0.11-1~deb12u2", "openssl", PackageFormat::kDpkg, "amd64"},
                          Finding{"CVE-2023-5678", Severity::kLow, "openssl", "3.0.11-1~deb12u1",
                                  "3.0.11-1~deb12u2", "openssl", PackageFormat::kDpkg, "amd64"}));
}

TEST(MatcherTest, MergesFeedsAndDropsAdvisoriesCoveredByTheirCves) {
  AdvisoryIndex index;
  // The tracker knows the CVE but not the fix yet; OSV's DSA knows the fix.
  index.Add(Adv("CVE-2023-5678", "debian:12", "openssl", VersionScheme::kDpkg, ""));
  index.Add(Adv("CVE-2023-5678", "debian:12", "openssl", VersionScheme::kDpkg, "3.0.11-1~deb12u2", Severity::kMedium));
  index.Add(Adv("DSA-5532-1", "debian:12", "openssl", VersionScheme::kDpkg, "3.0.11-1~deb12u2"));
  index.AddVulnerability("DSA-5532-1", Severity::kUnknown, {"CVE-2023-5678"});
  index.Add(Adv("DSA-5555-1", "debian:12", "openssl", VersionScheme::kDpkg, "3.0.11-1~deb12u2"));
  index.AddVulnerability("DSA-5555-1", Severity::kUnknown, {"CVE-2023-5678", "CVE-2023-7777"});

  Inventory inv = DebianInventory();
  inv.packages.resize(2);
  inv.packages.erase(inv.packages.begin());  // openssl only
  MatchResult r = Match(inv, index);
  ASSERT_EQ(r.findings.size(), 2u);
  EXPECT_EQ(r.findings[0], (Finding{"CVE-2023-5678", Severity::kMedium, "openssl", "3.0.11-1~deb12u1",
                                    "3.0.11-1~deb12u2", "openssl", PackageFormat::kDpkg, "amd64"}));
  EXPECT_EQ(r.findings[1].vuln_id, "DSA-5555-1");  // CVE-2023-7777 is not reported on its own
}

TEST(MatcherTest, AlpineAndRpmImagesUseTheirOwnVersionRules) {
  AdvisoryIndex index;
  index.Add(Adv("CVE-2023-5363", "alpine:3.18", "openssl", VersionScheme::kApk, "3.1.4-r0"));
  index.Add(Adv("CVE-2023-1111", "rocky:9", "openssl", VersionScheme::kRpm, "1:3.0.7-18.el9"));
  Inventory alpine;
  alpine.os.id = "alpine";
  alpine.os.version_id = "3.18.4";
  alpine.packages = {{PackageFormat::kApk, "libcrypto3", "3.1.3-r0", "x86_64", "openssl", "3.1.3-r0"},
                     {PackageFormat::kApk, "libssl3", "3.1.4-r0", "x86_64", "openssl", "3.1.4-r0"}};
  MatchResult r = Match(alpine, index);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].package, "libcrypto3");
  EXPECT_EQ(r.findings[0].fixed_version, "3.1.4-r0");

  Inventory rocky;
  rocky.os.id = "rocky";
  rocky.os.version_id = "9.3";
  rocky.packages = {{PackageFormat::kRpm, "openssl-libs", "1:3.0.7-16.el9_2", "x86_64", "openssl",
                     "1:3.0.7-16.el9_2"}};
  r = Match(rocky, index);
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].vuln_id, "CVE-2023-1111");
}

TEST(MatcherTest, UnknownOsMatchesNothing) {
  AdvisoryIndex index;
  index.Add(Adv("CVE-1", "debian:12", "bash", VersionScheme::kDpkg, ""));
  Inventory inv = DebianInventory();
  inv.os = OsRelease{};
  MatchResult r = Match(inv, index);
  EXPECT_EQ(r.ecosystem, "");
  EXPECT_TRUE(r.findings.empty());
}

}  // namespace
}  // namespace portunus::scanner
