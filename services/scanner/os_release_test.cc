#include "services/scanner/os_release.h"

#include <string>

#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

TEST(OsReleaseTest, ParsesRealFiles) {
  absl::StatusOr<OsRelease> os = ParseOsRelease(
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "NAME=\"Debian GNU/Linux\"\n"
      "VERSION_ID=\"12\"\n"
      "VERSION=\"12 (bookworm)\"\n"
      "VERSION_CODENAME=bookworm\n"
      "ID=debian\n"
      "HOME_URL=\"https://www.debian.org/\"\n");
  ASSERT_TRUE(os.ok()) << os.status();
  EXPECT_EQ(os->id, "debian");
  EXPECT_EQ(os->version_id, "12");
  EXPECT_EQ(os->version_codename, "bookworm");
  EXPECT_EQ(os->pretty_name, "Debian GNU/Linux 12 (bookworm)");

  os = ParseOsRelease(
      "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\n"
      "ID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n# comment\n\n");
  ASSERT_TRUE(os.ok()) << os.status();
  EXPECT_EQ(os->id, "rocky");
  EXPECT_EQ(os->id_like, (std::vector<std::string>{"rhel", "centos", "fedora"}));
  EXPECT_EQ(os->version_id, "9.3");

  os = ParseOsRelease("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\r\n");
  ASSERT_TRUE(os.ok()) << os.status();
  EXPECT_EQ(os->id, "alpine");
  EXPECT_EQ(os->version_id, "3.18.4");
}

TEST(OsReleaseTest, UnquotesLikeAShell) {
  absl::StatusOr<OsRelease> os =
      ParseOsRelease("ID='Ubuntu'\nPRETTY_NAME=\"a \\\"quoted\\\" \\$name\\\\\"\nNAME=plain\\ text\n");
  ASSERT_TRUE(os.ok()) << os.status();
  EXPECT_EQ(os->id, "ubuntu");  // IDs are lower-cased
  EXPECT_EQ(os->pretty_name, "a \"quoted\" $name\\");
  EXPECT_EQ(os->name, "plain text");
}

TEST(OsReleaseTest, RejectsGarbageWithAReason) {
  struct Bad {
    std::string content;
    std::string reason;
  };
  for (const Bad& b : std::vector<Bad>{
           {"ID=debian\nthis is not a key value line\n", "line 2: expected KEY=VALUE"},
           {"ID=\"debian\n", "line 1: unterminated double quote"},
           {"ID='x\n", "line 1: unterminated single quote"},
           {"BAD KEY=1\nID=x\n", "line 1: invalid key"},
           {"NAME=x\n", "has no ID"},
           {std::string("ID=x\0y\n", 7), "NUL byte"},
           {"ID=x\n" + std::string(kMaxOsReleaseSize, '#'), "more than the"},
       }) {
    absl::StatusOr<OsRelease> os = ParseOsRelease(b.content);
    ASSERT_EQ(os.status().code(), absl::StatusCode::kInvalidArgument) << b.reason;
    EXPECT_NE(os.status().message().find(b.reason), absl::string_view::npos)
        << os.status().message();
  }
}

}  // namespace
}  // namespace portunus::scanner
