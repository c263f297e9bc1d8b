// HTTP requests for integration tests (libcurl): any method, headers, body, basic auth; the full
// response comes back (status, every header, body). Plain HTTP and HTTPS without verification.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace portunus::harness {

struct HttpRequest {
  std::string method = "GET";  // HEAD sends no body and reads none
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string basic_user;      // with basic_password: an Authorization: Basic header
  std::string basic_password;
  absl::Duration timeout = absl::Seconds(10);
  bool follow_redirects = false;
};

struct HttpResponse {
  long status = 0;
  // In the order received; names as sent by the server.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header named `name` (case-insensitive), or "" when absent.
  std::string Header(const std::string& name) const;
  // Every header named `name` (case-insensitive).
  std::vector<std::string> Headers(const std::string& name) const;
  bool HasHeader(const std::string& name) const;
};

// Performs the request. kUnavailable when no HTTP response came (connection refused, timeout);
// any HTTP status, 5xx included, is a successful result.
absl::StatusOr<HttpResponse> Http(const HttpRequest& request);

// GET `url` with the given headers.
absl::StatusOr<HttpResponse> HttpGet(const std::string& url,
                                     std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace portunus::harness
