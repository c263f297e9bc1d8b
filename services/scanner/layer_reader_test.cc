#include "services/scanner/layer_reader.h"

#include <openssl/sha.h>

#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/scanner/testing/tar_builder.h"

namespace portunus::scanner {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Compression;
using testing::TarBuilder;
using Type = LayerEntry::Type;

// Serves a string in fixed-size chunks, optionally failing after a number of chunks.
class StringStream : public ByteStream {
 public:
  explicit StringStream(std::string data, size_t chunk = 4096) : data_(std::move(data)), chunk_(chunk) {}
  absl::StatusOr<absl::string_view> Next() override {
    if (fail_after_ >= 0 && served_ >= fail_after_) return absl::UnavailableError("connection reset");
    ++served_;
    absl::string_view rest = absl::string_view(data_).substr(std::min(pos_, data_.size()));
    absl::string_view c = rest.substr(0, chunk_);
    pos_ += c.size();
    return c;
  }
  void FailAfter(int chunks) { fail_after_ = chunks; }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
  int served_ = 0;
  int fail_after_ = -1;
};

std::string Sha256(const std::string& data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return "sha256:" + absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(d), sizeof d));
}

std::string DebianLayer() {
  return TarBuilder()
      .Dir("etc")
      .Symlink("etc/os-release", "../usr/lib/os-release")
      .Dir("usr/lib")
      .File("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
      .File("usr/bin/ls", std::string(100000, 'x'))
      .Dir("var/lib/dpkg")
      .File("var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVersion: 1\n")
      .File("var/lib/dpkg/status-old", "old")
      .File("./var/lib/dpkg/status.d/base-files", "Package: base-files\nVersion: 12\n")
      .File("var/lib/rpm/Packages", "bdb")
      .Build(Compression::kGzip);
}

TEST(LayerReaderTest, KeepsOnlyInterestingEntriesFromEveryCompression) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    const std::string layer = TarBuilder()
                                  .File("etc/os-release", "ID=alpine\n")
                                  .File("etc/passwd", "root:x:0:0")
                                  .File("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\n")
                                  .Build(c);
    StringStream in(layer, 1000);
    absl::StatusOr<LayerContent> content = ReadLayer(in, LayerLimits{}, Sha256(layer));
    ASSERT_TRUE(content.ok()) << content.status();
    EXPECT_THAT(content->entries,
                ElementsAre(LayerEntry{Type::kFile, "etc/os-release", "ID=alpine\n"},
                            LayerEntry{Type::kFile, "lib/apk/db/installed", "P:musl\nV:1.2.4-r2\n"}));
    EXPECT_EQ(content->entry_count, 3);
    EXPECT_EQ(content->compressed_bytes, static_cast<int64_t>(layer.size()));
    EXPECT_GT(content->uncompressed_bytes, 1024);
  }
}

