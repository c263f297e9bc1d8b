#include "services/scanner/dpkg_status.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

constexpr char kStatus[] =
    "Package: openssl\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Architecture: amd64\n"
    "Version: 3.0.11-1~deb12u2\n"
    "Depends: libc6 (>= 2.34),\n"
    " libssl3 (>= 3.0.9)\n"
    "Description: Secure Sockets Layer toolkit\n"
    " This package is part of the OpenSSL project.\n"
    " .\n"
    " More text.\n"
    "\n"
    "Package: zlib1g\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Source: zlib\n"
    "Version: 1:1.2.13.dfsg-1\n"
    "\n"
    "Package: libssl3\n"
    "Status: hold ok installed\n"
    "Architecture: amd64\n"
    "Source: openssl (3.0.11-1~deb12u2)\n"
    "Version: 3.0.11-1~deb12u2+b1\n"
    "\n"
    "Package: removed-but-config\n"
    "Status: deinstall ok config-files\n"
    "Architecture: amd64\n"
    "Version: 1.0-1\n"
    "\n"
    "Package: half\n"
    "Status: install reinstreq half-installed\n"
    "Architecture: amd64\n"
    "Version: 1.0-1\n"
    "\n\n\n"
    "Package: unpacked\n"
    "Status: install ok unpacked\n"
    "Version: 1.0-1\n";

TEST(DpkgStatusTest, ReturnsOnlyInstalledPackagesWithTheirSource) {
  absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(kStatus);
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  ASSERT_EQ(pkgs->size(), 3u);
  EXPECT_EQ((*pkgs)[0], (Package{PackageFormat::kDpkg, "openssl", "3.0.11-1~deb12u2", "amd64",
                                 "openssl", "3.0.11-1~deb12u2"}));
  EXPECT_EQ((*pkgs)[1], (Package{PackageFormat::kDpkg, "zlib1g", "1:1.2.13.dfsg-1", "amd64",
                                 "zlib", "1:1.2.13.dfsg-1"}));
  // A binNMU: the binary version differs from the source version in parentheses.
  EXPECT_EQ((*pkgs)[2], (Package{PackageFormat::kDpkg, "libssl3", "3.0.11-1~deb12u2+b1", "amd64",
                                 "openssl", "3.0.11-1~deb12u2"}));
}

TEST(DpkgStatusTest, StatusWithoutStatusFieldIsNotInstalledExceptOnDistroless) {
  constexpr char kDistroless[] =
      "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: x\n";
  absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(kDistroless);
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  EXPECT_TRUE(pkgs->empty());
  DpkgParseOptions distroless;
  distroless.distroless = true;
  pkgs = ParseDpkgStatus(kDistroless, distroless);
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  ASSERT_EQ(pkgs->size(), 1u);
  EXPECT_EQ((*pkgs)[0].name, "base-files");
  EXPECT_EQ((*pkgs)[0].version, "12.4+deb12u5");
}

TEST(DpkgStatusTest, AcceptsCrLfAndEmptyInput) {
  absl::StatusOr<std::vector<Package>> pkgs =
      ParseDpkgStatus("Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\r\n");
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  ASSERT_EQ(pkgs->size(), 1u);
  EXPECT_EQ((*pkgs)[0].version, "1");
  pkgs = ParseDpkgStatus("");
  ASSERT_TRUE(pkgs.ok());
  EXPECT_TRUE(pkgs->empty());
}

TEST(DpkgStatusTest, RejectsGarbageWithAReason) {
  struct Bad {
    std::string content;
    std::string reason;
  };
  const std::string ok = "Status: install ok installed\n";
  for (const Bad& b : std::vector<Bad>{
           {"Package: a\n" + ok + "Version: 1\ngarbage line\n", "line 4: expected \"Field: value\""},
           {" leading continuation\n", "line 1: continuation line outside of a field"},
           {ok + "Version: 1\n", "has no Package field"},
           {"Package: a\n" + ok, "package a has no Version"},
           {"Package: a\n" + ok + "Version: 1:\n", "invalid version"},
           {"Package: a b\n" + ok + "Version: 1\n", "invalid package name"},
           {"Package: a\n" + ok + "Version: 1\nSource: b (2\n", "unterminated version in Source"},
           {"Package: a\n" + ok + "Version: 1\nSource: b (:)\n", "invalid source version"},
           {"Package: a\nStatus: installed\nVersion: 1\n", "Status must be three words"},
           {std::string("Package: a\0\n", 12), "NUL byte"},
       }) {
    absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(b.content);
    ASSERT_EQ(pkgs.status().code(), absl::StatusCode::kInvalidArgument) << b.reason;
    EXPECT_THAT(std::string(pkgs.status().message()), ::testing::HasSubstr(b.reason));
  }
}

TEST(DpkgStatusTest, CapsThePackageCount) {
  std::string big;
  for (size_t i = 0; i <= kMaxDpkgPackages; ++i) {
    big += "Package: p\nStatus: install ok installed\nVersion: 1\n\n";
  }
  absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(big);
  ASSERT_EQ(pkgs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pkgs.status().message()), ::testing::HasSubstr("more than"));
}

}  // namespace
}  // namespace portunus::scanner
