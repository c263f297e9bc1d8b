#include <curl/curl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/command.h"

namespace portunus::cli {
namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
  absl::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    headers->emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * n;
}

absl::StatusCode CodeForHttp(long status) {
  switch (status) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAlreadyExists;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

std::string HttpResult::Header(absl::string_view name) const {
  const std::string lower = absl::AsciiStrToLower(name);
  for (const auto& [k, v] : headers) {
    if (k == lower) return v;
  }
  return "";
}

RestClient::RestClient(std::string server, std::string user, std::string token)
    : server_(std::move(server)), user_(std::move(user)), token_(std::move(token)) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
}

absl::StatusOr<HttpResult> RestClient::Do(
    absl::string_view method, absl::string_view path, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  HttpResult result;
  const std::string url = absl::StrCat(server_, path);
  const std::string m(method);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, m.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (m == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty() || m == "POST" || m == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (!user_.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, user_.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, token_.c_str());
  }
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  std::string bearer;
  if (user_.empty() && !token_.empty()) {
    bearer = "Authorization: Bearer " + token_;
    headers = curl_slist_append(headers, bearer.c_str());
  }
  std::vector<std::string> extra;
  for (const auto& [k, v] : extra_headers) extra.push_back(absl::StrCat(k, ": ", v));
  for (const std::string& h : extra) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach ", server_, ": ", curl_easy_strerror(rc)));
  }
  return result;
}

absl::StatusOr<nlohmann::json> RestClient::Json(absl::string_view method, absl::string_view path,
                                                const nlohmann::json* body) {
  absl::StatusOr<HttpResult> r = Do(method, path, body ? body->dump() : std::string());
  if (!r.ok()) return r.status();
  nlohmann::json parsed = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status < 200 || r->status >= 300) {
    std::string message = absl::StrCat("HTTP ", r->status);
    if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
      absl::StrAppend(&message, ": ", parsed["message"].get<std::string>());
    }
    return absl::Status(CodeForHttp(r->status), message);
  }
  if (r->body.empty()) return nlohmann::json();
  if (parsed.is_discarded()) {
    return absl::InternalError(absl::StrCat("server answered with invalid JSON: ", r->body.substr(0, 200)));
  }
  return parsed;
}

}  // namespace portunus::cli
