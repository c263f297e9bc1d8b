#include "services/scanner/rpm_database.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int CountEntries(const std::string& dir) {
  int n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") ++n;
    }
    closedir(d);
  }
  return n;
}

// The fixtures are built offline at test time by testdata/make_rpmdb_fixtures.sh (rpmbuild,
// rpm --justdb, db5.3_load): demo 1:1.2.3-4.el9 and demo-libs (both from demo's source rpm)
// and tool 2.0~rc1-1.fc38.
class RpmDatabaseTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/portunus-rpmdb-test.XXXXXX";
    root_ = new std::string(mkdtemp(tmpl));
    const std::string cmd = std::string(PORTUNUS_SCANNER_TESTDATA) + "/make_rpmdb_fixtures.sh " +
                            *root_ + "/fixtures";
    fixtures_ok_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf " + *root_).c_str());
    delete root_;
  }
  void SetUp() override {
    ASSERT_TRUE(fixtures_ok_) << "make_rpmdb_fixtures.sh failed (needs rpm, db5.3-util, python3)";
    temp_ = *root_ + "/temp-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto reader = RpmDatabaseReader::Create({temp_});
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(*reader);
  }
  std::string Fixture(const std::string& rel) { return ReadFile(*root_ + "/fixtures/" + rel); }

  static std::string* root_;
  static bool fixtures_ok_;
  std::string temp_;
  std::unique_ptr<RpmDatabaseReader> reader_;
};
std::string* RpmDatabaseTest::root_ = nullptr;
bool RpmDatabaseTest::fixtures_ok_ = false;

const Package kDemo{PackageFormat::kRpm, "demo", "1:1.2.3-4.el9", "noarch", "demo", "1:1.2.3-4.el9"};
const Package kDemoLibs{PackageFormat::kRpm, "demo-libs", "1:1.2.3-4.el9", "noarch", "demo",
                        "1:1.2.3-4.el9"};
const Package kTool{PackageFormat::kRpm, "tool", "2.0~rc1-1.fc38", "noarch", "tool",
                    "2.0~rc1-1.fc38"};

TEST_F(RpmDatabaseTest, ReadsSqliteThroughLibrpmAndLeavesNothingBehind) {
  auto pkgs = reader_->ReadSqlite(Fixture("sqlite/rpmdb.sqlite"), Fixture("sqlite/rpmdb.sqlite-wal"),
                                  Fixture("sqlite/rpmdb.sqlite-shm"));
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  EXPECT_THAT(*pkgs, UnorderedElementsAre(kDemo, kDemoLibs, kTool));
  EXPECT_EQ(CountEntries(temp_), 0) << "the private copy must be removed";
}

TEST_F(RpmDatabaseTest, SqliteRowsOnlyInTheWalAreRead) {
  const std::string db = Fixture("sqlite-wal/rpmdb.sqlite");
  auto with_wal = reader_->ReadSqlite(db, Fixture("sqlite-wal/rpmdb.sqlite-wal"),
                                      Fixture("sqlite-wal/rpmdb.sqlite-shm"));
  ASSERT_TRUE(with_wal.ok()) << with_wal.status();
  EXPECT_EQ(with_wal->size(), 4u);  // the fourth row exists only in the -wal file
  auto without_shm = reader_->ReadSqlite(db, Fixture("sqlite-wal/rpmdb.sqlite-wal"), "");
  ASSERT_TRUE(without_shm.ok()) << without_shm.status();
  EXPECT_EQ(without_shm->size(), 4u);
}

TEST_F(RpmDatabaseTest, ReadsBerkeleyDbThroughLibrpm) {
  auto pkgs = reader_->ReadBdb(Fixture("bdb/Packages"));
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  EXPECT_THAT(*pkgs, UnorderedElementsAre(kDemo, kDemoLibs, kTool));
  EXPECT_EQ(CountEntries(temp_), 0);
}

TEST_F(RpmDatabaseTest, ReadsNdbWithItsOwnReader) {
  auto pkgs = reader_->ReadNdb(Fixture("ndb/Packages.db"));
  ASSERT_TRUE(pkgs.ok()) << pkgs.status();
  EXPECT_THAT(*pkgs, UnorderedElementsAre(kDemo, kDemoLibs, kTool));
}

TEST_F(RpmDatabaseTest, DamagedNdbFailsWithAReason) {
  const std::string ndb = Fixture("ndb/Packages.db");
  std::string flipped = ndb;
  flipped[4096 + 100] ^= 0x55;  // inside the first record's header blob
  auto r = reader_->ReadNdb(flipped);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("fails its checksum"));

  r = reader_->ReadNdb(ndb.substr(0, ndb.size() - 100));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("points outside the file"));

  r = reader_->ReadNdb("garbage");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not an NDB"));
}

TEST_F(RpmDatabaseTest, GarbageDatabasesFailWithAReason) {
  auto r = reader_->ReadSqlite("not sqlite at all", "", "");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not an SQLite database"));

  // SQLite magic followed by garbage: librpm cannot open it.
  std::string fake(std::string("SQLite format 3\0", 16));
  fake += std::string(8192, 'x');
  r = reader_->ReadSqlite(fake, "", "");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rpm database rpmdb.sqlite"));

  r = reader_->ReadBdb(std::string(8192, '\x01'));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a Berkeley DB"));

  // A real BDB with its pages damaged.
  std::string bdb = Fixture("bdb/Packages");
  for (size_t i = 4096; i < bdb.size(); i += 7) bdb[i] = static_cast<char>(i * 31);
  r = reader_->ReadBdb(bdb);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(CountEntries(temp_), 0);
}

TEST_F(RpmDatabaseTest, ConcurrentReadsOfDifferentDatabasesNeverMix) {
  const std::string sqlite = Fixture("sqlite-wal/rpmdb.sqlite");
  const std::string wal = Fixture("sqlite-wal/rpmdb.sqlite-wal");
  const std::string bdb = Fixture("bdb/Packages");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 10; ++k) {
        if (t % 2 == 0) {
          auto r = reader_->ReadSqlite(sqlite, wal, "");
          if (!r.ok() || r->size() != 4) ++wrong;
        } else {
          auto r = reader_->ReadBdb(bdb);
          if (!r.ok() || r->size() != 3) ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(RpmDatabaseReaderTest, NeedsAnAbsoluteTempDir) {
  EXPECT_EQ(RpmDatabaseReader::Create({"relative/dir"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RpmDatabaseReader::Create({""}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace portunus::scanner
