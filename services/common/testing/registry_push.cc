#include "services/common/testing/registry_push.h"

#include <curl/curl.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace portunus::testing {
namespace {

struct Result {
  long status = 0;
  std::string location;
  std::string body;
};

size_t Body(char* d, size_t s, size_t n, void* u) {
  static_cast<Result*>(u)->body.append(d, s * n);
  return s * n;
}

size_t Header(char* d, size_t s, size_t n, void* u) {
  absl::string_view line(d, s * n);
  if (absl::StartsWithIgnoreCase(line, "location:")) {
    static_cast<Result*>(u)->location =
        std::string(absl::StripAsciiWhitespace(line.substr(std::string("location:").size())));
  }
  return s * n;
}

absl::StatusOr<Result> Do(const std::string& method, const std::string& url,
                          const std::string& bearer, const std::string& content_type,
                          const std::string& body) {
  CURL* c = curl_easy_init();
  Result r;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  struct curl_slist* h = nullptr;
  std::vector<std::string> lines = {"Expect:", "Content-Type: " + content_type};
  if (!bearer.empty()) lines.push_back("Authorization: Bearer " + bearer);
  for (const std::string& l : lines) h = curl_slist_append(h, l.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) return absl::UnavailableError(curl_easy_strerror(rc));
  return r;
}

}  // namespace

absl::StatusOr<std::string> UploadBlob(const std::string& registry_url, const std::string& bearer,
                                       const std::string& repository, const std::string& content) {
  const std::string digest = Sha256Digest(content);
  absl::StatusOr<Result> start = Do("POST", absl::StrCat(registry_url, "/v2/", repository,
                                                         "/blobs/uploads/"),
                                    bearer, "application/octet-stream", "");
  if (!start.ok()) return start.status();
  if (start->status != 202 || start->location.empty()) {
    return absl::InternalError(absl::StrCat("blob upload start: ", start->status, " ", start->body));
  }
  std::string url = start->location;
  if (absl::StartsWith(url, "/")) url = registry_url + url;
  absl::StrAppend(&url, absl::StrContains(url, "?") ? "&" : "?", "digest=", digest);
  absl::StatusOr<Result> put = Do("PUT", url, bearer, "application/octet-stream", content);
  if (!put.ok()) return put.status();
  if (put->status != 201) {
    return absl::InternalError(absl::StrCat("blob upload: ", put->status, " ", put->body));
  }
  return digest;
}

absl::StatusOr<BuiltImage> PushTestImage(const std::string& registry_url,
                                         const std::string& bearer, const std::string& repository,
                                         const std::string& tag, const FakeImage& image) {
  BuiltImage built = BuildImage(image);
  for (const std::string& layer : built.layers) {
    absl::StatusOr<std::string> d = UploadBlob(registry_url, bearer, repository, layer);
    if (!d.ok()) return d.status();
  }
  absl::StatusOr<std::string> cd = UploadBlob(registry_url, bearer, repository, built.config);
  if (!cd.ok()) return cd.status();
  absl::StatusOr<Result> put =
      Do("PUT", absl::StrCat(registry_url, "/v2/", repository, "/manifests/", tag), bearer,
         built.media_type, built.manifest);
  if (!put.ok()) return put.status();
  if (put->status != 201) {
    return absl::InternalError(absl::StrCat("manifest put: ", put->status, " ", put->body));
  }
  return built;
}

}  // namespace portunus::testing
