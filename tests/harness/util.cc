#include "tests/harness/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace portunus::harness {
namespace {

absl::Mutex g_ports_mu;
std::set<int>* const g_ports ABSL_GUARDED_BY(g_ports_mu) = new std::set<int>;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

int PickFreePort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) std::abort();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    if (port == 0) continue;
    absl::MutexLock lock(&g_ports_mu);
    if (g_ports->insert(port).second) return port;
  }
  std::fprintf(stderr, "harness: cannot find a free TCP port\n");
  std::abort();
}

HeldPort::HeldPort(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), port_(0) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd_, 8) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "harness: cannot hold port %d: %s\n", port, std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
}

HeldPort::~HeldPort() { close(fd_); }

std::string HeldPort::address() const { return absl::StrCat("127.0.0.1:", port_); }

TempDir::TempDir(absl::string_view prefix) {
  std::string base = Env("TMPDIR", "/tmp");
  std::string templ = absl::StrCat(base, "/portunus-", prefix, "-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    // An unusable $TMPDIR: fall back to /tmp.
    templ = absl::StrCat("/tmp/portunus-", prefix, "-XXXXXX");
    if (mkdtemp(templ.data()) == nullptr) {
      std::fprintf(stderr, "harness: mkdtemp(%s): %s\n", templ.c_str(), std::strerror(errno));
      std::abort();
    }
  }
  chmod(templ.c_str(), 0755);
  path_ = templ;
}

TempDir::~TempDir() {
  if (Env("PORTUNUS_KEEP_TEST_DIRS", "") == "1") {
    std::fprintf(stderr, "harness: keeping %s\n", path_.c_str());
    return;
  }
  RemoveAll(path_).IgnoreError();  // best effort: a leftover temp dir harms nothing
}

std::string TempDir::Sub(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

bool PollUntil(const std::function<bool()>& done, absl::Duration timeout,
               absl::Duration interval) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    if (done()) return true;
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(interval);
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, absl::string_view content, int mode) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      close(fd);
      return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  fchmod(fd, mode);
  close(fd);
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  chmod(path.c_str(), mode);
  return absl::OkStatus();
}

absl::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", ec.message()));
  return absl::OkStatus();
}

std::string RandomHex(size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string out;
  out.reserve(bytes * 2);
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned v = rd() & 0xff;
    out.push_back(kHex[v >> 4]);
    out.push_back(kHex[v & 0xf]);
  }
  return out;
}

std::string Tail(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t start = text.size() - max_bytes;
  const size_t nl = text.find('\n', start);
  if (nl != std::string::npos && nl + 1 < text.size()) start = nl + 1;
  return absl::StrCat("[... ", start, " earlier bytes omitted ...]\n", text.substr(start));
}

std::string SourceDir() { return Env("PORTUNUS_SOURCE_DIR", PORTUNUS_HARNESS_SOURCE_DIR); }
std::string BuildDir() { return Env("PORTUNUS_BUILD_DIR", PORTUNUS_HARNESS_BUILD_DIR); }

std::string BinaryPath(absl::string_view name) {
  const std::string build = BuildDir();
  if (name == "portunusctl") return build + "/cli/portunusctl";
  for (const char* svc : {"auth", "catalog", "scanner", "health", "gateway"}) {
    if (name == absl::StrCat("portunus-", svc)) {
      return absl::StrCat(build, "/services/", svc, "/portunus-", svc);
    }
  }
  std::fprintf(stderr, "harness: unknown binary %s\n", std::string(name).c_str());
  std::abort();
}

}  // namespace portunus::harness
