#include "services/scanner/version_compare.h"

#include <rpm/rpmver.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

struct Case {
  const char* a;
  char op;  // '<', '=', '>'
  const char* b;
};

int Expected(char op) { return op == '<' ? -1 : (op == '>' ? 1 : 0); }
int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

void ExpectOrdered(VersionScheme scheme, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(Sign(CompareVersions(scheme, c.a, c.b)), Expected(c.op))
        << VersionSchemeName(scheme) << ": " << c.a << " " << c.op << " " << c.b;
    // Antisymmetry: the reverse comparison must give the opposite answer.
    EXPECT_EQ(Sign(CompareVersions(scheme, c.b, c.a)), -Expected(c.op))
        << VersionSchemeName(scheme) << " reversed: " << c.b << " vs " << c.a;
  }
}

// ---------------------------------------------------------------- dpkg

TEST(DpkgVersionTest, OrdersLikeDpkg) {
  ExpectOrdered(VersionScheme::kDpkg, {
      // Epochs win over everything; an absent epoch is 0.
      {"0:0-0", '=', "0:0-0"},
      {"0:0-0", '<', "1:0-0"},
      {"1.0", '=', "0:1.0"},
      {"1:0.1", '>', "2.0"},
      {"2:1.0", '>', "1:9.9"},
      {"10:1", '>', "9:1"},
      // Upstream and revision.
      {"0:1-0", '<', "0:2-0"},
      {"0:1-0", '<', "0:1-1"},
      {"1.0", '<', "1.0-1"},
      {"1.0-0", '=', "1.0"},  // an absent revision compares like "0"
      {"1.0-1", '<', "1.0-1.1"},
      {"1.0-1", '<', "1.0-1ubuntu0.1"},
      {"1.2.3", '<', "1.2.3.0"},
      {"1.01", '=', "1.1"},
      {"0", '=', "00"},
      {"2.30-1", '>', "2.3-1"},
      {"1.10", '>', "1.9"},
      // '~' sorts before everything, even the end of the string.
      {"~~", '<', "~~a"},
      {"~~a", '<', "~"},
      {"~", '<', ""},
      {"1.0~rc1-1", '<', "1.0-1"},
      {"1.0~rc1", '<', "1.0~rc2"},
      {"1.0~~", '<', "1.0~"},
      {"1.2.3~", '<', "1.2.3"},
      {"3.0.11-1~deb12u2", '<', "3.0.11-1"},
      {"3.0.11-1~deb12u2", '>', "3.0.11-1~deb12u1"},
      {"2.36.1-8+deb12u1", '>', "2.36.1-8"},
      // Letters sort before non-letters.
      {"1.0a", '<', "1.0+"},
      {"1.0a", '<', "1.0."},
      {"1.0+dfsg-1", '>', "1.0-1"},
      {"1.0+dfsg", '<', "1.0.1"},  // '+' vs '.' : '+' (43) < '.' (46)
      {"7.6p2-4", '>', "7.6-0"},
      {"1:1.2.13.dfsg-1", '>', "1:1.2.13-1"},
      {"1.2.13.dfsg-1", '<', "1.2.13.dfsg1-1"},
      {"a", '>', ""},
      {"1-1-1", '>', "1-1"},  // revision is after the last hyphen: "1-1" vs "1"
      {"0.9.8-3", '<', "0.9.10-1"},
  });
}

