#include "services/scanner/vulndb_importer.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace portunus::scanner {
namespace {

constexpr char kOsvSource[] = "osv";
constexpr char kDebianSource[] = "debian-security-tracker";
constexpr char kAlpineSourcePrefix[] = "alpine-secdb:";
constexpr size_t kMaxInMemoryDocument = 64 * 1024 * 1024;

bool IsUrl(absl::string_view s) {
  return absl::StartsWith(s, "http://") || absl::StartsWith(s, "https://");
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(absl::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Hex() {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, d, &n);
    return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(d), n));
  }

 private:
  EVP_MD_CTX* ctx_;
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  if (static_cast<size_t>(size) > max) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, " is ", size, " bytes, more than the ", max, " allowed for this document"));
  }
  std::string data(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(data.data(), size);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return data;
}

absl::StatusOr<std::string> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Sha256 h;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    h.Update(absl::string_view(buf, static_cast<size_t>(in.gcount())));
  }
  return h.Hex();
}

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

}  // namespace

class VulnDbImporter::Run {
 public:
  Run(VulnDbImporter& owner, const ImportRequest& request, const ImportProgressFn& progress)
      : owner_(owner), request_(request), progress_(progress) {}

  absl::StatusOr<ImportSummary> Execute() {
    const absl::Time start = owner_.clock_.Now();
    absl::Status s = Load();
    if (!s.ok()) {
      const std::string name = request_.source_name.empty() ? DefaultSourceName() : request_.source_name;
      if (!name.empty()) {
        owner_.store_.RecordFailure(name, request_.location, std::string(s.message()), start).IgnoreError();
      }
      return s;
    }
    if (!not_modified_) {
      s = Store();
      if (!s.ok()) return s;
    }
    summary_.took = owner_.clock_.Now() - start;
    return summary_;
  }

 private:
  // A feed that replaces a whole source (Debian tracker, one Alpine secdb file).
  struct Replacement {
    FeedSource source;
    FeedData data;
  };

  std::string DefaultSourceName() const {
    switch (request_.format) {
      case FeedFormat::kOsv:
        return kOsvSource;
      case FeedFormat::kDebianTracker:
        return kDebianSource;
      default:
        return "";
    }
  }

  void Report(absl::string_view phase, int64_t done, int64_t total) {
    if (!progress_) return;
    ImportProgress p;
    p.phase = std::string(phase);
    p.done = done;
    p.total = total;
    p.documents = summary_.documents;
    progress_(p);
  }

