// Reads the installed packages out of an rpm database taken from an image: SQLite
// (rpmdb.sqlite, with its -wal and -shm files) and Berkeley DB (Packages) through Debian's
// librpm, and NDB (Packages.db, SUSE), which that librpm cannot read (it silently reports it as
// empty), through a reader of its own that hands each header blob to librpm's headerImport().
//
// librpm is process-global (one macro context, one log) and writes into the directory it is
// pointed at (lock files, -shm/-wal, even a new empty database), so every read copies the files
// into a fresh private directory under the configured temporary space, runs under one process-
// wide mutex, and removes that directory afterwards. See ../shared/RPM-AND-BCRYPT.md.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scanner/package.h"

namespace portunus::scanner {

// Where the database files were found, in librpm's own detection order.
enum class RpmDbKind { kSqlite, kNdb, kBdb };

// "sqlite", "ndb", "bdb".
absl::string_view RpmDbKindName(RpmDbKind kind);

// Reads the records of an NDB Packages.db (lib/backend/ndb/rpmpkg.c format) and returns each
// package's header blob (an rpm header without its 8-byte magic), checking every record's
// bounds and adler32 checksum. Pure and thread-safe. kInvalidArgument naming the problem when
// the file is not NDB or a record is damaged.
absl::StatusOr<std::vector<absl::string_view>> ReadNdbBlobs(absl::string_view file);

// Thread-safe: reads are serialised on librpm's process-wide mutex.
class RpmDatabaseReader {
 public:
  struct Options {
    // Private temporary space; each read makes and removes a directory below it.
    std::string temp_dir;
  };

  // Initialises librpm once per process (an empty configuration: no host macro files or rpmrc
  // are read) and creates `temp_dir` when missing. kInvalidArgument for an empty or relative
  // temp_dir; kInternal when it cannot be created.
  static absl::StatusOr<std::unique_ptr<RpmDatabaseReader>> Create(Options options);

  // Each returns the installed packages (gpg-pubkey entries skipped), with version
  // "[epoch:]version-release" and the source package from SOURCERPM. kInvalidArgument (with
  // librpm's own error text when it has one) when the data is not such a database, a header is
  // damaged or fails its digest, or the database yields no packages at all (librpm reports an
  // unreadable database as empty). kInternal when the temporary copy cannot be written.
  absl::StatusOr<std::vector<Package>> ReadSqlite(absl::string_view db, absl::string_view wal,
                                                  absl::string_view shm) const;
  absl::StatusOr<std::vector<Package>> ReadBdb(absl::string_view packages) const;
  absl::StatusOr<std::vector<Package>> ReadNdb(absl::string_view packages_db) const;

 private:
  explicit RpmDatabaseReader(Options options) : options_(std::move(options)) {}
  absl::StatusOr<std::vector<Package>> ReadWithLibrpm(
      absl::string_view backend,
      const std::vector<std::pair<std::string, absl::string_view>>& files) const;

  const Options options_;
};

}  // namespace portunus::scanner