TEST(LayerReaderTest, RecordsSymlinksAndNormalisesNames) {
  StringStream in(DebianLayer());
  absl::StatusOr<LayerContent> content = ReadLayer(in, LayerLimits{});
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_THAT(content->entries,
              ElementsAre(LayerEntry{Type::kSymlink, "etc/os-release", "../usr/lib/os-release"},
                          LayerEntry{Type::kFile, "usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
                          LayerEntry{Type::kFile, "var/lib/dpkg/status",
                                     "Package: a\nStatus: install ok installed\nVersion: 1\n"},
                          LayerEntry{Type::kFile, "var/lib/dpkg/status.d/base-files",
                                     "Package: base-files\nVersion: 12\n"},
                          LayerEntry{Type::kFile, "var/lib/rpm/Packages", "bdb"}));
}

TEST(LayerReaderTest, RecordsWhiteoutsOpaqueDirsAndReplacements) {
  const std::string layer = TarBuilder()
                                .File("var/lib/dpkg/status.d/.wh.libfoo", "")
                                .File("lib/apk/db/.wh.installed", "")
                                .File("usr/share/.wh.doc", "")  // not ours: ignored
                                .File("var/lib/rpm/.wh..wh..opq", "")
                                .File("home/user/.wh..wh..opq", "")  // not ours: ignored
                                .Symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm")
                                .File("var/lib/dpkg/status.d", "a file where a dir was")
                                .Dir("etc/os-release")
                                .Build(Compression::kGzip);
  StringStream in(layer);
  absl::StatusOr<LayerContent> content = ReadLayer(in, LayerLimits{});
  ASSERT_TRUE(content.ok()) << content.status();
  EXPECT_THAT(content->entries,
              ElementsAre(LayerEntry{Type::kWhiteout, "var/lib/dpkg/status.d/libfoo", ""},
                          LayerEntry{Type::kWhiteout, "lib/apk/db/installed", ""},
                          LayerEntry{Type::kOpaque, "var/lib/rpm", ""},
                          LayerEntry{Type::kSymlink, "var/lib/rpm", "../../usr/lib/sysimage/rpm"},
                          LayerEntry{Type::kOther, "var/lib/dpkg/status.d", ""},
                          LayerEntry{Type::kDirectory, "etc/os-release", ""}));
}

TEST(LayerReaderTest, HardLinksToKeptFilesCarryTheirContent) {
  const std::string layer = TarBuilder()
                                .File("var/lib/rpm/Packages", "db")
                                .Hardlink("usr/lib/sysimage/rpm/Packages", "var/lib/rpm/Packages")
                                .Build();
  StringStream in(layer);
  absl::StatusOr<LayerContent> content = ReadLayer(in, LayerLimits{});
  ASSERT_TRUE(content.ok()) << content.status();
  ASSERT_EQ(content->entries.size(), 2u);
  EXPECT_EQ(content->entries[1], (LayerEntry{Type::kFile, "usr/lib/sysimage/rpm/Packages", "db"}));

  // Hard links count against the kept-size cap like the files they copy.
  TarBuilder links;
  links.File("var/lib/dpkg/status.d/big", std::string(600, 'x'));
  for (int i = 0; i < 5; ++i) links.Hardlink(absl::StrCat("var/lib/dpkg/status.d/l", i), "var/lib/dpkg/status.d/big");
  LayerLimits small;
  small.max_kept_size = 2000;
  StringStream many(links.Build());
  EXPECT_EQ(ReadLayer(many, small).status().code(), absl::StatusCode::kResourceExhausted);

  StringStream bad(TarBuilder().File("x", "y").Hardlink("var/lib/dpkg/status", "x").Build());
  absl::StatusOr<LayerContent> r = ReadLayer(bad, LayerLimits{});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("hard link to x"));
}

TEST(LayerReaderTest, DigestMismatchIsReported) {
  const std::string layer = DebianLayer();
  StringStream in(layer);
  absl::StatusOr<LayerContent> r = ReadLayer(in, LayerLimits{}, Sha256(layer + "x"));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("does not match its digest"));
  StringStream in2(layer);
  EXPECT_EQ(ReadLayer(in2, LayerLimits{}, "md5:abc").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LayerReaderTest, StreamErrorsPropagate) {
  StringStream in(DebianLayer(), 512);
  in.FailAfter(2);
  absl::StatusOr<LayerContent> r = ReadLayer(in, LayerLimits{});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("connection reset"));
}

// ---- hostile layers: each ends the read with a clear reason ----

void ExpectFails(const std::string& layer, const LayerLimits& limits, absl::StatusCode code,
                 const std::string& reason) {
  StringStream in(layer, 64 * 1024);
  absl::StatusOr<LayerContent> r = ReadLayer(in, limits);
  ASSERT_EQ(r.status().code(), code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(reason));
}

TEST(LayerReaderTest, DecompressionBombFails) {
  const std::string bomb = TarBuilder().Zeros("zeros", 64 << 20).Build(Compression::kGzip);
  ASSERT_LT(bomb.size(), 1u << 20);  // 64 MiB of zeros compress to well under 1 MiB
  LayerLimits limits;
  limits.bomb_check_after = 8 << 20;
  limits.max_compression_ratio = 100;
  ExpectFails(bomb, limits, absl::StatusCode::kResourceExhausted, "decompression bomb");
  limits.bomb_check_after = int64_t{1} << 40;
  limits.max_uncompressed_size = 16 << 20;
  ExpectFails(bomb, limits, absl::StatusCode::kResourceExhausted, "max_uncompressed_size");
}

TEST(LayerReaderTest, HugeEntryFailsBeforeAnyDataIsRead) {
  // A header declaring 10 GB, followed by almost nothing.
  std::string layer = testing::UstarHeader("big.bin", 10ULL << 30) + std::string(1024, 'x');
  ExpectFails(layer, LayerLimits{}, absl::StatusCode::kResourceExhausted,
              "big.bin is 10737418240 bytes, more than scanner.limits.max_entry_size (4 GiB)");
}