TEST(DpkgVersionTest, ParsesLikeDpkg) {
  auto v = ParseDpkgVersion("  1:2.3-4+b1 ");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->epoch, 1u);
  EXPECT_EQ(v->upstream, "2.3");
  EXPECT_EQ(v->revision, "4+b1");

  v = ParseDpkgVersion("1.0-2-3");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->upstream, "1.0-2");
  EXPECT_EQ(v->revision, "3");

  for (const char* bad : {"", "   ", "1 0", "a:1.0", ":1.0", "1:", "1.0-", "-1",
                          "99999999999:1", "1:-1"}) {
    EXPECT_EQ(ParseDpkgVersion(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // dpkg only warns about these; so do we (they are accepted).
  EXPECT_TRUE(ParseDpkgVersion("a1.0").ok());
  EXPECT_TRUE(ParseDpkgVersion("1.0_1").ok());
}

// Runs `dpkg --compare-versions a op b`; returns its exit code or -1 when dpkg cannot run.
int DpkgSays(const std::string& a, const char* op, const std::string& b) {
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    execlp("dpkg", "dpkg", "--compare-versions", a.c_str(), op, b.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// Differential check against the real dpkg on random valid versions (seeded, so repeatable).
TEST(DpkgVersionTest, AgreesWithDpkgOnRandomVersions) {
  if (DpkgSays("1", "lt", "2") != 0) GTEST_SKIP() << "dpkg is not available";
  std::mt19937 rng(20261122);
  const std::string upstream_chars = "0123456789abz.~+";
  const std::string revision_chars = "0123456789az.~+";
  auto random_part = [&](const std::string& alphabet, int max_len) {
    std::string s(1, static_cast<char>('0' + rng() % 10));
    const int len = static_cast<int>(rng() % static_cast<unsigned>(max_len));
    for (int k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    return s;
  };
  auto random_version = [&] {
    std::string v;
    if (rng() % 4 == 0) v += std::to_string(rng() % 3) + ":";
    v += random_part(upstream_chars, 6);
    if (rng() % 2 == 0) v += "-" + random_part(revision_chars, 4);
    return v;
  };
  for (int k = 0; k < 150; ++k) {
    std::string a = random_version();
    // Often compare near-identical versions: that is where the rules matter.
    std::string b = rng() % 2 ? random_version() : a + (rng() % 2 ? "~" : "a");
    if (rng() % 3 == 0) b = a;
    const int ours = Sign(CompareDpkgVersions(a, b));
    const char* op = ours < 0 ? "lt" : (ours > 0 ? "gt" : "eq");
    EXPECT_EQ(DpkgSays(a, op, b), 0) << a << " " << op << " " << b << " (dpkg disagrees)";
  }
}

// ---------------------------------------------------------------- apk

TEST(ApkVersionTest, OrdersLikeApkTools) {
  ExpectOrdered(VersionScheme::kApk, {
      {"2.34", '>', "0.1.0_alpha"},
      {"23_foo", '>', "4_beta"},
      {"1.0", '<', "1.0bc"},  // invalid after "1.0b": the valid prefix decides
      {"0.1.0_alpha", '=', "0.1.0_alpha"},
      {"0.1.0_alpha2", '>', "0.1.0_alpha"},
      {"1.1", '>', "1.1_alpha1"},
      {"1.2", '<', "1.3_alpha"},
      {"0.8_beta4", '<', "4.8-r1"},
      {"2.3.0b-r1", '<', "2.3.0b-r2"},
      {"0.12.3", '>', "0.12"},
      {"1.2.11", '<', "1.2.12.1"},
      {"3.1_p16", '<', "3.1_p17"},
      {"1.06-r6", '<', "006"},
      {"1.2.2-r1", '>', "1.2.2"},
      {"9.3.4-r2", '>', "9.3.4"},
      {"3.9.8-r5", '>', "2.01.01_alpha10"},
      {"2.01.01_alpha10", '>', "0.94"},
      {"0.99.3.20040818", '<', "1.0"},
      {"1.39", '>', "1.00_beta2"},
      {"20050718-r1", '<', "20050718-r2"},
      {"2.0.0_rc3-r1", '>', "1.5"},
      {"3.0.0-r2", '<', "021109-r3"},
      {"021109-r3", '<', "20060512"},
      {"3.9_pre20060124", '>', "0.01"},
      {"1.1.7", '<', "6b-r7"},
      {"0.10.0", '<', "0.10.1_rc1"},
      {"0.15.1b", '<', "1.0.1"},
      {"2.2.3-r2", '<', "013"},
      {"013", '<', "014-r1"},
      {"2.5.1-r8", '<', "2.5.1a-r1"},
      {"20040406-r1", '>', "2.12r-r4"},
      {"2.12r-r4", '<', "2.12r-r5"},
      {"7.0.17", '<', "7.0.174"},
      {"0.20070118", '<', "0.20070207_rc1"},
      {"0.20070207_rc1", '<', "1.0"},
      {"4.5_p1-r1", '>', "4.5_p1"},
      {"4.5_p1", '>', "0.9.8c-r1"},
      {"0.9.8c-r1", '<', "0.9.8d"},
      {"1.7", '<', "1.7b"},
      {"1.8.5", '<', "1.8.5_p2"},
      {"1.6.8_p12-r1", '>', "1.6.8_p9-r2"},
      {"0.9.28-r2", '<', "0.9.28.1"},
      {"0.9.28.1", '<', "087-r1"},
      {"104-r11", '>', "104-r9"},
      {"1.2.5_rc2", '>', "0.1"},
      {"1.1.1-r3", '>', "0.3.4_pre20061029"},
      {"1.2.9.1-r1", '>', "1.2.9.1"},
      {"1.3-r0", '<', "1.3.1-r0"},
      {"1.3_pre1-r1", '<', "1.3.2"},
      {"1.0_p10-r0", '>', "1.0_p9-r0"},
      {"0.1.0_alpha_pre2", '<', "0.1.0_alpha"},
      {"1.0.0_pre20191002222144-r0", '<', "1.0.0_pre20210530193627-r0"},
      // Leading zeros compare as strings.
      {"1.05", '<', "1.5"},
      {"1.005", '<', "1.05"},
      {"1.0", '<', "1.00"},
      {"8.2.01", '>', "8.2.001"},
      // Suffix order: alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p.
      {"1.0_alpha", '<', "1.0_beta"},
      {"1.0_beta", '<', "1.0_pre"},
      {"1.0_pre", '<', "1.0_rc"},
      {"1.0_rc", '<', "1.0"},
      {"1.0", '<', "1.0_cvs"},
      {"1.0_cvs", '<', "1.0_svn"},
      {"1.0_svn", '<', "1.0_git"},
      {"1.0_git", '<', "1.0_hg"},
      {"1.0_hg", '<', "1.0_p"},
      {"1.0_alpha_pre", '<', "1.0_alpha_rc1"},
      {"1.0_alpha_rc1", '<', "1.0_beta_pre"},
      // Commit hashes and revisions.
      {"1.0~abc", '<', "1.0~abd"},
      {"1.0~abc", '=', "1.0~abc"},
      {"1.0~1234-r1", '<', "1.0~2345-r0"},
      {"1.0", '<', "1.0~abc"},
      {"1.0~abc", '>', "1.0-r1"},  // the token nearer the end of the grammar sorts lower
      {"1.0-r0", '=', "1.0-r0"},
      {"1.0-r0", '>', "1.0"},
      {"1.0-r10", '>', "1.0-r9"},
      // Real Alpine fixes.
      {"3.0.7-r0", '<', "3.0.7-r2"},
      {"1.1.1q-r0", '<', "1.1.1t-r0"},
      {"2.36.1-r0", '<', "2.36.2-r0"},
      {"3.1.4-r5", '<', "3.1.4-r6"},
      {"7.83.1_rc1-r0", '<', "7.83.1-r0"},
  });
}

TEST(ApkVersionTest, ValidatesLikeApkTools) {
  for (const char* ok : {"1.0", "0", "1.2.3-r1", "20260213-r0", "1.2.3a-r0", "1.0_pre1",
                         "1.0_beta2-r3", "1.0_alpha_pre1", "1.0_git20260101-r1", "1.0~abc123-r1",
                         "1.0_pre1~ff-r1", "1.0_p"}) {
    EXPECT_TRUE(IsValidApkVersion(ok)) << ok;
  }
  for (const char* bad : {"", "v1.0", "1.0-1", "1.0bc", "1.0_foo", "1.0~", "1.0~ABC", "1.0-r",
                          "1.0-r1-r2", "1..0", "1.0_", "1.0 ", "1.0a.1", "-r1", "1.0-r1a"}) {
    EXPECT_FALSE(IsValidApkVersion(bad)) << bad;
  }
}

// ---------------------------------------------------------------- rpm

TEST(RpmVersionTest, RpmvercmpMatchesRpmTestSuite) {
  ExpectOrdered(VersionScheme::kGeneric, {
      {"1.0", '=', "1.0"},          {"1.0", '<', "2.0"},
      {"2.0.1", '=', "2.0.1"},      {"2.0", '<', "2.0.1"},
      {"2.0.1a", '=', "2.0.1a"},    {"2.0.1a", '>', "2.0.1"},
      {"5.5p1", '<', "5.5p2"},      {"5.5p1", '<', "5.5p10"},
      {"10xyz", '<', "10.1xyz"},    {"xyz10", '<', "xyz10.1"},
      {"xyz.4", '<', "8"},          {"xyz.4", '<', "2"},
      {"5.5p2", '<', "5.6p1"},      {"5.6p1", '<', "6.5p1"},
      {"6.0.rc1", '>', "6.0"},      {"10b2", '>', "10a1"},
      {"10a2", '<', "10b2"},        {"1.0a", '<', "1.0aa"},
      {"10.0001", '=', "10.1"},     {"10.0001", '<', "10.0039"},
      {"4.999.9", '<', "5.0"},      {"20101121", '<', "20101122"},
      {"2_0", '=', "2.0"},          {"a+", '=', "a_"},
      {"+a", '=', "_a"},            {"_+", '=', "+_"},
      {"+", '=', "_"},
      // Tilde.
      {"1.0~rc1", '<', "1.0"},      {"1.0~rc1", '<', "1.0~rc2"},
      {"1.0~rc1~git123", '<', "1.0~rc1"},
      // Caret.
      {"1.0^", '>', "1.0"},         {"1.0^git1", '>', "1.0"},
      {"1.0^git1", '<', "1.0^git2"},{"1.0^git1", '<', "1.01"},
      {"1.0^20160101", '<', "1.0.1"},
      {"1.0^20160102", '>', "1.0^20160101^git1"},
      // Tilde and caret together.
      {"1.0~rc1^git1", '>', "1.0~rc1"},
      {"1.0^git1", '>', "1.0^git1~pre"},
      // Long numeric segments do not overflow.
      {"1.123456789012345678901234567890", '>', "1.123456789012345678901234567889"},
  });
}

TEST(RpmVersionTest, EvrComparesEpochThenVersionThenRelease) {
  ExpectOrdered(VersionScheme::kRpm, {
      {"1:1.0-1", '>', "2.0-1"},
      {"0:1.0-1", '=', "1.0-1"},
      {"1.0-1.el8", '<', "1.0-2.el8"},
      {"1.0-1.el8", '<', "1.0-1.el8_1"},
      {"1.0", '=', "1.0-5"},  // a missing release matches any release
      {"3.0.7-16.el9_2", '<', "3.0.7-18.el9"},
      {"2.2.5-3.fc38", '<', "2.2.5^20230101-1.fc38"},
      {"1.0~rc1-1", '<', "1.0-1"},
      {"10:1-1", '>', "9:1-1"},
  });
  RpmEvr evr = ParseRpmEvr("2:1.2.3-4.el9");
  EXPECT_EQ(evr.epoch, "2");
  EXPECT_EQ(evr.version, "1.2.3");
  EXPECT_EQ(evr.release, "4.el9");
  EXPECT_TRUE(evr.has_release);
  evr = ParseRpmEvr("1.2");
  EXPECT_EQ(evr.epoch, "");
  EXPECT_FALSE(evr.has_release);
}

// Differential check against librpm's own rpmvercmp() on random strings (seeded).
TEST(RpmVersionTest, AgreesWithLibrpmOnRandomStrings) {
  std::mt19937 rng(4242);
  const std::string alphabet = "0012389abzAZ.._-~^+";
  for (int k = 0; k < 20000; ++k) {
    auto random_string = [&] {
      std::string s;
      const int len = static_cast<int>(rng() % 9);
      for (int i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
      return s;
    };
    const std::string a = random_string();
    std::string b = rng() % 3 == 0 ? a + alphabet[rng() % alphabet.size()] : random_string();
    EXPECT_EQ(Sign(Rpmvercmp(a, b)), rpmvercmp(a.c_str(), b.c_str()))
        << "\"" << a << "\" vs \"" << b << "\"";
  }
}

// ---------------------------------------------------------------- semver

TEST(SemverTest, FollowsSemverPrecedence) {
  ExpectOrdered(VersionScheme::kSemver, {
      {"1.0.0", '<', "2.0.0"},
      {"2.0.0", '<', "2.1.0"},
      {"2.1.0", '<', "2.1.1"},
      {"1.0.0-alpha", '<', "1.0.0"},
      {"1.0.0-alpha", '<', "1.0.0-alpha.1"},
      {"1.0.0-alpha.1", '<', "1.0.0-alpha.beta"},
      {"1.0.0-alpha.beta", '<', "1.0.0-beta"},
      {"1.0.0-beta", '<', "1.0.0-beta.2"},
      {"1.0.0-beta.2", '<', "1.0.0-beta.11"},
      {"1.0.0-beta.11", '<', "1.0.0-rc.1"},
      {"1.0.0-rc.1", '<', "1.0.0"},
      {"1.0.0+build.1", '=', "1.0.0+build.2"},
      {"v1.2.3", '=', "1.2.3"},
      {"1.2", '=', "1.2.0"},
      {"1.10.0", '>', "1.9.0"},
      {"0", '<', "0.0.1"},
  });
}

}  // namespace
}  // namespace portunus::scanner