  absl::Status Load() {
    if (request_.location.empty()) return absl::InvalidArgumentError("location: a path or URL is required");
    std::string path = request_.location;
    struct Cleanup {
      std::string file;
      ~Cleanup() {
        if (!file.empty()) unlink(file.c_str());
      }
    } cleanup;
    if (IsUrl(request_.location)) {
      if (owner_.fetcher_ == nullptr) {
        return absl::FailedPreconditionError("importing from URLs is not configured here");
      }
      PORTUNUS_RETURN_IF_ERROR(Download(&path));
      cleanup.file = path;
      if (not_modified_) return absl::OkStatus();
      location_digest_ = HashFile(path).value_or("");
    }
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat(request_.location, ": ", std::strerror(errno)));
    }
    if (S_ISDIR(st.st_mode)) {
      std::vector<std::pair<std::string, int64_t>> files;
      PORTUNUS_RETURN_IF_ERROR(Walk(path, 0, &files));
      if (files.empty()) return absl::InvalidArgumentError(absl::StrCat(request_.location, ": no .json files"));
      int64_t total = 0, done = 0;
      for (const auto& f : files) total += f.second;
      for (const auto& [file, size] : files) {
        PORTUNUS_RETURN_IF_ERROR(File(file, /*in_directory=*/true));
        done += size;
        Report("reading", done, total);
      }
      return absl::OkStatus();
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(request_.location, ": not a file or directory"));
    }
    return File(path, /*in_directory=*/false);
  }

  absl::Status Download(std::string* path) {
    std::string dir = owner_.options_.temp_dir;
    if (dir.empty()) return absl::FailedPreconditionError("no temporary directory configured for downloads");
    mkdir(dir.c_str(), 0700);
    std::string tmpl = dir + "/feed-XXXXXX";
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot create a file in ", dir, ": ", std::strerror(errno)));
    close(fd);
    unlink(tmpl.c_str());  // the fetcher creates it exclusively
    // The ETag of the last import from this URL, whatever source it became.
    std::string etag;
    if (!request_.force) {
      absl::StatusOr<std::vector<FeedSource>> sources = owner_.store_.ListSources();
      if (sources.ok()) {
        for (const FeedSource& s : *sources) {
          if (s.location == request_.location && s.last_error.empty()) {
            etag = s.etag;
            previous_source_ = s.name;
          }
        }
      }
    }
    absl::StatusOr<DownloadResult> r = owner_.fetcher_->Download(
        request_.location, tmpl, etag,
        [this](int64_t done, int64_t total) { Report("downloading", done, total); });
    if (!r.ok()) {
      unlink(tmpl.c_str());
      return r.status();
    }
    etag_ = r->etag;
    if (r->not_modified) {
      unlink(tmpl.c_str());
      not_modified_ = true;
      summary_.unchanged = true;
      if (!previous_source_.empty()) summary_.sources.push_back(previous_source_);
      summary_.generation = owner_.store_.Generation().value_or(0);
      return absl::OkStatus();
    }
    *path = tmpl;
    return absl::OkStatus();
  }

  absl::Status Walk(const std::string& dir, int depth, std::vector<std::pair<std::string, int64_t>>* out) {
    if (depth > owner_.options_.max_directory_depth) {
      return absl::ResourceExhaustedError(absl::StrCat(dir, ": directories nested too deeply"));
    }
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) return absl::NotFoundError(absl::StrCat(dir, ": ", std::strerror(errno)));
    std::vector<std::string> names;
    while (struct dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path = dir + "/" + name;
      struct stat st;
      if (lstat(path.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        PORTUNUS_RETURN_IF_ERROR(Walk(path, depth + 1, out));
      } else if (S_ISREG(st.st_mode) && (absl::EndsWith(name, ".json") || absl::EndsWith(name, ".zip"))) {
        if (static_cast<int64_t>(out->size()) >= owner_.options_.max_documents) {
          return absl::ResourceExhaustedError("too many files to import");
        }
        out->emplace_back(path, static_cast<int64_t>(st.st_size));
      }
    }
    return absl::OkStatus();
  }

  absl::Status File(const std::string& path, bool in_directory) {
    char magic[4] = {0};
    {
      std::ifstream in(path, std::ios::binary);
      if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
      in.read(magic, sizeof magic);
    }
    if (std::memcmp(magic, "PK\x03\x04", 4) == 0 || std::memcmp(magic, "PK\x05\x06", 4) == 0) {
      return Zip(path);
    }
    // Peek at the start to know the format; the Debian tracker is parsed as a stream.
    std::string head;
    {
      std::ifstream in(path, std::ios::binary);
      head.resize(4096);
      in.read(head.data(), static_cast<std::streamsize>(head.size()));
      head.resize(static_cast<size_t>(in.gcount()));
    }
    FeedFormat format = request_.format;
    if (format == FeedFormat::kAuto) {
      absl::StatusOr<FeedFormat> detected = DetectFeedFormat(head);
      if (!detected.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", detected.status().message()));
      format = *detected;
    }
    const std::string shown = in_directory || !IsUrl(request_.location) ? path : request_.location;
    if (format == FeedFormat::kDebianTracker) {
      struct stat st;
      if (stat(path.c_str(), &st) == 0 && st.st_size > owner_.options_.max_tracker_size) {
        return absl::ResourceExhaustedError(absl::StrCat(shown, " is larger than allowed for the Debian tracker"));
      }
      PORTUNUS_ASSIGN_OR_RETURN(std::string digest, HashFile(path));
      std::ifstream in(path, std::ios::binary);
      Report("reading", 0, -1);
      absl::StatusOr<FeedData> data = ParseDebianTracker(in, SourceName(kDebianSource));
      if (!data.ok()) return absl::InvalidArgumentError(absl::StrCat(shown, ": ", data.status().message()));
      ++summary_.documents;
      return AddReplacement(SourceName(kDebianSource), FeedFormat::kDebianTracker, digest, *std::move(data));
    }
    PORTUNUS_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(path, kMaxInMemoryDocument));
    return Document(shown, content, format);
  }

  // One JSON document held in memory.
  absl::Status Document(const std::string& name, const std::string& content, FeedFormat format) {
    if (format == FeedFormat::kAuto) {
      absl::StatusOr<FeedFormat> detected = DetectFeedFormat(absl::string_view(content).substr(0, 4096));
      if (!detected.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", detected.status().message()));
      format = *detected;
    }
    if (++summary_.documents > owner_.options_.max_documents) {
      return absl::ResourceExhaustedError("too many documents to import");
    }
    Sha256 h;
    h.Update(content);
    const std::string digest = h.Hex();
    switch (format) {
      case FeedFormat::kOsv: {
        absl::Status s = ParseOsv(content, SourceName(kOsvSource), &osv_);
        if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
        has_osv_ = true;
        osv_digest_.Update(digest);
        return absl::OkStatus();
      }
      case FeedFormat::kAlpineSecdb: {
        std::string suffix;
        absl::StatusOr<FeedData> data = ParseAlpineSecdb(content, "", &suffix);
        if (!data.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", data.status().message()));
        const std::string source = SourceName(absl::StrCat(kAlpineSourcePrefix, suffix));
        for (Affected& a : data->affected) a.source = source;
        return AddReplacement(source, FeedFormat::kAlpineSecdb, digest, *std::move(data));
      }
      case FeedFormat::kDebianTracker: {
        std::istringstream in(content);
        absl::StatusOr<FeedData> data = ParseDebianTracker(in, SourceName(kDebianSource));
        if (!data.ok()) return absl::InvalidArgumentError(absl::StrCat(name, ": ", data.status().message()));
        return AddReplacement(SourceName(kDebianSource), FeedFormat::kDebianTracker, digest, *std::move(data));
      }
      case FeedFormat::kAuto:
        break;
    }
    return absl::InternalError("unreachable feed format");
  }

  absl::Status Zip(const std::string& path) {
    std::unique_ptr<struct archive, ArchiveFree> a(archive_read_new());
    archive_read_support_format_zip(a.get());
    if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable zip archive: ",
                                                     archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
    }
    struct stat st;
    const int64_t total = stat(path.c_str(), &st) == 0 ? st.st_size : -1;
    int64_t uncompressed = 0;
    for (;;) {
      struct archive_entry* e = nullptr;
      const int r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": damaged zip archive: ",
                                                       archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
      }
      const char* raw = archive_entry_pathname(e);
      const std::string name = raw ? raw : "";
      if (archive_entry_filetype(e) != AE_IFREG || !absl::EndsWith(name, ".json")) continue;
      const int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
      if (size > static_cast<int64_t>(kMaxInMemoryDocument)) {
        return absl::ResourceExhaustedError(absl::StrCat(path, "!", name, " is too large (", size, " bytes)"));
      }
      std::string content;
      char buf[1 << 16];
      for (;;) {
        const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
          return absl::InvalidArgumentError(absl::StrCat(path, "!", name, ": damaged zip entry: ",
                                                         archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
        }
        content.append(buf, static_cast<size_t>(n));
        uncompressed += n;
        if (content.size() > kMaxInMemoryDocument || uncompressed > owner_.options_.max_archive_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(path, ": archive expands beyond the allowed size"));
        }
      }
      PORTUNUS_RETURN_IF_ERROR(Document(absl::StrCat(path, "!", name), content, request_.format));
      if (summary_.documents % 256 == 0) Report("reading", archive_filter_bytes(a.get(), -1), total);
    }
    Report("reading", total, total);
    return absl::OkStatus();
  }

  std::string SourceName(const std::string& fallback) const {
    return request_.source_name.empty() ? fallback : request_.source_name;
  }

  absl::Status AddReplacement(const std::string& name, FeedFormat format, const std::string& digest, FeedData data) {
    for (Replacement& r : replacements_) {
      if (r.source.name == name) {
        return absl::InvalidArgumentError(
            absl::StrCat("two documents of this import would both replace source ", name));
      }
    }
    Replacement r;
    r.source.name = name;
    r.source.format = format;
    r.source.location = request_.location;
    r.source.digest = digest;
    r.source.etag = etag_;
    r.data = std::move(data);
    replacements_.push_back(std::move(r));
    return absl::OkStatus();
  }

  absl::Status Store() {
    const absl::Time now = owner_.clock_.Now();
    int64_t total = static_cast<int64_t>(replacements_.size()) + (has_osv_ ? 1 : 0);
    int64_t done = 0;
    bool wrote = false;
    Report("storing", 0, total);
    for (Replacement& r : replacements_) {
      summary_.sources.push_back(r.source.name);
      summary_.vulnerabilities += static_cast<int64_t>(r.data.vulnerabilities.size());
      summary_.affected += static_cast<int64_t>(r.data.affected.size());
      summary_.skipped += r.data.skipped;
      if (!request_.force) {
        absl::StatusOr<FeedSource> old = owner_.store_.GetSource(r.source.name);
        if (old.ok() && old->digest == r.source.digest && old->last_error.empty()) {
          Report("storing", ++done, total);
          continue;  // byte for byte what is stored already
        }
      }
      r.source.updated = now;
      r.source.last_attempt = now;
      PORTUNUS_ASSIGN_OR_RETURN(summary_.generation, owner_.store_.ReplaceSource(r.source, r.data));
      wrote = true;
      Report("storing", ++done, total);
    }
    if (has_osv_) {
      FeedSource s;
      s.name = SourceName(kOsvSource);
      s.format = FeedFormat::kOsv;
      s.location = request_.location;
      s.digest = location_digest_.empty() ? osv_digest_.Hex() : location_digest_;
      s.etag = etag_;
      s.updated = now;
      s.last_attempt = now;
      summary_.sources.push_back(s.name);
      summary_.vulnerabilities += static_cast<int64_t>(osv_.vulnerabilities.size());
      summary_.affected += static_cast<int64_t>(osv_.affected.size());
      summary_.withdrawn += static_cast<int64_t>(osv_.withdrawn.size());
      summary_.skipped += osv_.skipped;
      absl::StatusOr<FeedSource> old = owner_.store_.GetSource(s.name);
      if (request_.force || !old.ok() || old->digest != s.digest || !old->last_error.empty()) {
        PORTUNUS_ASSIGN_OR_RETURN(summary_.generation, owner_.store_.UpsertRecords(s, osv_));
        wrote = true;
      }
      Report("storing", ++done, total);
    }
    if (!wrote) {
      summary_.unchanged = true;
      PORTUNUS_ASSIGN_OR_RETURN(summary_.generation, owner_.store_.Generation());
    }
    return absl::OkStatus();
  }

  VulnDbImporter& owner_;
  const ImportRequest& request_;
  const ImportProgressFn& progress_;
  ImportSummary summary_;
  std::vector<Replacement> replacements_;
  FeedData osv_;
  bool has_osv_ = false;
  Sha256 osv_digest_;              // over the digests of every OSV document, in order
  std::string location_digest_;    // the downloaded file's digest
  std::string etag_;
  std::string previous_source_;
  bool not_modified_ = false;
};

absl::StatusOr<ImportSummary> VulnDbImporter::Import(const ImportRequest& request,
                                                     const ImportProgressFn& progress) {
  Run run(*this, request, progress);
  return run.Execute();
}

}  // namespace portunus::scanner
