// Streams one image layer (a tar, gzip- or zstd-compressed or not) through libarchive and keeps
// only what the scanner needs (image_paths.h): the interesting files' contents, symlinks and
// replacements at interesting paths, and OCI whiteouts touching them. Nothing is written to
// disk, and a hostile layer (decompression bomb, huge entries, deep or long paths, broken
// compression or tar, too many entries) stops the read with a clear reason while memory stays
// bounded by the limits.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "services/scanner/blob_source.h"

namespace portunus::scanner {

// Caps on one layer; every one is a scanner.limits.* configuration key.
struct LayerLimits {
  int64_t max_layer_size = int64_t{8} << 30;          // compressed bytes of the blob
  int64_t max_uncompressed_size = int64_t{32} << 30;  // bytes of tar after decompression
  int64_t max_entry_size = int64_t{4} << 30;          // any single entry's declared size
  int64_t max_file_size = int64_t{128} << 20;         // one kept (interesting) file
  int64_t max_kept_size = int64_t{256} << 20;         // all kept files of the layer together
  int64_t max_entries = 2000000;                      // tar entries in the layer
  int64_t max_path_length = 4096;                     // bytes of an entry name
  int64_t max_path_depth = 256;                       // components of an entry name
  // Decompression bomb: once the tar exceeds bomb_check_after bytes, it may be at most
  // max_compression_ratio times the compressed bytes read so far.
  int64_t max_compression_ratio = 200;
  int64_t bomb_check_after = int64_t{256} << 20;
};

// One thing a layer says about an interesting path.
struct LayerEntry {
  enum class Type {
    kFile,       // regular file: `data` is its content
    kSymlink,    // `data` is the link target as written
    kDirectory,  // a directory at an interesting file's path (hides the file)
    kOther,      // any other non-directory (hides what was below it)
    kWhiteout,   // `.wh.<name>`: `path` was deleted from the layers below
    kOpaque,     // `.wh..wh..opq`: everything below directory `path` in lower layers is hidden
  };
  Type type = Type::kFile;
  std::string path;  // normalised (image_paths.h)
  std::string data;

  bool operator==(const LayerEntry& o) const {
    return type == o.type && path == o.path && data == o.data;
  }
};

// "file", "symlink", "directory", "other", "whiteout", "opaque"; and back (false if unknown).
absl::string_view LayerEntryTypeName(LayerEntry::Type type);
bool ParseLayerEntryType(absl::string_view name, LayerEntry::Type* type);

// What the scanner keeps of one layer.
struct LayerContent {
  std::vector<LayerEntry> entries;  // in archive order
  int64_t compressed_bytes = 0;
  int64_t uncompressed_bytes = 0;
  int64_t entry_count = 0;
};

// A pull stream of bytes.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // The next chunk; empty at the end. The chunk stays valid until the next call.
  virtual absl::StatusOr<absl::string_view> Next() = 0;
};

// Reads a layer from `in`. When `expected_digest` ("sha256:<hex>" or "sha512:<hex>") is given,
// the whole stream is hashed (read to its end) and must match. Thread-compatible (one call per
// stream). Errors: the stream's own error; kResourceExhausted naming the limit a hostile layer
// hit; kInvalidArgument for data that is not a gzip/zstd/uncompressed tar or is damaged;
// kUnavailable when the bytes do not match the digest (a damaged transfer: retry).
absl::StatusOr<LayerContent> ReadLayer(ByteStream& in, const LayerLimits& limits,
                                       absl::string_view expected_digest = "");

// Turns a push source (BlobSource's sink) into a ByteStream, holding at most about
// `max_buffered` bytes. Thread-safe: one producer thread, one consumer thread.
class ChunkPipe final : public ByteStream {
 public:
  explicit ChunkPipe(size_t max_buffered) : max_buffered_(max_buffered) {}
  // Producer: copies `chunk` in, waiting while the pipe is full. kCancelled once the consumer
  // has stopped reading.
  absl::Status Push(absl::string_view chunk);
  // Producer: the stream ended; a non-OK status is what the consumer's Next() returns.
  void CloseWrite(absl::Status status);
  // Consumer: stop reading; wakes the producer, whose Push() then fails.
  void CloseRead();
  absl::StatusOr<absl::string_view> Next() override;

 private:
  const size_t max_buffered_;
  absl::Mutex mu_;
  std::deque<std::string> chunks_ ABSL_GUARDED_BY(mu_);
  size_t buffered_ ABSL_GUARDED_BY(mu_) = 0;
  bool write_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status write_status_ ABSL_GUARDED_BY(mu_);
  std::string current_;  // consumer-owned: the chunk last returned by Next()
};

// Streams blob `digest` of `repository` from `source` through ReadLayer, on a helper thread
// for the transfer. Same errors as ReadLayer and StreamBlob.
absl::StatusOr<LayerContent> ReadLayerFromSource(BlobSource& source, const std::string& repository,
                                                 const std::string& digest,
                                                 const LayerLimits& limits);

}  // namespace portunus::scanner
