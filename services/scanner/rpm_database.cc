#include "services/scanner/rpm_database.h"

#include <dirent.h>
#include <fcntl.h>
#include <rpm/header.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmmacro.h>
#include <rpm/rpmtag.h>
#include <rpm/rpmts.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace portunus::scanner {
namespace {

// librpm keeps one macro context, one log and one rpmrc per process.
std::mutex& RpmMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}

absl::Status InitRpmOnce() {
  static std::once_flag once;
  static int rc = 0;
  std::call_once(once, [] {
    std::lock_guard<std::mutex> lock(RpmMutex());
    macrofiles = "";  // read no macro files: nothing from the host configures our reads
    rc = rpmReadConfigFiles("/dev/null", nullptr);
    rpmlogSetMask(RPMLOG_UPTO(RPMLOG_ERR));
  });
  if (rc != 0) return absl::InternalError("librpm initialisation failed");
  return absl::OkStatus();
}

uint32_t Le32(absl::string_view s, size_t off) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + off);
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint32_t Adler32(absl::string_view data) {
  constexpr uint32_t kMod = 65521;
  uint32_t a = 1, b = 0;
  size_t i = 0;
  while (i < data.size()) {
    // 5552 bytes is the most that can be summed before the 32-bit sums may overflow.
    const size_t n = std::min<size_t>(5552, data.size() - i);
    for (size_t k = 0; k < n; ++k) {
      a += static_cast<unsigned char>(data[i + k]);
      b += a;
    }
    a %= kMod;
    b %= kMod;
    i += n;
  }
  return (b << 16) | a;
}

// Removes every entry of `dir` (librpm may leave lock and -shm files) and the directory.
void RemoveTree(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      const std::string path = dir + "/" + e->d_name;
      struct stat st;
      if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        RemoveTree(path);
      } else {
        unlink(path.c_str());
      }
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

absl::Status WriteFile(const std::string& path, absl::string_view data) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(err)));
    }
    off += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string HeaderString(Header h, rpmTagVal tag) {
  const char* s = headerGetString(h, tag);
  return s ? std::string(s) : std::string();
}

// Turns one header into a package; returns false for entries that are not packages.
bool PackageFromHeader(Header h, Package* p) {
  std::string name = HeaderString(h, RPMTAG_NAME);
  if (name.empty() || name == "gpg-pubkey") return false;
  std::string epoch;
  if (headerIsEntry(h, RPMTAG_EPOCH)) {
    const uint64_t e = headerGetNumber(h, RPMTAG_EPOCH);
    if (e != 0) epoch = absl::StrCat(e, ":");
  }
  const std::string version = HeaderString(h, RPMTAG_VERSION);
  const std::string release = HeaderString(h, RPMTAG_RELEASE);
  p->format = PackageFormat::kRpm;
  p->name = std::move(name);
  p->version = absl::StrCat(epoch, version, release.empty() ? "" : "-", release);
  p->arch = HeaderString(h, RPMTAG_ARCH);
  p->source_name = p->name;
  p->source_version = p->version;
  // SOURCERPM is "name-version-release.src.rpm" ("(none)" for pseudo packages).
  absl::string_view src = headerGetString(h, RPMTAG_SOURCERPM) ? headerGetString(h, RPMTAG_SOURCERPM) : "";
  if (absl::ConsumeSuffix(&src, ".src.rpm") || absl::ConsumeSuffix(&src, ".nosrc.rpm")) {
    const size_t rel_dash = src.rfind('-');
    if (rel_dash != absl::string_view::npos && rel_dash > 0) {
      const size_t ver_dash = src.rfind('-', rel_dash - 1);
      if (ver_dash != absl::string_view::npos && ver_dash > 0) {
        p->source_name = std::string(src.substr(0, ver_dash));
        p->source_version = absl::StrCat(epoch, src.substr(ver_dash + 1));
      }
    }
  }
  return true;
}

// Collects librpm's error messages during one read (called with RpmMutex held).
int CollectLog(rpmlogRec rec, rpmlogCallbackData data) {
  auto* errors = static_cast<std::string*>(data);
  if (rpmlogRecPriority(rec) <= RPMLOG_ERR && errors->size() < 2048) {
    absl::string_view msg = rpmlogRecMessage(rec) ? rpmlogRecMessage(rec) : "";
    absl::ConsumeSuffix(&msg, "\n");
    if (!errors->empty()) errors->append("; ");
    errors->append(msg.data(), msg.size());
  }
  return 0;  // handled: neither printed nor fatal
}

bool HasSqliteMagic(absl::string_view db) {
  return absl::StartsWith(db, absl::string_view("SQLite format 3\0", 16));
}

