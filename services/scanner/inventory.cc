#include "services/scanner/inventory.h"

#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/scanner/apk_installed.h"
#include "services/scanner/dpkg_status.h"
#include "services/scanner/os_release.h"

namespace portunus::scanner {
namespace {

absl::Status InFile(absl::string_view path, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
}

void Append(std::vector<Package> from, Inventory* inv) {
  // The same package can appear twice (status and a status.d entry, or duplicate stanzas);
  // keep the first of each name/arch/version.
  std::set<std::tuple<PackageFormat, std::string, std::string, std::string>> seen;
  for (const Package& p : inv->packages) seen.emplace(p.format, p.name, p.arch, p.version);
  for (Package& p : from) {
    if (seen.emplace(p.format, p.name, p.arch, p.version).second) {
      inv->packages.push_back(std::move(p));
    }
  }
}

}  // namespace

absl::StatusOr<Inventory> BuildInventory(const ImageFiles& files, const RpmDatabaseReader* rpm) {
  Inventory inv;
  for (absl::string_view path : {"etc/os-release", "usr/lib/os-release"}) {
    if (const std::string* content = files.Find(path)) {
      absl::StatusOr<OsRelease> os = ParseOsRelease(*content);
      if (!os.ok()) return InFile(path, os.status());
      inv.os = *std::move(os);
      break;
    }
  }

  if (const std::string* status = files.Find("var/lib/dpkg/status")) {
    absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(*status);
    if (!pkgs.ok()) return InFile("var/lib/dpkg/status", pkgs.status());
    Append(*std::move(pkgs), &inv);
    inv.databases.push_back("var/lib/dpkg/status");
  }
  DpkgParseOptions distroless;
  distroless.distroless = true;
  bool any_status_d = false;
  for (const std::string& name : files.List("var/lib/dpkg/status.d")) {
    // Distroless keeps one stanza file per package, next to its .md5sums.
    if (absl::EndsWith(name, ".md5sums") || absl::StartsWith(name, ".")) continue;
    const std::string path = absl::StrCat("var/lib/dpkg/status.d/", name);
    const std::string* content = files.Find(path);
    if (content == nullptr) continue;
    absl::StatusOr<std::vector<Package>> pkgs = ParseDpkgStatus(*content, distroless);
    if (!pkgs.ok()) return InFile(path, pkgs.status());
    Append(*std::move(pkgs), &inv);
    any_status_d = true;
  }
  if (any_status_d) inv.databases.push_back("var/lib/dpkg/status.d");

  if (const std::string* installed = files.Find("lib/apk/db/installed")) {
    absl::StatusOr<std::vector<Package>> pkgs = ParseApkInstalled(*installed);
    if (!pkgs.ok()) return InFile("lib/apk/db/installed", pkgs.status());
    Append(*std::move(pkgs), &inv);
    inv.databases.push_back("lib/apk/db/installed");
  }

  std::set<const std::string*> rpm_seen;  // var/lib/rpm is often a symlink to the other one
  for (absl::string_view dir : {"usr/lib/sysimage/rpm", "var/lib/rpm"}) {
    const std::string sqlite = absl::StrCat(dir, "/rpmdb.sqlite");
    const std::string ndb = absl::StrCat(dir, "/Packages.db");
    const std::string bdb = absl::StrCat(dir, "/Packages");
    const std::string* db = nullptr;
    std::string path;
    absl::StatusOr<std::vector<Package>> pkgs;
    if ((db = files.Find(sqlite)) != nullptr) {
      path = sqlite;
    } else if ((db = files.Find(ndb)) != nullptr) {
      path = ndb;
    } else if ((db = files.Find(bdb)) != nullptr) {
      path = bdb;
    } else {
      continue;
    }
    if (!rpm_seen.insert(db).second) continue;
    if (rpm == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": no rpm database reader configured"));
    }
    if (path == sqlite) {
      const std::string* wal = files.Find(absl::StrCat(sqlite, "-wal"));
      const std::string* shm = files.Find(absl::StrCat(sqlite, "-shm"));
      pkgs = rpm->ReadSqlite(*db, wal ? *wal : "", shm ? *shm : "");
    } else if (path == ndb) {
      pkgs = rpm->ReadNdb(*db);
    } else {
      pkgs = rpm->ReadBdb(*db);
    }
    if (!pkgs.ok()) return InFile(path, pkgs.status());
    Append(*std::move(pkgs), &inv);
    inv.databases.push_back(path);
  }
  return inv;
}

}  // namespace portunus::scanner
