#include "services/auth/key_directory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace portunus::auth {
namespace fs = std::filesystem;
namespace {

constexpr char kActiveFile[] = "active";
constexpr char kRetiredDir[] = "retired";

bool IsPlainName(absl::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

absl::Status ErrnoStatus(const std::string& what, int err) {
  const std::string msg = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

}  // namespace

absl::StatusOr<std::string> KeyDirectory::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("reading " + path, errno);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

absl::StatusOr<std::vector<KeyFiles>> KeyDirectory::List() const {
  std::error_code ec;
  if (!fs::is_directory(path_, ec)) {
    return absl::NotFoundError(absl::StrCat("signing key directory ", path_, " does not exist"));
  }
  std::vector<KeyFiles> keys;
  fs::directory_iterator it(path_, ec);
  if (ec) return ErrnoStatus("listing " + path_, ec.value());
  for (const fs::directory_entry& entry : it) {
    const std::string file = entry.path().filename().string();
    if (!absl::EndsWith(file, ".key") || !entry.is_regular_file(ec)) continue;
    const std::string name(absl::StripSuffix(file, ".key"));
    if (!IsPlainName(name)) continue;
    const std::string cert = (fs::path(path_) / (name + ".crt")).string();
    if (!fs::is_regular_file(cert, ec)) continue;
    keys.push_back(KeyFiles{name, entry.path().string(), cert});
  }
  std::sort(keys.begin(), keys.end(),
            [](const KeyFiles& a, const KeyFiles& b) { return a.name < b.name; });
  return keys;
}

absl::StatusOr<std::string> KeyDirectory::ReadActive() const {
  const std::string file = (fs::path(path_) / kActiveFile).string();
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::string();
  absl::StatusOr<std::string> content = ReadFile(file);
  if (!content.ok()) return content.status();
  return std::string(absl::StripAsciiWhitespace(*content));
}

absl::Status KeyDirectory::WriteAtomically(const std::string& file_name, absl::string_view content,
                                           unsigned mode) const {
  const std::string final_path = (fs::path(path_) / file_name).string();
  const std::string tmp = absl::StrCat(final_path, ".tmp", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoStatus("creating " + tmp, errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus("writing " + tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("writing " + tmp, err);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("renaming " + tmp, err);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> KeyDirectory::Add(const GeneratedKeyPem& pem, JwtAlgorithm algorithm,
                                              absl::Time now) {
  std::error_code ec;
  if (!fs::is_directory(path_, ec)) {
    fs::create_directories(path_, ec);
    if (ec) return ErrnoStatus("creating " + path_, ec.value());
    fs::permissions(path_, fs::perms::owner_all, ec);
  }
  const std::string base =
      absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%E3SZ", now, absl::UTCTimeZone()), "-",
                   absl::AsciiStrToLower(JwtAlgorithmName(algorithm)));
  std::string name = base;
  for (int n = 2; fs::exists(fs::path(path_) / (name + ".key"), ec) ||
                  fs::exists(fs::path(path_) / (name + ".crt"), ec);
       ++n) {
    name = absl::StrCat(base, "-", n);
  }
  // The certificate first: a reader only lists keys whose .key exists too.
  absl::Status s = WriteAtomically(name + ".crt", pem.cert_pem, 0644);
  if (s.ok()) s = WriteAtomically(name + ".key", pem.key_pem, 0600);
  if (!s.ok()) return s;
  return name;
}

absl::Status KeyDirectory::SetActive(const std::string& name) {
  if (!IsPlainName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key name \"", name, "\""));
  }
  absl::StatusOr<std::vector<KeyFiles>> keys = List();
  if (!keys.ok()) return keys.status();
  if (std::none_of(keys->begin(), keys->end(), [&](const KeyFiles& k) { return k.name == name; })) {
    return absl::NotFoundError(absl::StrCat("no signing key ", name, " in ", path_));
  }
  return WriteAtomically(kActiveFile, name + "\n", 0644);
}

absl::Status KeyDirectory::Retire(const std::string& name) {
  if (!IsPlainName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid key name \"", name, "\""));
  }
  absl::StatusOr<std::string> active = ReadActive();
  if (!active.ok()) return active.status();
  if (*active == name) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", name, " is the active signing key: rotate to another key first"));
  }
  std::error_code ec;
  const fs::path dir(path_);
  if (!fs::exists(dir / (name + ".key"), ec)) {
    return absl::NotFoundError(absl::StrCat("no signing key ", name, " in ", path_));
  }
  fs::create_directories(dir / kRetiredDir, ec);
  if (ec) return ErrnoStatus("creating " + (dir / kRetiredDir).string(), ec.value());
  for (const char* ext : {".key", ".crt"}) {
    fs::rename(dir / (name + ext), dir / kRetiredDir / (name + ext), ec);
    if (ec && ec.value() != ENOENT) return ErrnoStatus("retiring " + name + ext, ec.value());
  }
  return absl::OkStatus();
}

std::string KeyDirectory::ChangeStamp() const {
  std::string stamp;
  std::error_code ec;
  fs::directory_iterator it(path_, ec);
  if (ec) return absl::StrCat("error:", ec.value());
  std::vector<std::string> parts;
  for (const fs::directory_entry& entry : it) {
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    parts.push_back(absl::StrCat(entry.path().filename().string(), ":", st.st_size, ":",
                                 st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_ino));
  }
  std::sort(parts.begin(), parts.end());
  for (const std::string& p : parts) absl::StrAppend(&stamp, p, "\n");
  return stamp;
}

}  // namespace portunus::auth
