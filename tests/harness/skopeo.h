// skopeo (1.9) for end-to-end tests against a plain-HTTP registry on loopback.
//
// Each Skopeo object is isolated from every other and from the machine's own state: its own
// auth file (--authfile), its own blob-info cache (which otherwise lives in
// /var/lib/containers/cache for root and makes later pushes try cross-repository mounts from
// earlier tests), and its own temp dir. TLS verification is off (the registry is plain HTTP).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"
#include "tests/harness/util.h"

namespace portunus::harness {

struct Credentials {
  std::string user;
  std::string password;
  std::string Flag() const { return user + ":" + password; }
};

class Skopeo {
 public:
  Skopeo();

  // Runs `skopeo <args>` with the isolated environment (nothing added to args). A failed
  // command is a result with a non-zero status, not an error; errors mean it could not run or
  // exceeded `timeout`.
  absl::StatusOr<CommandResult> Run(std::vector<std::string> args,
                                    absl::Duration timeout = absl::Seconds(120));

  struct CopyOptions {
    std::optional<Credentials> src_creds;
    std::optional<Credentials> dest_creds;
    std::string format;  // "", "oci" or "v2s2" (Docker schema 2)
    bool all = false;    // --all: every platform of an index
    std::vector<std::string> extra;
  };
  // `skopeo copy SRC DEST`, e.g. ("oci:/tmp/img:v1", "docker://127.0.0.1:5000/ns/app:v1").
  absl::StatusOr<CommandResult> Copy(const std::string& src, const std::string& dest,
                                     const CopyOptions& options);
  // `skopeo inspect [--raw] docker://...`.
  absl::StatusOr<CommandResult> Inspect(const std::string& ref,
                                        const std::optional<Credentials>& creds,
                                        bool raw = false);
  // `skopeo list-tags docker://host/ns/repo`.
  absl::StatusOr<CommandResult> ListTags(const std::string& ref,
                                         const std::optional<Credentials>& creds);
  // `skopeo delete docker://host/ns/repo:tag`.
  absl::StatusOr<CommandResult> Delete(const std::string& ref,
                                       const std::optional<Credentials>& creds);
  // `skopeo login host` / `skopeo logout host`; the credentials go to this object's auth file
  // and later commands without explicit credentials use them.
  absl::StatusOr<CommandResult> Login(const std::string& host, const Credentials& creds);
  absl::StatusOr<CommandResult> Logout(const std::string& host);

  // Forgets which blobs were seen where (so the next push uploads instead of mounting).
  absl::Status ClearBlobInfoCache();

  const std::string& auth_file() const { return auth_file_; }

 private:
  TempDir dir_;
  std::string auth_file_;
};

}  // namespace portunus::harness