bool HasBdbMagic(absl::string_view db) {
  if (db.size() < 512) return false;
  const uint32_t magic = Le32(db, 12);
  const uint32_t swapped = __builtin_bswap32(magic);
  constexpr uint32_t kHash = 0x061561, kBtree = 0x053162;
  return magic == kHash || swapped == kHash || magic == kBtree || swapped == kBtree;
}

}  // namespace

absl::string_view RpmDbKindName(RpmDbKind kind) {
  switch (kind) {
    case RpmDbKind::kSqlite:
      return "sqlite";
    case RpmDbKind::kNdb:
      return "ndb";
    case RpmDbKind::kBdb:
      return "bdb";
  }
  return "sqlite";
}

absl::StatusOr<std::vector<absl::string_view>> ReadNdbBlobs(absl::string_view file) {
  constexpr size_t kPage = 4096;
  constexpr size_t kBlock = 16;
  if (file.size() < 32 || file.substr(0, 4) != "RpmP") {
    return absl::InvalidArgumentError("not an NDB rpm database (no RpmP header)");
  }
  if (Le32(file, 4) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("NDB version ", Le32(file, 4), " is not supported"));
  }
  const uint64_t slot_pages = Le32(file, 12);
  if (slot_pages == 0 || slot_pages * kPage > file.size()) {
    return absl::InvalidArgumentError("NDB slot area is larger than the file");
  }
  const uint64_t file_blocks = file.size() / kBlock;
  std::vector<absl::string_view> blobs;
  for (size_t off = 32; off + 16 <= slot_pages * kPage; off += 16) {
    if (file.substr(off, 16) == absl::string_view("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16)) {
      continue;  // never-used slot (rpm writes "Slot" with zeros; be lenient about all zeros)
    }
    if (file.substr(off, 4) != "Slot") {
      return absl::InvalidArgumentError(absl::StrCat("NDB slot at offset ", off, " is damaged"));
    }
    const uint32_t pkgidx = Le32(file, off + 4);
    const uint64_t blkoff = Le32(file, off + 8);
    const uint64_t blkcnt = Le32(file, off + 12);
    if (blkoff == 0) continue;  // free slot
    if (blkoff < slot_pages * (kPage / kBlock) || blkcnt < 2 || blkoff + blkcnt > file_blocks) {
      return absl::InvalidArgumentError(
          absl::StrCat("NDB slot for package ", pkgidx, " points outside the file"));
    }
    absl::string_view rec = file.substr(blkoff * kBlock, blkcnt * kBlock);
    // "BlbS" pkgidx generation bloblen | blob | padding | adler32 bloblen "BlbE"
    if (rec.substr(0, 4) != "BlbS" || rec.substr(rec.size() - 4) != "BlbE") {
      return absl::InvalidArgumentError(absl::StrCat("NDB record of package ", pkgidx, " is damaged"));
    }
    const uint64_t bloblen = Le32(rec, 12);
    if (Le32(rec, 4) != pkgidx || bloblen + 16 + 12 > rec.size() ||
        Le32(rec, rec.size() - 8) != bloblen) {
      return absl::InvalidArgumentError(
          absl::StrCat("NDB record of package ", pkgidx, " has inconsistent lengths"));
    }
    if (Adler32(rec.substr(0, rec.size() - 12)) != Le32(rec, rec.size() - 12)) {
      return absl::InvalidArgumentError(
          absl::StrCat("NDB record of package ", pkgidx, " fails its checksum"));
    }
    blobs.push_back(rec.substr(16, bloblen));
  }
  return blobs;
}

absl::StatusOr<std::unique_ptr<RpmDatabaseReader>> RpmDatabaseReader::Create(Options options) {
  if (options.temp_dir.empty() || options.temp_dir[0] != '/') {
    return absl::InvalidArgumentError("rpm reader needs an absolute temporary directory");
  }
  // mkdir -p with 0700 for the parts we create.
  for (size_t pos = 1; pos != std::string::npos;) {
    pos = options.temp_dir.find('/', pos + 1);
    const std::string part = options.temp_dir.substr(0, pos);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::InternalError(absl::StrCat("cannot create ", part, ": ", std::strerror(errno)));
    }
  }
  absl::Status init = InitRpmOnce();
  if (!init.ok()) return init;
  return std::unique_ptr<RpmDatabaseReader>(new RpmDatabaseReader(std::move(options)));
}