TEST(LayerReaderTest, OversizedPackageDatabaseFails) {
  LayerLimits limits;
  limits.max_file_size = 1000;
  ExpectFails(TarBuilder().File("var/lib/dpkg/status", std::string(2000, 'a')).Build(), limits,
              absl::StatusCode::kResourceExhausted,
              "var/lib/dpkg/status is 2000 bytes, more than scanner.limits.max_file_size");
  limits.max_file_size = 1000;
  limits.max_kept_size = 1500;
  TarBuilder many;
  for (int i = 0; i < 4; ++i) many.File(absl::StrCat("var/lib/dpkg/status.d/p", i), std::string(500, 'a'));
  ExpectFails(many.Build(), limits, absl::StatusCode::kResourceExhausted, "max_kept_size");
}

TEST(LayerReaderTest, DeepAndLongPathsFail) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "d/";
  deep += "f";
  LayerLimits limits;
  ExpectFails(TarBuilder().File(deep, "x").Build(), limits, absl::StatusCode::kResourceExhausted,
              "301 path components, more than scanner.limits.max_path_depth (256)");
  limits.max_path_length = 100;
  ExpectFails(TarBuilder().File(std::string(200, 'n'), "x").Build(), limits,
              absl::StatusCode::kResourceExhausted, "more than scanner.limits.max_path_length");
}

TEST(LayerReaderTest, TooManyEntriesFail) {
  TarBuilder b;
  for (int i = 0; i < 50; ++i) b.File(absl::StrCat("f", i), "");
  LayerLimits limits;
  limits.max_entries = 20;
  ExpectFails(b.Build(), limits, absl::StatusCode::kResourceExhausted, "max_entries (20)");
}

TEST(LayerReaderTest, LayerLargerThanAllowedFails) {
  LayerLimits limits;
  limits.max_layer_size = 10000;
  ExpectFails(TarBuilder().File("a", std::string(50000, 'q')).Build(), limits,
              absl::StatusCode::kResourceExhausted, "max_layer_size");
}

TEST(LayerReaderTest, BrokenCompressionAndTarFail) {
  const std::string gz = DebianLayer();
  // Truncated gzip stream.
  ExpectFails(gz.substr(0, gz.size() / 2), LayerLimits{}, absl::StatusCode::kInvalidArgument,
              "truncated gzip input");
  // gzip with its body corrupted.
  std::string corrupt = gz;
  for (size_t i = 40; i < corrupt.size() - 20; i += 13) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  ExpectFails(corrupt, LayerLimits{}, absl::StatusCode::kInvalidArgument, "layer");
  // Not an archive at all.
  ExpectFails(std::string(5000, '\x07'), LayerLimits{}, absl::StatusCode::kInvalidArgument,
              "a layer must be a gzip, zstd or uncompressed tar");
  // A tar header with a bad checksum.
  std::string tar = testing::UstarHeader("a", 10);
  tar[148] = '9';
  ExpectFails(tar + std::string(1024, '\0'), LayerLimits{}, absl::StatusCode::kInvalidArgument, "layer");
  // Other archive formats are not layers.
  std::string zip = "PK\x03\x04" + std::string(100, '\0');
  ExpectFails(zip, LayerLimits{}, absl::StatusCode::kInvalidArgument, "layer");
}

TEST(ChunkPipeTest, ProducerIsStoppedWhenTheReaderGivesUp) {
  ChunkPipe pipe(1024);
  absl::Status producer_status;
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      producer_status = pipe.Push(std::string(512, 'x'));
      if (!producer_status.ok()) return;
    }
    pipe.CloseWrite(absl::OkStatus());
  });
  ASSERT_TRUE(pipe.Next().ok());
  pipe.CloseRead();
  producer.join();
  EXPECT_EQ(producer_status.code(), absl::StatusCode::kCancelled);
}

class FakeBlobSource : public BlobSource {
 public:
  explicit FakeBlobSource(std::string blob) : blob_(std::move(blob)) {}
  absl::Status StreamBlob(const std::string&, const std::string& digest,
                          const BlobSink& sink) override {
    if (digest == "sha256:missing") return absl::NotFoundError("blob unknown");
    for (size_t i = 0; i < blob_.size(); i += 3000) {
      absl::Status s = sink(absl::string_view(blob_).substr(i, 3000));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::string blob_;
};

TEST(ReadLayerFromSourceTest, StreamsThroughAPipe) {
  const std::string layer = DebianLayer();
  FakeBlobSource source(layer);
  absl::StatusOr<LayerContent> r = ReadLayerFromSource(source, "ns/app", Sha256(layer), LayerLimits{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries.size(), 5u);
  r = ReadLayerFromSource(source, "ns/app", "sha256:missing", LayerLimits{});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("fetching layer sha256:missing"));
  LayerLimits small;
  small.max_entries = 2;
  r = ReadLayerFromSource(source, "ns/app", Sha256(layer), small);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace portunus::scanner
