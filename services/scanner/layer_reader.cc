#include "services/scanner/layer_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <cerrno>
#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/scanner/image_paths.h"

namespace portunus::scanner {
namespace {

constexpr absl::string_view kWhiteoutPrefix = ".wh.";
constexpr absl::string_view kOpaqueMarker = ".wh..wh..opq";

std::string Bytes(int64_t n) {
  if (n >= (int64_t{1} << 30) && n % (int64_t{1} << 30) == 0) return absl::StrCat(n >> 30, " GiB");
  if (n >= (int64_t{1} << 20) && n % (int64_t{1} << 20) == 0) return absl::StrCat(n >> 20, " MiB");
  return absl::StrCat(n, " bytes");
}

// Where libarchive pulls from: the stream, counted and hashed.
struct Source {
  ByteStream* in = nullptr;
  const LayerLimits* limits = nullptr;
  EVP_MD_CTX* md = nullptr;  // null when no digest is checked
  int64_t compressed = 0;
  bool eof = false;
  absl::Status error;  // the reason the callback failed, richer than libarchive's text
};

la_ssize_t ReadCallback(struct archive* a, void* data, const void** buffer) {
  auto* src = static_cast<Source*>(data);
  if (src->eof) return 0;
  absl::StatusOr<absl::string_view> chunk = src->in->Next();
  if (!chunk.ok()) {
    src->error = chunk.status();
    archive_set_error(a, EIO, "layer stream failed");
    return -1;
  }
  if (chunk->empty()) {
    src->eof = true;
    return 0;
  }
  src->compressed += static_cast<int64_t>(chunk->size());
  if (src->compressed > src->limits->max_layer_size) {
    src->error = absl::ResourceExhaustedError(
        absl::StrCat("layer is larger than scanner.limits.max_layer_size (",
                     Bytes(src->limits->max_layer_size), ")"));
    archive_set_error(a, EFBIG, "layer too large");
    return -1;
  }
  if (src->md != nullptr) EVP_DigestUpdate(src->md, chunk->data(), chunk->size());
  *buffer = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct MdDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class Reader {
 public:
  Reader(ByteStream& in, const LayerLimits& limits) : limits_(limits) {
    src_.in = &in;
    src_.limits = &limits;
  }

  absl::StatusOr<LayerContent> Run(absl::string_view expected_digest) {
    std::unique_ptr<EVP_MD_CTX, MdDeleter> md;
    std::string want_hex;
    if (!expected_digest.empty()) {
      const size_t colon = expected_digest.find(':');
      const absl::string_view algo = expected_digest.substr(0, colon);
      const EVP_MD* type = algo == "sha256" ? EVP_sha256() : (algo == "sha512" ? EVP_sha512() : nullptr);
      if (colon == absl::string_view::npos || type == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported layer digest \"", expected_digest, "\""));
      }
      want_hex = absl::AsciiStrToLower(expected_digest.substr(colon + 1));
      md.reset(EVP_MD_CTX_new());
      if (!md || EVP_DigestInit_ex(md.get(), type, nullptr) != 1) {
        return absl::InternalError("cannot initialise the digest");
      }
      src_.md = md.get();
    }

    std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
    if (!a) return absl::ResourceExhaustedError("cannot allocate an archive reader");
    // OCI layers are tar, gzip- or zstd-compressed or not. Nothing else is enabled, so other
    // formats and filters never get to parse hostile bytes.
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open(a.get(), &src_, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
      return ArchiveError(a.get(), "cannot read layer");
    }
    absl::Status s = Entries(a.get());
    if (!s.ok()) return s;
    // Read what follows the end-of-archive marker, so the digest covers the whole blob.
    while (!src_.eof) {
      const void* buf;
      if (ReadCallback(a.get(), &src_, &buf) < 0) return src_.error;
    }
    content_.compressed_bytes = src_.compressed;
    content_.uncompressed_bytes = archive_filter_bytes(a.get(), 0);
    if (md) {
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      EVP_DigestFinal_ex(md.get(), digest, &len);
      const std::string got = absl::BytesToHexString(
          absl::string_view(reinterpret_cast<const char*>(digest), len));
      if (got != want_hex) {
        return absl::UnavailableError(absl::StrCat("layer content does not match its digest ",
                                                   expected_digest, " (damaged transfer)"));
      }
    }
    return std::move(content_);
  }

