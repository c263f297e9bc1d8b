// CurlHttpGetter: HttpGetter over libcurl (one easy handle per request; the health checks make
// a handful of requests per interval, so there is nothing worth pooling).
#pragma once

#include <string>
#include <utility>

#include "services/health/http_getter.h"

namespace portunus::health {

// Thread-safe. Call curl_global_init once at startup before using it from several threads.
class CurlHttpGetter final : public HttpGetter {
 public:
  struct Options {
    std::string ca_file;  // PEM bundle; empty: the system's CAs
    bool tls_verify = true;
  };
  explicit CurlHttpGetter(Options options) : options_(std::move(options)) {}
  absl::StatusOr<HttpResponse> Get(const std::string& url, const HttpHeaders& headers,
                                   absl::Duration timeout) override;

 private:
  const Options options_;
};

}  // namespace portunus::health
