#include "services/scanner/inventory.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Type = LayerEntry::Type;

LayerContent Layer(std::vector<LayerEntry> entries) {
  LayerContent c;
  c.entries = std::move(entries);
  return c;
}

TEST(InventoryTest, DebianImageWithDistrolessEntries) {
  LayerContent base = Layer({
      {Type::kSymlink, "etc/os-release", "../usr/lib/os-release"},
      {Type::kFile, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"},
      {Type::kFile, "var/lib/dpkg/status",
       "Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n"},
      {Type::kFile, "var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a-0+deb12u1\n"},
      {Type::kFile, "var/lib/dpkg/status.d/tzdata.md5sums", "0123 usr/share/zoneinfo/UTC\n"},
  });
  ImageFiles files = ImageFiles::Merge({&base});
  absl::StatusOr<Inventory> inv = BuildInventory(files, nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->os.id, "debian");
  EXPECT_EQ(inv->os.version_id, "12");
  ASSERT_EQ(inv->packages.size(), 2u);
  EXPECT_EQ(inv->packages[0].name, "openssl");
  EXPECT_EQ(inv->packages[1].name, "tzdata");
  EXPECT_THAT(inv->databases, ElementsAre("var/lib/dpkg/status", "var/lib/dpkg/status.d"));
}

TEST(InventoryTest, AWhiteoutRemovesThePackageDatabase) {
  LayerContent base = Layer({{Type::kFile, "etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n"},
                             {Type::kFile, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\n"}});
  LayerContent top = Layer({{Type::kWhiteout, "lib/apk/db/installed", ""}});
  absl::StatusOr<Inventory> inv = BuildInventory(ImageFiles::Merge({&base, &top}), nullptr);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->os.id, "alpine");
  EXPECT_TRUE(inv->packages.empty());
  EXPECT_TRUE(inv->databases.empty());
}

TEST(InventoryTest, GarbageDatabasesFailNamingTheFile) {
  LayerContent bad = Layer({{Type::kFile, "lib/apk/db/installed", "garbage\n"}});
  absl::StatusOr<Inventory> inv = BuildInventory(ImageFiles::Merge({&bad}), nullptr);
  ASSERT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("lib/apk/db/installed: apk installed db line 1"));

  LayerContent os = Layer({{Type::kFile, "etc/os-release", "nonsense"}});
  inv = BuildInventory(ImageFiles::Merge({&os}), nullptr);
  ASSERT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("etc/os-release: os-release line 1"));

  LayerContent rpm = Layer({{Type::kFile, "var/lib/rpm/Packages", "x"}});
  inv = BuildInventory(ImageFiles::Merge({&rpm}), nullptr);
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kFailedPrecondition);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(InventoryTest, RpmImageThroughASymlinkedDbPathIsReadOnce) {
  char tmpl[] = "/tmp/portunus-inventory-test.XXXXXX";
  const std::string root = mkdtemp(tmpl);
  ASSERT_EQ(std::system((std::string(PORTUNUS_SCANNER_TESTDATA) + "/make_rpmdb_fixtures.sh " +
                         root + "/fx").c_str()),
            0);
  LayerContent base = Layer({
      {Type::kFile, "etc/os-release", "ID=\"rocky\"\nVERSION_ID=\"9.3\"\n"},
      {Type::kSymlink, "var/lib/rpm", "../../usr/lib/sysimage/rpm"},
      {Type::kFile, "usr/lib/sysimage/rpm/rpmdb.sqlite", ReadFile(root + "/fx/sqlite-wal/rpmdb.sqlite")},
      {Type::kFile, "usr/lib/sysimage/rpm/rpmdb.sqlite-wal",
       ReadFile(root + "/fx/sqlite-wal/rpmdb.sqlite-wal")},
  });
  auto reader = RpmDatabaseReader::Create({root + "/tmp"});
  ASSERT_TRUE(reader.ok());
  absl::StatusOr<Inventory> inv = BuildInventory(ImageFiles::Merge({&base}), reader->get());
  std::system(("rm -rf " + root).c_str());
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->packages.size(), 3u);  // the WAL's extra row duplicates demo: deduplicated
  EXPECT_THAT(inv->databases, ElementsAre("usr/lib/sysimage/rpm/rpmdb.sqlite"));
}

}  // namespace
}  // namespace portunus::scanner