 private:
  absl::Status ArchiveError(struct archive* a, absl::string_view what) {
    if (!src_.error.ok()) return src_.error;
    const char* msg = archive_error_string(a);
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", msg ? msg : "damaged or unsupported data",
                     " (a layer must be a gzip, zstd or uncompressed tar)"));
  }

  // Uncompressed volume and decompression-bomb checks, called as data flows.
  absl::Status CheckVolume(struct archive* a) {
    const int64_t unc = archive_filter_bytes(a, 0);
    if (unc > limits_.max_uncompressed_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat("layer expands to more than scanner.limits.max_uncompressed_size (",
                       Bytes(limits_.max_uncompressed_size), ")"));
    }
    if (unc > limits_.bomb_check_after && src_.compressed > 0 &&
        unc / src_.compressed > limits_.max_compression_ratio) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "decompression bomb: ", src_.compressed, " compressed bytes expanded to ", unc,
          " (more than scanner.limits.max_compression_ratio ", limits_.max_compression_ratio, ":1)"));
    }
    return absl::OkStatus();
  }

  absl::Status SkipData(struct archive* a) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    for (;;) {
      const int r = archive_read_data_block(a, &buf, &size, &offset);
      if (r == ARCHIVE_EOF) return absl::OkStatus();
      if (r < ARCHIVE_WARN) return ArchiveError(a, "damaged layer");
      absl::Status s = CheckVolume(a);
      if (!s.ok()) return s;
    }
  }

  absl::Status KeepFile(struct archive* a, const std::string& path, int64_t size) {
    if (size > limits_.max_file_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, " is ", size, " bytes, more than scanner.limits.max_file_size (",
                       Bytes(limits_.max_file_size), ")"));
    }
    if (kept_ + size > limits_.max_kept_size) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "the package databases of this layer exceed scanner.limits.max_kept_size (",
          Bytes(limits_.max_kept_size), ")"));
    }
    std::string data;
    data.reserve(static_cast<size_t>(size));
    char buf[64 * 1024];
    for (;;) {
      const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) return ArchiveError(a, absl::StrCat("damaged layer while reading ", path));
      if (static_cast<int64_t>(data.size()) + n > size) {
        return absl::InvalidArgumentError(absl::StrCat("damaged layer: ", path, " is longer than its header says"));
      }
      data.append(buf, static_cast<size_t>(n));
      absl::Status s = CheckVolume(a);
      if (!s.ok()) return s;
    }
    kept_ += static_cast<int64_t>(data.size());
    regular_[path] = content_.entries.size();
    content_.entries.push_back({LayerEntry::Type::kFile, path, std::move(data)});
    return absl::OkStatus();
  }

  absl::Status Entries(struct archive* a) {
    int retries = 0;
    for (;;) {
      struct archive_entry* entry = nullptr;
      const int r = archive_read_next_header(a, &entry);
      if (r == ARCHIVE_EOF) return absl::OkStatus();
      if (r == ARCHIVE_RETRY) {
        if (++retries > 16) return ArchiveError(a, "damaged layer");
        continue;
      }
      if (r < ARCHIVE_WARN) return ArchiveError(a, "damaged layer");
      retries = 0;
      if (++content_.entry_count > limits_.max_entries) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "layer has more than scanner.limits.max_entries (", limits_.max_entries, ") entries"));
      }
      PORTUNUS_RETURN_IF_ERROR(CheckVolume(a));
      PORTUNUS_RETURN_IF_ERROR(Entry(a, entry));
    }
  }

  absl::Status Entry(struct archive* a, struct archive_entry* entry) {
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) return SkipData(a);  // a name libarchive cannot decode is no path of ours
    const absl::string_view name(raw);
    if (static_cast<int64_t>(name.size()) > limits_.max_path_length) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "layer entry name is ", name.size(), " bytes, more than scanner.limits.max_path_length (",
          limits_.max_path_length, ")"));
    }
    const std::string path = NormalizeImagePath(name);
    if (PathDepth(path) > limits_.max_path_depth) {
      return absl::ResourceExhaustedError(
          absl::StrCat("layer entry has ", PathDepth(path),
                       " path components, more than scanner.limits.max_path_depth (",
                       limits_.max_path_depth, ")"));
    }
    const int64_t size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    if (size < 0 || size > limits_.max_entry_size) {
      return absl::ResourceExhaustedError(
          absl::StrCat("layer entry ", path.substr(0, 256), " is ", size,
                       " bytes, more than scanner.limits.max_entry_size (",
                       Bytes(limits_.max_entry_size), ")"));
    }
    const absl::string_view dir = PathDirname(path);
    const absl::string_view base = absl::string_view(path).substr(dir.empty() ? 0 : dir.size() + 1);

    // OCI whiteouts (image-spec layer.md): they delete from the layers below.
    if (absl::StartsWith(base, kWhiteoutPrefix)) {
      if (base == kOpaqueMarker) {
        if (dir.empty() || IsInterestingAncestor(dir)) {
          content_.entries.push_back({LayerEntry::Type::kOpaque, std::string(dir), ""});
        }
      } else {
        const std::string target =
            absl::StrCat(dir, dir.empty() ? "" : "/", base.substr(kWhiteoutPrefix.size()));
        if (IsInterestingFile(target) || IsInterestingAncestor(target)) {
          content_.entries.push_back({LayerEntry::Type::kWhiteout, target, ""});
        }
      }
      return SkipData(a);
    }

    const bool interesting = IsInterestingFile(path);
    const bool ancestor = IsInterestingAncestor(path);
    if (!interesting && !ancestor) return SkipData(a);

    if (const char* link = archive_entry_hardlink(entry)) {
      // A hard link's content is its target's, which must be a file this layer kept.
      const std::string target = NormalizeImagePath(link);
      auto it = regular_.find(target);
      if (interesting && it != regular_.end()) {
        // A copy costs memory like any kept file: hard links must not multiply a big one.
        const int64_t n = static_cast<int64_t>(content_.entries[it->second].data.size());
        if (kept_ + n > limits_.max_kept_size) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the package databases of this layer exceed scanner.limits.max_kept_size (",
              Bytes(limits_.max_kept_size), ")"));
        }
        kept_ += n;
        regular_[path] = content_.entries.size();
        std::string copy = content_.entries[it->second].data;
        content_.entries.push_back({LayerEntry::Type::kFile, path, std::move(copy)});
      } else if (interesting) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, " is a hard link to ", target, ", which is not a package database"));
      } else {
        content_.entries.push_back({LayerEntry::Type::kOther, path, ""});
      }
      return SkipData(a);
    }

    switch (archive_entry_filetype(entry)) {
      case AE_IFREG:
        if (interesting) return KeepFile(a, path, size);
        content_.entries.push_back({LayerEntry::Type::kOther, path, ""});
        break;
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        content_.entries.push_back({LayerEntry::Type::kSymlink, path, target ? target : ""});
        break;
      }
      case AE_IFDIR:
        // A directory where a file was expected hides that file; directories on the way to
        // the interesting files are what a layer normally holds and change nothing.
        if (interesting) content_.entries.push_back({LayerEntry::Type::kDirectory, path, ""});
        break;
      default:
        content_.entries.push_back({LayerEntry::Type::kOther, path, ""});
        break;
    }
    return SkipData(a);
  }

  const LayerLimits& limits_;
  Source src_;
  LayerContent content_;
  int64_t kept_ = 0;
  std::map<std::string, size_t> regular_;  // kept file path -> index in content_.entries
};

}  // namespace

