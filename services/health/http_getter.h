// HttpGetter: the one HTTP operation the health checks need (GET with headers and a timeout),
// as an interface so the registry check can be tested without a registry. CurlHttpGetter
// (curl_http_getter.h) is the real one; FakeHttpGetter (fake_http_getter.h) answers from a table.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::health {

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; the last value wins
  std::string body;                            // at most 64 KiB are kept
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Implementations must be thread-safe.
class HttpGetter {
 public:
  virtual ~HttpGetter() = default;
  // Any HTTP status is a result. kUnavailable with the transport's reason ("Connection refused",
  // "Operation timed out after 3000 milliseconds") when no answer came within `timeout`.
  virtual absl::StatusOr<HttpResponse> Get(const std::string& url, const HttpHeaders& headers,
                                           absl::Duration timeout) = 0;
};

}  // namespace portunus::health
