#include "services/scanner/advisory.h"

#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using Kind = RangeEvent::Kind;

TEST(SeverityTest, NamesAndFeedWords) {
  Severity s;
  for (auto [text, want] : std::vector<std::pair<const char*, Severity>>{
           {"unknown", Severity::kUnknown}, {"Negligible", Severity::kNegligible},
           {"unimportant", Severity::kNegligible}, {"LOW", Severity::kLow},
           {"moderate", Severity::kMedium}, {"Medium", Severity::kMedium},
           {"important", Severity::kHigh}, {"high", Severity::kHigh},
           {"CRITICAL", Severity::kCritical}}) {
    ASSERT_TRUE(ParseSeverity(text, &s)) << text;
    EXPECT_EQ(s, want) << text;
  }
  EXPECT_FALSE(ParseSeverity("not yet assigned", &s));
  EXPECT_EQ(SeverityName(Severity::kCritical), "Critical");
}

TEST(SeverityTest, CvssV3BaseScoresFollowTheSpecification) {
  struct Case {
    const char* vector;
    double score;
  };
  for (const Case& c : std::vector<Case>{
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0},
           {"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9},
           {"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9},
           {"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
           {"CVSS:3.0/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6},
           {"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0},
       }) {
    std::optional<double> score = CvssV3BaseScore(c.vector);
    ASSERT_TRUE(score.has_value()) << c.vector;
    EXPECT_DOUBLE_EQ(*score, c.score) << c.vector;
  }
  EXPECT_FALSE(CvssV3BaseScore("CVSS:2.0/AV:N").has_value());
  EXPECT_FALSE(CvssV3BaseScore("CVSS:3.1/AV:N/AC:L").has_value());
  EXPECT_FALSE(CvssV3BaseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").has_value());
  EXPECT_EQ(SeverityFromCvss(9.8), Severity::kCritical);
  EXPECT_EQ(SeverityFromCvss(7.0), Severity::kHigh);
  EXPECT_EQ(SeverityFromCvss(6.9), Severity::kMedium);
  EXPECT_EQ(SeverityFromCvss(0.1), Severity::kLow);
  EXPECT_EQ(SeverityFromCvss(0.0), Severity::kNegligible);
}

Affected Deb(std::vector<AffectedRange> ranges, std::vector<std::string> versions = {}) {
  Affected a;
  a.scheme = VersionScheme::kDpkg;
  a.ranges = std::move(ranges);
  a.versions = std::move(versions);
  return a;
}

TEST(EvaluateAffectedTest, FixedRanges) {
  Affected a = Deb({{{Kind::kIntroduced, "0"}, {Kind::kFixed, "3.0.11-1~deb12u2"}}});
  EXPECT_TRUE(EvaluateAffected(a, "3.0.9-1").affected);
  EXPECT_EQ(EvaluateAffected(a, "3.0.9-1").fixed_version, "3.0.11-1~deb12u2");
  EXPECT_TRUE(EvaluateAffected(a, "3.0.11-1~deb12u1").affected);
  EXPECT_FALSE(EvaluateAffected(a, "3.0.11-1~deb12u2").affected);
  EXPECT_FALSE(EvaluateAffected(a, "3.0.11-1").affected);
}

TEST(EvaluateAffectedTest, UnfixedIntroducedLastAffectedAndVersions) {
  Affected unfixed = Deb({{{Kind::kIntroduced, "0"}}});
  AffectedVerdict v = EvaluateAffected(unfixed, "1.0-1");
  EXPECT_TRUE(v.affected);
  EXPECT_EQ(v.fixed_version, "");

  Affected window = Deb({{{Kind::kIntroduced, "2.0"}, {Kind::kFixed, "2.5"}},
                         {{Kind::kIntroduced, "3.0"}, {Kind::kLastAffected, "3.2"}}});
  EXPECT_FALSE(EvaluateAffected(window, "1.9").affected);
  EXPECT_TRUE(EvaluateAffected(window, "2.0").affected);
  EXPECT_EQ(EvaluateAffected(window, "2.4").fixed_version, "2.5");
  EXPECT_FALSE(EvaluateAffected(window, "2.5").affected);
  EXPECT_TRUE(EvaluateAffected(window, "3.2").affected);
  EXPECT_EQ(EvaluateAffected(window, "3.2").fixed_version, "");
  EXPECT_FALSE(EvaluateAffected(window, "3.2.1").affected);

  Affected listed = Deb({}, {"1.0-1", "1.0-2"});
  EXPECT_TRUE(EvaluateAffected(listed, "1.0-2").affected);
  EXPECT_FALSE(EvaluateAffected(listed, "1.0-3").affected);

  Affected everything = Deb({});
  EXPECT_TRUE(EvaluateAffected(everything, "9.9").affected);

  // Events in any order; several fixes in one range (a backport and the mainline fix).
  Affected multi = Deb({{{Kind::kFixed, "2.0"}, {Kind::kIntroduced, "0"}, {Kind::kIntroduced, "2.1"},
                         {Kind::kFixed, "2.3"}}});
  EXPECT_EQ(EvaluateAffected(multi, "1.5").fixed_version, "2.0");
  EXPECT_FALSE(EvaluateAffected(multi, "2.0.5").affected);
  EXPECT_EQ(EvaluateAffected(multi, "2.2").fixed_version, "2.3");
}

TEST(EvaluateAffectedTest, UsesTheEcosystemsVersionRules) {
  Affected apk;
  apk.scheme = VersionScheme::kApk;
  apk.ranges = {{{Kind::kIntroduced, "0"}, {Kind::kFixed, "3.1.4-r1"}}};
  EXPECT_TRUE(EvaluateAffected(apk, "3.1.4-r0").affected);
  EXPECT_TRUE(EvaluateAffected(apk, "3.1.4_rc1-r5").affected);
  EXPECT_FALSE(EvaluateAffected(apk, "3.1.4_p1-r0").affected);

  Affected rpm;
  rpm.scheme = VersionScheme::kRpm;
  rpm.ranges = {{{Kind::kIntroduced, "0"}, {Kind::kFixed, "1:3.0.7-18.el9"}}};
  EXPECT_TRUE(EvaluateAffected(rpm, "1:3.0.7-16.el9_2").affected);
  EXPECT_FALSE(EvaluateAffected(rpm, "1:3.0.7-18.el9").affected);
  EXPECT_FALSE(EvaluateAffected(rpm, "2:1.0-1").affected);
}

}  // namespace
}  // namespace portunus::scanner
