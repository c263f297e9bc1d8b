// An HttpGetter for tests: answers from a table keyed by URL (and, optionally, by the
// Authorization header), records every request, and fails with a transport error on demand.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/health/http_getter.h"

namespace portunus::health {

class FakeHttpGetter final : public HttpGetter {
 public:
  // Answers GET `url` (with `authorization` as its Authorization header, "" for none).
  void Answer(const std::string& url, const std::string& authorization, HttpResponse response) {
    absl::MutexLock lock(&mu_);
    answers_[{url, authorization}] = std::move(response);
  }
  // Every request fails with `status` (e.g. kUnavailable "Connection refused") until OK again.
  void FailAll(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  absl::StatusOr<HttpResponse> Get(const std::string& url, const HttpHeaders& headers,
                                   absl::Duration /*timeout*/) override {
    std::string authorization;
    for (const auto& [name, value] : headers) {
      if (name == "Authorization") authorization = value;
    }
    absl::MutexLock lock(&mu_);
    requests_.push_back(authorization.empty() ? url : url + " [" + authorization + "]");
    if (!fail_.ok()) return fail_;
    auto it = answers_.find({url, authorization});
    if (it == answers_.end()) {
      HttpResponse not_found;
      not_found.status = 404;
      return not_found;
    }
    return it->second;
  }

 private:
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, HttpResponse> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::health
