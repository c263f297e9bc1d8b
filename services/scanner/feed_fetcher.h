// Downloads vulnerability feeds from configured URLs into the scanner's temporary space.
// CurlFeedFetcher is the libcurl implementation; tests use it against a local HTTP server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::scanner {

struct DownloadResult {
  bool not_modified = false;  // the server answered 304 to our ETag: nothing was written
  std::string etag;
  int64_t bytes = 0;
};

// (bytes so far, total or -1 when unknown)
using DownloadProgress = std::function<void(int64_t done, int64_t total)>;

// Thread-safe implementations only.
class FeedFetcher {
 public:
  virtual ~FeedFetcher() = default;
  // Fetches `url` into the new file `path` (which must not exist). With `etag`, asks the
  // server to answer 304 when unchanged. kNotFound: 404/410. kUnavailable: the server cannot be
  // reached, timed out or failed (5xx). kFailedPrecondition: another HTTP error.
  // kResourceExhausted: larger than allowed. kInvalidArgument: not an http(s) URL.
  virtual absl::StatusOr<DownloadResult> Download(const std::string& url, const std::string& path,
                                                  const std::string& etag,
                                                  const DownloadProgress& progress) = 0;
};

class CurlFeedFetcher final : public FeedFetcher {
 public:
  struct Options {
    absl::Duration connect_timeout = absl::Seconds(10);
    absl::Duration timeout = absl::Minutes(10);  // the whole transfer
    int64_t max_size = int64_t{2} << 30;
    std::string ca_file;  // extra CA bundle; "" = the system's
  };
  explicit CurlFeedFetcher(Options options) : options_(std::move(options)) {}
  absl::StatusOr<DownloadResult> Download(const std::string& url, const std::string& path,
                                          const std::string& etag,
                                          const DownloadProgress& progress) override;

 private:
  const Options options_;
};

}  // namespace portunus::scanner
