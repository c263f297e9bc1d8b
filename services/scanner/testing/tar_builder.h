// Test helper: builds image layers (tar, optionally gzip or zstd) in memory with libarchive,
// and hand-made tar headers for inputs libarchive would refuse to write (huge declared sizes).
// Header-only; used by the scanner's tests and benchmarks.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace portunus::scanner::testing {

enum class Compression { kNone, kGzip, kZstd };

class TarBuilder {
 public:
  TarBuilder& File(std::string path, std::string content) {
    entries_.push_back({AE_IFREG, std::move(path), std::move(content), ""});
    return *this;
  }
  TarBuilder& Dir(std::string path) {
    entries_.push_back({AE_IFDIR, std::move(path), "", ""});
    return *this;
  }
  TarBuilder& Symlink(std::string path, std::string target) {
    entries_.push_back({AE_IFLNK, std::move(path), "", std::move(target)});
    return *this;
  }
  TarBuilder& Hardlink(std::string path, std::string target) {
    entries_.push_back({0, std::move(path), "", std::move(target)});
    return *this;
  }
  // A regular file of `size` zero bytes, written in chunks (for big layers).
  TarBuilder& Zeros(std::string path, size_t size) {
    entries_.push_back({AE_IFREG, std::move(path), "", "", size});
    return *this;
  }

  std::string Build(Compression c = Compression::kNone) const {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
    if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open(a, &out, nullptr, &Write, nullptr);
    for (const Entry& e : entries_) {
      struct archive_entry* ae = archive_entry_new();
      archive_entry_set_pathname(ae, e.path.c_str());
      archive_entry_set_mtime(ae, 1700000000, 0);
      if (e.type == 0) {
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_hardlink(ae, e.target.c_str());
        archive_entry_set_size(ae, 0);
      } else {
        archive_entry_set_filetype(ae, e.type);
        archive_entry_set_perm(ae, e.type == AE_IFDIR ? 0755 : 0644);
        if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.target.c_str());
        archive_entry_set_size(ae, e.type == AE_IFREG
                                       ? static_cast<la_int64_t>(e.zeros ? e.zeros : e.content.size())
                                       : 0);
      }
      archive_write_header(a, ae);
      if (e.type == AE_IFREG) {
        if (e.zeros) {
          std::string chunk(1 << 20, '\0');
          for (size_t left = e.zeros; left > 0;) {
            const size_t n = left < chunk.size() ? left : chunk.size();
            archive_write_data(a, chunk.data(), n);
            left -= n;
          }
        } else if (!e.content.empty()) {
          archive_write_data(a, e.content.data(), e.content.size());
        }
      }
      archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

 private:
  struct Entry {
    int type;  // AE_IF*, 0 = hard link
    std::string path, content, target;
    size_t zeros = 0;
  };
  static la_ssize_t Write(struct archive*, void* data, const void* buf, size_t n) {
    static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  std::vector<Entry> entries_;
};

// A 512-byte ustar header for `name` declaring `size` bytes (base-256 encoded when it does not
// fit in octal), so a test can claim a 10 GB entry without writing 10 GB.
inline std::string UstarHeader(const std::string& name, unsigned long long size, char type = '0') {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), name.size() < 100 ? name.size() : 100);
  std::snprintf(&h[100], 8, "%07o", 0644);
  std::snprintf(&h[108], 8, "%07o", 0);
  std::snprintf(&h[116], 8, "%07o", 0);
  if (size < 077777777777ULL) {
    std::snprintf(&h[124], 12, "%011llo", size);
  } else {
    h[124] = static_cast<char>(0x80);
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  }
  std::snprintf(&h[136], 12, "%011o", 1700000000);
  h[156] = type;
  std::memcpy(&h[257], "ustar", 6);
  std::memcpy(&h[263], "00", 2);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(&h[148], 8, "%06o", sum);
  h[155] = ' ';
  return h;
}

}  // namespace portunus::scanner::testing
