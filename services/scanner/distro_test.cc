#include "services/scanner/distro.h"

#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

OsRelease Os(std::string id, std::string version, std::string codename = "", std::string pretty = "") {
  OsRelease os;
  os.id = std::move(id);
  os.version_id = std::move(version);
  os.version_codename = std::move(codename);
  os.pretty_name = std::move(pretty);
  return os;
}

TEST(DistroTest, EcosystemForOs) {
  EXPECT_EQ(EcosystemForOs(Os("debian", "12", "bookworm")), "debian:12");
  EXPECT_EQ(EcosystemForOs(Os("debian", "", "trixie")), "debian:13");
  EXPECT_EQ(EcosystemForOs(Os("debian", "", "", "Debian GNU/Linux trixie/sid")), "debian:13");
  EXPECT_EQ(EcosystemForOs(Os("debian", "", "", "Debian GNU/Linux")), "debian:sid");
  EXPECT_EQ(EcosystemForOs(Os("ubuntu", "22.04", "jammy")), "ubuntu:22.04");
  EXPECT_EQ(EcosystemForOs(Os("alpine", "3.18.4")), "alpine:3.18");
  EXPECT_EQ(EcosystemForOs(Os("alpine", "3.19_alpha20231219")), "alpine:edge");
  EXPECT_EQ(EcosystemForOs(Os("rocky", "9.3")), "rocky:9");
  EXPECT_EQ(EcosystemForOs(Os("almalinux", "8.9")), "almalinux:8");
  EXPECT_EQ(EcosystemForOs(Os("rhel", "9.3")), "rhel:9");
  EXPECT_EQ(EcosystemForOs(Os("opensuse-leap", "15.5")), "opensuse-leap:15.5");
  EXPECT_EQ(EcosystemForOs(Os("sles", "15.5")), "sles:15.5");
  EXPECT_EQ(EcosystemForOs(Os("wolfi", "20230201")), "wolfi");
  EXPECT_EQ(EcosystemForOs(Os("fedora", "39")), "fedora:39");
  EXPECT_EQ(EcosystemForOs(Os("", "")), "");
}

TEST(DistroTest, EcosystemForOsv) {
  EXPECT_EQ(EcosystemForOsv("Debian:12"), "debian:12");
  EXPECT_EQ(EcosystemForOsv("Debian:11"), "debian:11");
  EXPECT_EQ(EcosystemForOsv("Debian"), "");
  EXPECT_EQ(EcosystemForOsv("Ubuntu:22.04:LTS"), "ubuntu:22.04");
  EXPECT_EQ(EcosystemForOsv("Ubuntu:Pro:18.04:LTS"), "");
  EXPECT_EQ(EcosystemForOsv("Alpine:v3.18"), "alpine:3.18");
  EXPECT_EQ(EcosystemForOsv("Rocky Linux:9"), "rocky:9");
  EXPECT_EQ(EcosystemForOsv("AlmaLinux:8"), "almalinux:8");
  EXPECT_EQ(EcosystemForOsv("Red Hat:enterprise_linux:9::appstream"), "rhel:9");
  EXPECT_EQ(EcosystemForOsv("SUSE:Linux Enterprise Server 15 SP5"), "sles:15.5");
  EXPECT_EQ(EcosystemForOsv("openSUSE:Leap 15.5"), "opensuse-leap:15.5");
  EXPECT_EQ(EcosystemForOsv("npm"), "npm");
  EXPECT_EQ(EcosystemForOsv("PyPI"), "pypi");
}

TEST(DistroTest, SchemeForEcosystem) {
  EXPECT_EQ(SchemeForEcosystem("debian:12", VersionScheme::kGeneric), VersionScheme::kDpkg);
  EXPECT_EQ(SchemeForEcosystem("ubuntu:22.04", VersionScheme::kGeneric), VersionScheme::kDpkg);
  EXPECT_EQ(SchemeForEcosystem("alpine:3.18", VersionScheme::kGeneric), VersionScheme::kApk);
  EXPECT_EQ(SchemeForEcosystem("rocky:9", VersionScheme::kGeneric), VersionScheme::kRpm);
  EXPECT_EQ(SchemeForEcosystem("npm", VersionScheme::kSemver), VersionScheme::kSemver);
}

}  // namespace
}  // namespace portunus::scanner