absl::StatusOr<std::vector<Package>> RpmDatabaseReader::ReadSqlite(absl::string_view db,
                                                                   absl::string_view wal,
                                                                   absl::string_view shm) const {
  if (!HasSqliteMagic(db)) {
    return absl::InvalidArgumentError("rpmdb.sqlite is not an SQLite database");
  }
  std::vector<std::pair<std::string, absl::string_view>> files = {{"rpmdb.sqlite", db}};
  // The WAL may hold rows not yet checkpointed into the database: without it they are lost.
  if (!wal.empty()) files.emplace_back("rpmdb.sqlite-wal", wal);
  if (!shm.empty()) files.emplace_back("rpmdb.sqlite-shm", shm);
  return ReadWithLibrpm("sqlite", files);
}

absl::StatusOr<std::vector<Package>> RpmDatabaseReader::ReadBdb(absl::string_view packages) const {
  if (!HasBdbMagic(packages)) {
    return absl::InvalidArgumentError("Packages is not a Berkeley DB database");
  }
  return ReadWithLibrpm("bdb_ro", {{"Packages", packages}});
}

absl::StatusOr<std::vector<Package>> RpmDatabaseReader::ReadWithLibrpm(
    absl::string_view backend,
    const std::vector<std::pair<std::string, absl::string_view>>& files) const {
  std::string dir = options_.temp_dir + "/rpmdb-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create a directory under ", options_.temp_dir,
                                            ": ", std::strerror(errno)));
  }
  struct Cleanup {
    std::string dir;
    ~Cleanup() { RemoveTree(dir); }
  } cleanup{dir};
  for (const auto& [name, data] : files) {
    absl::Status s = WriteFile(dir + "/" + name, data);
    if (!s.ok()) return s;
  }

  std::vector<Package> out;
  std::string errors;
  bool opened = false;
  {
    std::lock_guard<std::mutex> lock(RpmMutex());
    rpmlogSetCallback(CollectLog, &errors);
    const std::string backend_str(backend);
    rpmPushMacro(nullptr, "_dbpath", nullptr, dir.c_str(), RMIL_CMDLINE);
    rpmPushMacro(nullptr, "_db_backend", nullptr, backend_str.c_str(), RMIL_CMDLINE);
    rpmts ts = rpmtsCreate();
    rpmtsSetRootDir(ts, "/");
    // Header digests are checked (a damaged header is reported, not read); signatures are not
    // (the keys are not ours to trust, and the database holds no payloads).
    rpmtsSetVSFlags(ts, _RPMVSF_NOSIGNATURES);
    if (rpmtsOpenDB(ts, O_RDONLY) == 0) {
      opened = true;
      rpmdbMatchIterator mi = rpmtsInitIterator(ts, RPMDBI_PACKAGES, nullptr, 0);
      while (Header h = rpmdbNextIterator(mi)) {
        Package p;
        if (PackageFromHeader(h, &p)) out.push_back(std::move(p));
      }
      rpmdbFreeIterator(mi);
      rpmtsCloseDB(ts);
    }
    rpmtsFree(ts);
    rpmPopMacro(nullptr, "_db_backend");
    rpmPopMacro(nullptr, "_dbpath");
    rpmlogSetCallback(nullptr, nullptr);
    rpmlogClose();  // librpm keeps every logged record until closed
  }
  const std::string what = backend == "sqlite" ? "rpmdb.sqlite" : "Packages";
  if (!opened) {
    return absl::InvalidArgumentError(absl::StrCat("cannot open rpm database ", what,
                                                   errors.empty() ? "" : ": ", errors));
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("rpm database ", what, " is damaged: ", errors));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rpm database ", what, " yields no packages (unreadable or empty)"));
  }
  return out;
}

absl::StatusOr<std::vector<Package>> RpmDatabaseReader::ReadNdb(absl::string_view packages_db) const {
  absl::StatusOr<std::vector<absl::string_view>> blobs = ReadNdbBlobs(packages_db);
  if (!blobs.ok()) return blobs.status();
  std::vector<Package> out;
  std::lock_guard<std::mutex> lock(RpmMutex());
  for (size_t i = 0; i < blobs->size(); ++i) {
    absl::string_view blob = (*blobs)[i];
    // headerImport runs rpm's structural checks on the blob and, with COPY, keeps its own copy.
    Header h = headerImport(const_cast<char*>(blob.data()), static_cast<unsigned>(blob.size()),
                            HEADERIMPORT_COPY);
    if (h == nullptr) {
      rpmlogClose();
      return absl::InvalidArgumentError(
          absl::StrCat("NDB record ", i + 1, " holds a damaged rpm header"));
    }
    Package p;
    if (PackageFromHeader(h, &p)) out.push_back(std::move(p));
    headerFree(h);
  }
  rpmlogClose();
  if (out.empty()) {
    return absl::InvalidArgumentError("rpm database Packages.db yields no packages");
  }
  return out;
}

}  // namespace portunus::scanner
