// The on-disk home of the token signing keys, shared by the auth service (which reads it, and
// re-reads it when it changes) and `portunusctl keys` (which writes it):
//
//   <dir>/<name>.key   PEM private key, mode 0600
//   <dir>/<name>.crt   PEM certificate (chain) of that key
//   <dir>/active       the name of the one key that signs; every other key is still trusted
//                      (its certificate stays in `keys bundle`), so tokens it signed stay valid
//   <dir>/retired/     keys taken out of the bundle with `keys retire`
//
// Names are "<UTC time>-<algorithm>", e.g. "20261122T101500.250Z-rs256", so they sort by age.
// Files are written to a temporary name and renamed, so a reader never sees half a key.
// Thread-compatible (no shared state beyond the file system).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/auth/signing_key.h"

namespace portunus::auth {

struct KeyFiles {
  std::string name;
  std::string key_path;
  std::string cert_path;
};

class KeyDirectory {
 public:
  explicit KeyDirectory(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  // Complete keys (both files present), sorted by name. kNotFound when the directory does not
  // exist; kPermissionDenied / kInternal when it cannot be read.
  absl::StatusOr<std::vector<KeyFiles>> List() const;

  // The name recorded in `active`, or "" when there is no such file.
  absl::StatusOr<std::string> ReadActive() const;

  // Creates the directory (0700) when missing and stores a new key pair under a fresh name,
  // which it returns. Does not activate it.
  absl::StatusOr<std::string> Add(const GeneratedKeyPem& pem, JwtAlgorithm algorithm,
                                  absl::Time now);

  // Makes `name` the signing key. kNotFound when there is no such complete key;
  // kInvalidArgument for a name that is not a plain file name.
  absl::Status SetActive(const std::string& name);

  // Moves a key into retired/. kFailedPrecondition for the active key; kNotFound.
  absl::Status Retire(const std::string& name);

  // Changes whenever a key file or the active marker is added, removed or rewritten.
  std::string ChangeStamp() const;

  // Reads a whole file. kNotFound, kPermissionDenied or kInternal naming the path.
  static absl::StatusOr<std::string> ReadFile(const std::string& path);

 private:
  absl::Status WriteAtomically(const std::string& file_name, absl::string_view content,
                               unsigned mode) const;
  const std::string path_;
};

}  // namespace portunus::auth