absl::string_view LayerEntryTypeName(LayerEntry::Type type) {
  switch (type) {
    case LayerEntry::Type::kFile:
      return "file";
    case LayerEntry::Type::kSymlink:
      return "symlink";
    case LayerEntry::Type::kDirectory:
      return "directory";
    case LayerEntry::Type::kOther:
      return "other";
    case LayerEntry::Type::kWhiteout:
      return "whiteout";
    case LayerEntry::Type::kOpaque:
      return "opaque";
  }
  return "other";
}

bool ParseLayerEntryType(absl::string_view name, LayerEntry::Type* type) {
  for (LayerEntry::Type t : {LayerEntry::Type::kFile, LayerEntry::Type::kSymlink,
                             LayerEntry::Type::kDirectory, LayerEntry::Type::kOther,
                             LayerEntry::Type::kWhiteout, LayerEntry::Type::kOpaque}) {
    if (LayerEntryTypeName(t) == name) {
      *type = t;
      return true;
    }
  }
  return false;
}

absl::StatusOr<LayerContent> ReadLayer(ByteStream& in, const LayerLimits& limits,
                                       absl::string_view expected_digest) {
  Reader reader(in, limits);
  return reader.Run(expected_digest);
}

absl::Status ChunkPipe::Push(absl::string_view chunk) {
  absl::MutexLock lock(&mu_);
  auto can_push = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return read_closed_ || buffered_ < max_buffered_ || chunks_.empty();
  };
  mu_.Await(absl::Condition(&can_push));
  if (read_closed_) return absl::CancelledError("layer reader stopped");
  chunks_.emplace_back(chunk.data(), chunk.size());
  buffered_ += chunk.size();
  return absl::OkStatus();
}

void ChunkPipe::CloseWrite(absl::Status status) {
  absl::MutexLock lock(&mu_);
  write_closed_ = true;
  write_status_ = std::move(status);
}

void ChunkPipe::CloseRead() {
  absl::MutexLock lock(&mu_);
  read_closed_ = true;
  chunks_.clear();
  buffered_ = 0;
}

absl::StatusOr<absl::string_view> ChunkPipe::Next() {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !chunks_.empty() || write_closed_;
  };
  mu_.Await(absl::Condition(&ready));
  if (!chunks_.empty()) {
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    buffered_ -= current_.size();
    return absl::string_view(current_);
  }
  if (!write_status_.ok()) return write_status_;
  return absl::string_view();
}

absl::StatusOr<LayerContent> ReadLayerFromSource(BlobSource& source, const std::string& repository,
                                                 const std::string& digest,
                                                 const LayerLimits& limits) {
  ChunkPipe pipe(4 << 20);
  std::thread producer([&] {
    absl::Status s = source.StreamBlob(repository, digest,
                                       [&pipe](absl::string_view chunk) { return pipe.Push(chunk); });
    pipe.CloseWrite(s.ok() ? s
                           : absl::Status(s.code(), absl::StrCat("fetching layer ", digest, ": ",
                                                                 s.message())));
  });
  absl::StatusOr<LayerContent> result = ReadLayer(pipe, limits, digest);
  pipe.CloseRead();
  producer.join();
  return result;
}

}  // namespace portunus::scanner
