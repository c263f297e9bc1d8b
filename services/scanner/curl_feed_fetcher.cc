#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/scanner/feed_fetcher.h"

namespace portunus::scanner {
namespace {

struct Transfer {
  int fd = -1;
  int64_t written = 0;
  int64_t max_size = 0;
  bool too_large = false;
  int write_errno = 0;
  std::string etag;
  const DownloadProgress* progress = nullptr;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->written + static_cast<int64_t>(len) > t->max_size) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  size_t off = 0;
  while (off < len) {
    const ssize_t w = write(t->fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      t->write_errno = errno;
      return 0;
    }
    off += static_cast<size_t>(w);
  }
  t->written += static_cast<int64_t>(len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * n);
  if (absl::StartsWithIgnoreCase(line, "etag:")) {
    t->etag = std::string(absl::StripAsciiWhitespace(line.substr(5)));
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->progress != nullptr && *t->progress) (*t->progress)(now, total > 0 ? total : -1);
  return 0;
}

}  // namespace

absl::StatusOr<DownloadResult> CurlFeedFetcher::Download(const std::string& url,
                                                         const std::string& path,
                                                         const std::string& etag,
                                                         const DownloadProgress& progress) {
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat("not an http(s) URL: ", url));
  }
  Transfer t;
  t.max_size = options_.max_size;
  t.progress = &progress;
  t.fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (t.fd < 0) {
    return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    close(t.fd);
    return absl::ResourceExhaustedError("cannot create a curl handle");
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  struct curl_slist* headers = nullptr;
  if (!etag.empty()) headers = curl_slist_append(headers, ("If-None-Match: " + etag).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip and friends, decoded for us
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "portunus-scanner");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  if (headers != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  const bool closed = close(t.fd) == 0;

  if (t.too_large) {
    return absl::ResourceExhaustedError(
        absl::StrCat(url, " is larger than ", options_.max_size, " bytes"));
  }
  if (t.write_errno != 0 || !closed) {
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(t.write_errno)));
  }
  if (rc != CURLE_OK && !(rc == CURLE_HTTP_RETURNED_ERROR)) {
    return absl::UnavailableError(
        absl::StrCat("cannot fetch ", url, ": ", errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  DownloadResult result;
  result.etag = t.etag;
  result.bytes = t.written;
  if (code == 304) {
    result.not_modified = true;
    return result;
  }
  if (code == 404 || code == 410) return absl::NotFoundError(absl::StrCat(url, ": HTTP ", code));
  if (code >= 500 || code == 429) return absl::UnavailableError(absl::StrCat(url, ": HTTP ", code));
  if (code != 200) return absl::FailedPreconditionError(absl::StrCat(url, ": HTTP ", code));
  return result;
}

}  // namespace portunus::scanner
