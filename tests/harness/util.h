// Small building blocks of the integration-test harness (tests/harness): free ports, temporary
// directories, polling, files, random secrets, and where the built binaries and sources are.
//
// Everything here is for tests only and may abort on impossible conditions (no /tmp).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace portunus::harness {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to 0, then released). Never returns
// the same port twice in one process, so one test can pick several. Thread-safe.
int PickFreePort();

// A TCP socket listening on 127.0.0.1 (never accepting), to make a port busy: a service told
// to listen there must fail with a clear error. Closed when this object dies.
class HeldPort {
 public:
  // `port` 0: a free port. Aborts when the port cannot be taken.
  explicit HeldPort(int port = 0);
  ~HeldPort();
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:<port>".
  std::string address() const;

 private:
  int fd_;
  int port_;
};

// A directory removed recursively (with everything below it) when this object dies, unless
// PORTUNUS_KEEP_TEST_DIRS=1 (then its path is printed). Created 0755 so that other users (the
// `postgres` user when tests run as root) can traverse it.
class TempDir {
 public:
  // `prefix` becomes part of the name: /tmp/portunus-<prefix>-XXXXXX (or under $TMPDIR).
  explicit TempDir(absl::string_view prefix = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Sub(absl::string_view name) const;

 private:
  std::string path_;
};

// Calls `done` every `interval` until it returns true (then returns true) or `timeout` passed
// (then returns false).
bool PollUntil(const std::function<bool()>& done, absl::Duration timeout,
               absl::Duration interval = absl::Milliseconds(50));

absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFile(const std::string& path, absl::string_view content, int mode = 0644);
// Creates `path` and its parents (like mkdir -p).
absl::Status MakeDirs(const std::string& path, int mode = 0755);
// Removes `path` recursively; OK when it does not exist.
absl::Status RemoveAll(const std::string& path);

// `bytes` random bytes as lower-case hex (2 * bytes characters).
std::string RandomHex(size_t bytes = 24);

// The last `max_bytes` of `text`, cut at a line start, with a note when something was dropped.
std::string Tail(const std::string& text, size_t max_bytes);

// The top of the source tree and of the build tree (compiled in by tests/CMakeLists.txt;
// PORTUNUS_SOURCE_DIR / PORTUNUS_BUILD_DIR in the environment override them).
std::string SourceDir();
std::string BuildDir();

// Path of a built binary: "portunus-auth", "portunus-catalog", "portunus-scanner",
// "portunus-health", "portunus-gateway" or "portunusctl". Aborts on any other name.
std::string BinaryPath(absl::string_view name);

// /usr/bin/python3: the interpreter with grpcio, jwt and cryptography (the first python3 on PATH
// may be a pyenv one without them).
inline constexpr char kSystemPython[] = "/usr/bin/python3";

}  // namespace portunus::harness
