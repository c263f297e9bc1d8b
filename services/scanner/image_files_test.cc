#include "services/scanner/image_files.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::IsNull;
using ::testing::Pointee;
using Type = LayerEntry::Type;

LayerContent Layer(std::vector<LayerEntry> entries) {
  LayerContent c;
  c.entries = std::move(entries);
  return c;
}

TEST(ImageFilesTest, UpperLayersReplaceLowerOnes) {
  LayerContent base = Layer({{Type::kFile, "var/lib/dpkg/status", "v1"},
                             {Type::kFile, "etc/os-release", "ID=debian"}});
  LayerContent top = Layer({{Type::kFile, "var/lib/dpkg/status", "v2"}});
  ImageFiles files = ImageFiles::Merge({&base, &top});
  EXPECT_THAT(files.Find("var/lib/dpkg/status"), Pointee(std::string("v2")));
  EXPECT_THAT(files.Find("/etc/os-release"), Pointee(std::string("ID=debian")));
  EXPECT_THAT(files.Find("lib/apk/db/installed"), IsNull());
}

TEST(ImageFilesTest, WhiteoutsDeleteAndOpaqueDirsHide) {
  LayerContent base = Layer({{Type::kFile, "var/lib/dpkg/status.d/a", "A"},
                             {Type::kFile, "var/lib/dpkg/status.d/b", "B"},
                             {Type::kFile, "var/lib/rpm/Packages", "old"},
                             {Type::kFile, "lib/apk/db/installed", "apk"}});
  LayerContent del = Layer({{Type::kWhiteout, "var/lib/dpkg/status.d/a", ""},
                            {Type::kWhiteout, "lib/apk", ""}});
  LayerContent opq = Layer({{Type::kOpaque, "var/lib/rpm", ""},
                            {Type::kFile, "var/lib/rpm/rpmdb.sqlite", "new"}});
  ImageFiles files = ImageFiles::Merge({&base, &del, &opq});
  EXPECT_THAT(files.List("var/lib/dpkg/status.d"), ElementsAre("b"));
  EXPECT_THAT(files.Find("lib/apk/db/installed"), IsNull());  // a whole directory deleted
  EXPECT_THAT(files.Find("var/lib/rpm/Packages"), IsNull());
  EXPECT_THAT(files.Find("var/lib/rpm/rpmdb.sqlite"), Pointee(std::string("new")));
  // A later layer can bring a deleted path back.
  LayerContent again = Layer({{Type::kFile, "var/lib/dpkg/status.d/a", "A2"}});
  files = ImageFiles::Merge({&base, &del, &opq, &again});
  EXPECT_THAT(files.List("var/lib/dpkg/status.d"), ElementsAre("a", "b"));
}

TEST(ImageFilesTest, FollowsFileAndDirectorySymlinks) {
  LayerContent base = Layer({
      {Type::kSymlink, "etc/os-release", "../usr/lib/os-release"},
      {Type::kFile, "usr/lib/os-release", "ID=fedora"},
      {Type::kSymlink, "var/lib/rpm", "../../usr/lib/sysimage/rpm"},
      {Type::kFile, "usr/lib/sysimage/rpm/rpmdb.sqlite", "db"},
      {Type::kSymlink, "lib/apk/db/installed", "/lib/apk/db/installed"},  // loop
  });
  ImageFiles files = ImageFiles::Merge({&base});
  EXPECT_THAT(files.Find("etc/os-release"), Pointee(std::string("ID=fedora")));
  EXPECT_THAT(files.Find("var/lib/rpm/rpmdb.sqlite"), Pointee(std::string("db")));
  EXPECT_THAT(files.List("var/lib/rpm"), ElementsAre("rpmdb.sqlite"));
  EXPECT_THAT(files.Find("lib/apk/db/installed"), IsNull());
}

TEST(ImageFilesTest, NonDirectoriesAndDirectoriesReplaceWhatWasThere) {
  LayerContent base = Layer({{Type::kFile, "var/lib/rpm/Packages", "db"},
                             {Type::kFile, "etc/os-release", "ID=x"}});
  LayerContent top = Layer({{Type::kOther, "var/lib/rpm", ""},
                            {Type::kDirectory, "etc/os-release", ""}});
  ImageFiles files = ImageFiles::Merge({&base, &top});
  EXPECT_THAT(files.Find("var/lib/rpm/Packages"), IsNull());
  EXPECT_THAT(files.Find("etc/os-release"), IsNull());
  EXPECT_TRUE(files.empty() == false);
}

}  // namespace
}  // namespace portunus::scanner
