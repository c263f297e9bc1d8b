#include "services/scanner/apk_installed.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

constexpr char kInstalled[] =
    "C:Q1KPzqcEIv3d1vwTEYvZfS4DO+Eog=\n"
    "P:musl\n"
    "V:1.2.4-r2\n"
    "A:x86_64\n"
    "S:383152\n"
    "I:622592\n"
    "T:the musl c library (libc) implementation\n"
    "U:https://musl.libc.org/\n"
    "L:MIT\n"
    "o:musl\n"
    "m:Timo Teräs <timo.teras@iki.fi>\n"
    "t:1697021435\n"
    "c:e8e2c2d4f7d23b1b8b5a1ea4b4f5b2b3c9d7e1a0\n"
    "p:so:libc.musl-x86_64.so.1=1\n"
    "F:lib\n"
    "R:ld-musl-x86_64.so.1\n"
    "a:0:0:755\n"
    "Z:Q1rh4WCf7FmFs3jwXLxRmpHHdu/Ws=\n"
    "\n"
    "C:Q1abc=\n"
    "P:libcrypto3\n"
    "V:3.1.4-r0\n"
    "A:x86_64\n"
    "o:openssl\n"
    "\n"
    "P:no-origin\n"
    "V:1.0_rc1-r0\n";

TEST(ApkInstalledTest, ReadsNameVersionArchAndOrigin) {
  absl::StatusOr<std::vector<Package>> pkgs = ParseApkInstalled(kInstalled);
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  ASSERT_EQ(pkgs->size(), 3u);
  EXPECT_EQ((*pkgs)[0],
            (Package{PackageFormat::kApk, "musl", "1.2.4-r2", "x86_64", "musl", "1.2.4-r2"}));
  EXPECT_EQ((*pkgs)[1], (Package{PackageFormat::kApk, "libcrypto3", "3.1.4-r0", "x86_64",
                                 "openssl", "3.1.4-r0"}));
  EXPECT_EQ((*pkgs)[2],
            (Package{PackageFormat::kApk, "no-origin", "1.0_rc1-r0", "", "no-origin", "1.0_rc1-r0"}));
}

TEST(ApkInstalledTest, RejectsGarbageWithAReason) {
  struct Bad {
    std::string content;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"P:a\nV:1.0\nnonsense\n", "line 3: expected \"K:value\""},
           {"V:1.0\n", "package has no P: (name)"},
           {"P:a\nA:x86_64\n", "package a has no V: (version)"},
           {"P:a\nV:v1.0\n", "invalid version \"v1.0\""},
           {"P:a b\nV:1.0\n", "invalid package name"},
           {"P:a\nV:1.0\no:bad origin\n", "invalid origin"},
           {std::string("P:a\0\n", 5), "NUL byte"},
           {"1:a\n", "line 1: expected"},
       }) {
    absl::StatusOr<std::vector<Package>> pkgs = ParseApkInstalled(b.content);
    ASSERT_EQ(pkgs.status().code(), absl::StatusCode::kInvalidArgument) << b.reason;
    EXPECT_THAT(std::string(pkgs.status().message()), ::testing::HasSubstr(b.reason));
  }
}

}  // namespace
}  // namespace portunus::scanner
