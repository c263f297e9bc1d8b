#include "services/common/registry_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"

namespace portunus {
namespace {

constexpr size_t kMaxManifestBytes = 4 << 20;   // the registry's own manifest limit
constexpr size_t kMaxResponseBytes = 16 << 20;  // catalog pages, tag lists, error bodies

bool IsLowerHex(absl::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsAlnumLower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string Hex(const unsigned char* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

// Incremental digest of streamed content (sha256/sha512), for verification.
class Digester {
 public:
  explicit Digester(absl::string_view digest) {
    if (absl::StartsWith(digest, "sha256:")) md_ = EVP_sha256();
    if (absl::StartsWith(digest, "sha512:")) md_ = EVP_sha512();
    if (md_ != nullptr) {
      ctx_ = EVP_MD_CTX_new();
      EVP_DigestInit_ex(ctx_, md_, nullptr);
      prefix_ = std::string(digest.substr(0, digest.find(':') + 1));
    }
  }
  ~Digester() {
    if (ctx_ != nullptr) EVP_MD_CTX_free(ctx_);
  }
  Digester(const Digester&) = delete;
  Digester& operator=(const Digester&) = delete;
  bool active() const { return ctx_ != nullptr; }
  void Update(absl::string_view data) {
    if (ctx_ != nullptr) EVP_DigestUpdate(ctx_, data.data(), data.size());
  }
  std::string Final() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return prefix_ + Hex(out, n);
  }

 private:
  const EVP_MD* md_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
  std::string prefix_;
};

std::string DigestOf(absl::string_view algorithm_source, absl::string_view bytes) {
  Digester d(algorithm_source);
  if (!d.active()) return "";
  d.Update(bytes);
  return d.Final();
}

// Strips parameters from a Content-Type ("application/json; charset=utf-8").
std::string BareMediaType(absl::string_view content_type) {
  return absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';'))));
}

std::string Origin(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  const size_t path = url.find('/', scheme_end + 3);
  return std::string(url.substr(0, path));
}

absl::StatusCode CodeForHttpStatus(long status) {
  if (status == 400) return absl::StatusCode::kInvalidArgument;
  if (status == 401) return absl::StatusCode::kUnauthenticated;
  if (status == 403) return absl::StatusCode::kPermissionDenied;
  if (status == 404) return absl::StatusCode::kNotFound;
  if (status == 405) return absl::StatusCode::kFailedPrecondition;
  if (status == 429) return absl::StatusCode::kResourceExhausted;
  if (status >= 500) return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kInternal;
}

// "404 MANIFEST_UNKNOWN: manifest unknown" from a registry error body.
std::string DescribeError(long status, const std::string& body) {
  std::string out = absl::StrCat(status);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    const nlohmann::json& e = j["errors"][0];
    if (e.is_object()) {
      if (e.contains("code") && e["code"].is_string()) {
        absl::StrAppend(&out, " ", e["code"].get<std::string>());
      }
      if (e.contains("message") && e["message"].is_string()) {
        absl::StrAppend(&out, ": ", e["message"].get<std::string>());
      }
    }
  }
  return out;
}

std::string RepositoryScope(absl::string_view repository, absl::string_view actions) {
  return absl::StrCat("repository:", repository, ":", actions);
}

absl::Status CheckRepository(absl::string_view repository) {
  if (!IsValidRepositoryName(repository)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid repository name \"", repository.substr(0, 300), "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckReference(absl::string_view reference) {
  if (!IsValidTag(reference) && !IsValidDigest(reference)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid tag or digest \"", reference.substr(0, 300), "\""));
  }
  return absl::OkStatus();
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

const std::string& ManifestAcceptHeader() {
  static const std::string* const kAccept = new std::string(
      absl::StrCat(kMediaTypeOciManifest, ", ", kMediaTypeDockerManifest, ", ",
                   kMediaTypeDockerManifestList, ", ", kMediaTypeOciIndex));
  return *kAccept;
}

bool IsManifestMediaType(absl::string_view media_type) {
  return media_type == kMediaTypeOciManifest || media_type == kMediaTypeDockerManifest ||
         IsIndexMediaType(media_type);
}

bool IsIndexMediaType(absl::string_view media_type) {
  return media_type == kMediaTypeOciIndex || media_type == kMediaTypeDockerManifestList;
}

bool IsValidDigest(absl::string_view digest) {
  if (absl::StartsWith(digest, "sha256:")) {
    return digest.size() == 7 + 64 && IsLowerHex(digest.substr(7));
  }
  if (absl::StartsWith(digest, "sha512:")) {
    return digest.size() == 7 + 128 && IsLowerHex(digest.substr(7));
  }
  return false;
}

bool IsValidRepositoryName(absl::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (absl::string_view component : absl::StrSplit(name, '/')) {
    if (component.empty() || !IsAlnumLower(component.front()) ||
        !IsAlnumLower(component.back())) {
      return false;
    }
    bool prev_separator = false;
    for (char c : component) {
      const bool separator = c == '.' || c == '_' || c == '-';
      if (!separator && !IsAlnumLower(c)) return false;
      // [._-] separators stand alone, except "__" (allowed by the distribution grammar).
      if (separator && prev_separator && c != '_') return false;
      prev_separator = separator;
    }
  }
  return true;
}

bool IsValidTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag[0])) return false;
  return std::all_of(tag.begin() + 1, tag.end(), [&](char c) { return word(c) || c == '.' || c == '-'; });
}

std::string Sha256Digest(absl::string_view bytes) { return DigestOf("sha256:", bytes); }

std::vector<std::string> AuthChallenge::Scopes() const {
  auto it = params.find("scope");
  if (it == params.end()) return {};
  return absl::StrSplit(it->second, ' ', absl::SkipEmpty());
}

absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header) {
  AuthChallenge c;
  header = absl::StripAsciiWhitespace(header);
  const size_t space = header.find(' ');
  c.scheme = absl::AsciiStrToLower(header.substr(0, space));
  if (c.scheme.empty()) return absl::InvalidArgumentError("empty WWW-Authenticate header");
  if (space == absl::string_view::npos) return c;
  absl::string_view rest = header.substr(space + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
    if (i >= rest.size()) break;
    const size_t eq = rest.find('=', i);
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError("malformed WWW-Authenticate parameter");
    }
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(rest.substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      bool closed = false;
      while (i < rest.size()) {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
          value.push_back(rest[i + 1]);
          i += 2;
        } else if (rest[i] == '"') {
          ++i;
          closed = true;
          break;
        } else {
          value.push_back(rest[i++]);
        }
      }
      if (!closed) return absl::InvalidArgumentError("unterminated quoted WWW-Authenticate value");
    } else {
      const size_t end = std::min(rest.find(',', i), rest.size());
      value = std::string(absl::StripAsciiWhitespace(rest.substr(i, end - i)));
      i = end;
    }
    c.params[name] = value;
  }
  return c;
}

absl::StatusOr<std::string> ResolveNextLink(absl::string_view link_header,
                                            absl::string_view base_url) {
  // Link: <url>; rel="next"[, <url>; rel="prev"]
  size_t pos = 0;
  while (true) {
    const size_t open = link_header.find('<', pos);
    if (open == absl::string_view::npos) return std::string();
    const size_t close = link_header.find('>', open);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("malformed Link header");
    }
    absl::string_view target = link_header.substr(open + 1, close - open - 1);
    const size_t next_link = link_header.find('<', close);
    absl::string_view params = link_header.substr(close + 1, next_link == absl::string_view::npos
                                                                 ? absl::string_view::npos
                                                                 : next_link - close - 1);
    std::string lowered = absl::AsciiStrToLower(params);
    lowered.erase(std::remove(lowered.begin(), lowered.end(), ' '), lowered.end());
    if (absl::StrContains(lowered, "rel=\"next\"") || absl::StrContains(lowered, "rel=next")) {
      const std::string origin = Origin(base_url);
      if (absl::StartsWith(target, "/")) return absl::StrCat(origin, target);
      if (absl::StartsWith(target, "http://") || absl::StartsWith(target, "https://")) {
        if (Origin(target) != origin) {
          return absl::InvalidArgumentError(
              absl::StrCat("Link header points to another origin: ", target.substr(0, 200)));
        }
        return std::string(target);
      }
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported relative Link target: ", target.substr(0, 200)));
    }
    if (next_link == absl::string_view::npos) return std::string();
    pos = next_link;
  }
}

absl::StatusOr<std::vector<std::string>> ListAllRepositories(RegistryClient& client,
                                                             int page_size) {
  std::vector<std::string> all;
  PORTUNUS_RETURN_IF_ERROR(client.Catalog(page_size, [&all](std::vector<std::string> page) {
    all.insert(all.end(), std::make_move_iterator(page.begin()),
               std::make_move_iterator(page.end()));
    return absl::OkStatus();
  }));
  return all;
}

// ---------------------------------------------------------------------------------------------
// HttpRegistryClient

struct HttpRegistryClient::Request {
  std::string method = "GET";
  std::string url;
  std::string path;  // for messages: "/v2/team/app/tags/list"
  std::vector<std::string> headers;
  std::string body;  // PUT
  std::vector<std::string> scopes;
  bool follow_redirects = false;
  size_t max_body = kMaxResponseBytes;
  // Streaming: the body of a 2xx answer goes to on_chunk instead of Response::body.
  const std::function<absl::Status(absl::string_view)>* on_chunk = nullptr;
  Digester* digester = nullptr;
  int64_t delivered = 0;
  absl::Status chunk_status;
};

struct HttpRegistryClient::Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final answer, lower-cased
  std::string body;
  std::string Header(absl::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

namespace {

struct TransferState {
  HttpRegistryClient::Options const* options;
  void* request;   // HttpRegistryClient::Request*
  void* response;  // HttpRegistryClient::Response*
  bool too_large = false;
};

}  // namespace

HttpRegistryClient::HttpRegistryClient(Options options, RegistryTokenSource* tokens,
                                       const Clock& clock)
    : options_(std::move(options)), tokens_(tokens), clock_(clock), origin_(Origin(options_.url)) {}

absl::StatusOr<std::unique_ptr<HttpRegistryClient>> HttpRegistryClient::Create(
    Options options, RegistryTokenSource* tokens, const Clock& clock) {
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  if (!absl::StartsWith(options.url, "http://") && !absl::StartsWith(options.url, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("registry url must start with http:// or https:// (got \"", options.url, "\")"));
  }
  if (Origin(options.url).size() <= std::string("https://").size()) {
    return absl::InvalidArgumentError(absl::StrCat("registry url has no host: ", options.url));
  }
  if (!options.ca_file.empty()) {
    if (FILE* f = std::fopen(options.ca_file.c_str(), "r")) {
      std::fclose(f);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("registry CA file cannot be read: ", options.ca_file));
    }
  }
  GlobalInitOnce();
  return std::unique_ptr<HttpRegistryClient>(
      new HttpRegistryClient(std::move(options), tokens, clock));
}

HttpRegistryClient::~HttpRegistryClient() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(h));
  idle_handles_.clear();
}

int64_t HttpRegistryClient::token_fetches_for_test() const {
  absl::MutexLock lock(&mu_);
  return token_fetches_;
}

void* HttpRegistryClient::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* h = idle_handles_.back();
      idle_handles_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpRegistryClient::ReturnHandle(void* handle) {
  if (handle == nullptr) return;
  absl::MutexLock lock(&mu_);
  if (idle_handles_.size() < options_.max_idle_handles) {
    idle_handles_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

size_t HttpRegistryClient::OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* state = static_cast<TransferState*>(user);
  auto* response = static_cast<Response*>(state->response);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response begins (after a redirect or 100 Continue): keep only the last one's headers.
    response->headers.clear();
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    long code = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &code)) response->status = code;
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    response->headers.emplace_back(absl::AsciiStrToLower(line.substr(0, colon)),
                                   std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return size * n;
}

absl::StatusOr<HttpRegistryClient::Response> HttpRegistryClient::Perform(Request& request,
                                                                        const std::string& token) {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  Response response;
  TransferState state{&options_, &request, &response};
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(
                       std::min(options_.connect_timeout, options_.timeout))));
  if (request.on_chunk != nullptr) {
    // A layer may take long as a whole; abort only when the transfer stalls.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     std::max<long>(1, static_cast<long>(absl::ToInt64Seconds(options_.timeout))));
  } else {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (request.follow_redirects) {
    // Storage backends redirect blob downloads. libcurl drops the Authorization header when the
    // redirect leaves the registry's host (CURLOPT_UNRESTRICTED_AUTH stays off).
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  struct curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for PUT
  std::string authorization;
  if (!token.empty()) {
    authorization = "Authorization: Bearer " + token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  request.chunk_status = absl::OkStatus();
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  const std::string what = absl::StrCat(request.method, " ", request.path);
  if (rc != CURLE_OK) {
    // A failed transfer may leave the connection in any state: do not reuse the handle.
    curl_easy_cleanup(curl);
    if (rc == CURLE_WRITE_ERROR && !request.chunk_status.ok()) return request.chunk_status;
    if (rc == CURLE_WRITE_ERROR && state.too_large) {
      return absl::InternalError(absl::StrCat(what, ": response larger than ", request.max_body,
                                              " bytes"));
    }
    const std::string detail = error[0] != '\0' ? error : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return absl::DeadlineExceededError(absl::StrCat(what, ": ", detail));
    }
    if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", detail));
    }
    return absl::UnavailableError(absl::StrCat(what, ": registry unreachable: ", detail));
  }
  ReturnHandle(curl);
  return response;
}

size_t HttpRegistryClient::OnBody(char* data, size_t size, size_t n, void* user) {
  auto* state = static_cast<TransferState*>(user);
  auto* request = static_cast<Request*>(state->request);
  auto* response = static_cast<Response*>(state->response);
  const absl::string_view chunk(data, size * n);
  if (request->on_chunk != nullptr && response->status >= 200 && response->status < 300) {
    if (request->digester != nullptr) request->digester->Update(chunk);
    absl::Status s = (*request->on_chunk)(chunk);
    if (!s.ok()) {
      request->chunk_status = std::move(s);
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    request->delivered += static_cast<int64_t>(chunk.size());
    return chunk.size();
  }
  if (response->body.size() + chunk.size() > request->max_body) {
    state->too_large = true;
    return 0;
  }
  response->body.append(chunk.data(), chunk.size());
  return chunk.size();
}

absl::StatusOr<std::string> HttpRegistryClient::CachedToken(const std::string& scope_key) {
  if (tokens_ == nullptr) return std::string();
  absl::MutexLock lock(&mu_);
  auto it = token_cache_.find(scope_key);
  if (it == token_cache_.end()) return std::string();
  if (clock_.Now() >= it->second.expires_at) {
    token_cache_.erase(it);
    return std::string();
  }
  return it->second.token;
}

absl::StatusOr<std::string> HttpRegistryClient::FetchToken(
    const AuthChallenge& challenge, const std::vector<std::string>& fallback_scopes) {
  std::vector<std::string> scopes = challenge.Scopes();
  if (scopes.empty() && challenge.params.count("scope") == 0) scopes = fallback_scopes;
  auto service_it = challenge.params.find("service");
  const std::string service =
      service_it != challenge.params.end() ? service_it->second : options_.service;
  absl::StatusOr<RegistryToken> token = tokens_->Fetch(service, scopes);
  if (!token.ok()) {
    return absl::Status(token.status().code(),
                        absl::StrCat("registry token for \"", absl::StrJoin(scopes, " "),
                                     "\": ", token.status().message()));
  }
  const absl::Time now = clock_.Now();
  const absl::Duration lifetime = token->expires_at - now;
  const absl::Duration margin = std::max(options_.token_renew_margin, lifetime / 10);
  {
    absl::MutexLock lock(&mu_);
    ++token_fetches_;
    std::vector<std::string> sorted = scopes;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> sorted_fallback = fallback_scopes;
    std::sort(sorted_fallback.begin(), sorted_fallback.end());
    // Cached under the scopes we expected for this kind of request (so the next one sends it
    // up front) and under what the registry asked for.
    const RegistryToken cached{token->token, token->expires_at - margin};
    if (cached.expires_at > now) {
      token_cache_[absl::StrJoin(sorted_fallback, " ")] = cached;
      token_cache_[absl::StrJoin(sorted, " ")] = cached;
    }
  }
  return token->token;
}

absl::StatusOr<HttpRegistryClient::Response> HttpRegistryClient::Execute(Request& request) {
  std::vector<std::string> sorted = request.scopes;
  std::sort(sorted.begin(), sorted.end());
  const std::string scope_key = absl::StrJoin(sorted, " ");
  PORTUNUS_ASSIGN_OR_RETURN(std::string token, CachedToken(scope_key));
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Perform(request, token));
  const std::string what = absl::StrCat(request.method, " ", request.path);
  if (response.status == 401) {
    const std::string header = response.Header("www-authenticate");
    absl::StatusOr<AuthChallenge> challenge = ParseAuthChallenge(header);
    if (!challenge.ok() || challenge->scheme != "bearer") {
      return absl::UnauthenticatedError(absl::StrCat(
          what, ": registry requires ", challenge.ok() ? challenge->scheme : "unknown",
          " authentication; only Bearer token authentication is supported"));
    }
    if (tokens_ == nullptr) {
      return absl::UnauthenticatedError(
          absl::StrCat(what, ": registry requires a token and no token source is configured"));
    }
    {
      absl::MutexLock lock(&mu_);
      token_cache_.erase(scope_key);
    }
    PORTUNUS_ASSIGN_OR_RETURN(token, FetchToken(*challenge, request.scopes));
    PORTUNUS_ASSIGN_OR_RETURN(response, Perform(request, token));
    if (response.status == 401) {
      absl::StatusOr<AuthChallenge> again = ParseAuthChallenge(response.Header("www-authenticate"));
      std::string reason = "token refused";
      if (again.ok() && again->params.count("error")) {
        reason = absl::StrCat("token refused (", again->params.at("error"), ")");
      }
      absl::MutexLock lock(&mu_);
      token_cache_.erase(scope_key);
      return absl::UnauthenticatedError(absl::StrCat(what, ": ", reason));
    }
  }
  if (response.status < 200 || response.status >= 300) {
    return absl::Status(CodeForHttpStatus(response.status),
                        absl::StrCat(what, ": ", DescribeError(response.status, response.body)));
  }
  return response;
}

absl::Status HttpRegistryClient::Ping() {
  Request r;
  r.url = absl::StrCat(options_.url, "/v2/");
  r.path = "/v2/";
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  (void)response;
  return absl::OkStatus();
}

absl::Status HttpRegistryClient::Catalog(
    int page_size, const std::function<absl::Status(std::vector<std::string> page)>& on_page) {
  if (page_size < 1) return absl::InvalidArgumentError("catalog page size must be at least 1");
  std::string url = absl::StrCat(options_.url, "/v2/_catalog?n=", page_size);
  std::string previous;
  while (!url.empty()) {
    if (url == previous) {
      return absl::InternalError(absl::StrCat("registry catalog Link loops on ", url));
    }
    Request r;
    r.url = url;
    r.path = url.substr(origin_.size());
    r.scopes = {"registry:catalog:*"};
    r.headers = {"Accept: application/json"};
    PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
    nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
    if (!j.is_object() || !j.contains("repositories") ||
        !(j["repositories"].is_array() || j["repositories"].is_null())) {
      return absl::InternalError(absl::StrCat("GET ", r.path, ": malformed catalog answer"));
    }
    std::vector<std::string> page;
    if (j["repositories"].is_array()) {
      for (const nlohmann::json& name : j["repositories"]) {
        if (!name.is_string()) {
          return absl::InternalError(absl::StrCat("GET ", r.path, ": malformed catalog answer"));
        }
        page.push_back(name.get<std::string>());
      }
    }
    PORTUNUS_RETURN_IF_ERROR(on_page(std::move(page)));
    previous = url;
    absl::StatusOr<std::string> next = ResolveNextLink(response.Header("link"), options_.url);
    if (!next.ok()) {
      return absl::InternalError(absl::StrCat("GET ", r.path, ": ", next.status().message()));
    }
    url = *next;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> HttpRegistryClient::ListTags(
    absl::string_view repository) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  Request r;
  r.path = absl::StrCat("/v2/", repository, "/tags/list");
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "pull")};
  r.headers = {"Accept: application/json"};
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  nlohmann::json j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_object()) {
    return absl::InternalError(absl::StrCat("GET ", r.path, ": malformed tag list"));
  }
  std::vector<std::string> tags;
  if (j.contains("tags") && j["tags"].is_array()) {
    for (const nlohmann::json& t : j["tags"]) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

absl::StatusOr<FetchedManifest> HttpRegistryClient::GetManifest(absl::string_view repository,
                                                                absl::string_view reference) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  PORTUNUS_RETURN_IF_ERROR(CheckReference(reference));
  Request r;
  r.path = absl::StrCat("/v2/", repository, "/manifests/", reference);
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "pull")};
  r.headers = {"Accept: " + ManifestAcceptHeader()};
  r.max_body = kMaxManifestBytes;
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  FetchedManifest m;
  m.media_type = BareMediaType(response.Header("content-type"));
  m.digest = response.Header("docker-content-digest");
  m.body = std::move(response.body);
  if (IsValidDigest(reference)) {
    const std::string actual = DigestOf(reference, m.body);
    if (actual != reference) {
      return absl::DataLossError(absl::StrCat("GET ", r.path, ": content has digest ", actual));
    }
    m.digest = std::string(reference);
  } else if (m.digest.empty()) {
    m.digest = Sha256Digest(m.body);
  } else if (IsValidDigest(m.digest) && DigestOf(m.digest, m.body) != m.digest) {
    return absl::DataLossError(absl::StrCat("GET ", r.path, ": content does not match ",
                                            "Docker-Content-Digest ", m.digest));
  }
  if (m.media_type.empty() || m.media_type == "application/json") {
    // Very old registries: take the mediaType the manifest declares.
    nlohmann::json j = nlohmann::json::parse(m.body, nullptr, false);
    if (j.is_object() && j.contains("mediaType") && j["mediaType"].is_string()) {
      m.media_type = j["mediaType"].get<std::string>();
    }
  }
  return m;
}

absl::StatusOr<ManifestHead> HttpRegistryClient::HeadManifest(absl::string_view repository,
                                                              absl::string_view reference) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  PORTUNUS_RETURN_IF_ERROR(CheckReference(reference));
  Request r;
  r.method = "HEAD";
  r.path = absl::StrCat("/v2/", repository, "/manifests/", reference);
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "pull")};
  r.headers = {"Accept: " + ManifestAcceptHeader()};
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  ManifestHead head;
  head.digest = response.Header("docker-content-digest");
  head.media_type = BareMediaType(response.Header("content-type"));
  if (!IsValidDigest(head.digest)) {
    return absl::InternalError(
        absl::StrCat("HEAD ", r.path, ": answer has no valid Docker-Content-Digest header"));
  }
  int64_t size = 0;
  if (absl::SimpleAtoi(response.Header("content-length"), &size)) head.size = size;
  return head;
}

absl::StatusOr<int64_t> HttpRegistryClient::GetBlob(
    absl::string_view repository, absl::string_view digest,
    const std::function<absl::Status(absl::string_view chunk)>& on_chunk) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  if (!IsValidDigest(digest)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid digest \"", digest.substr(0, 300), "\""));
  }
  Digester digester(digest);
  Request r;
  r.path = absl::StrCat("/v2/", repository, "/blobs/", digest);
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "pull")};
  r.follow_redirects = true;
  r.on_chunk = &on_chunk;
  r.digester = &digester;
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  (void)response;
  if (digester.active()) {
    const std::string actual = digester.Final();
    if (actual != digest) {
      return absl::DataLossError(absl::StrCat("GET ", r.path, ": content has digest ", actual));
    }
  }
  return r.delivered;
}

absl::StatusOr<std::string> HttpRegistryClient::PutManifest(absl::string_view repository,
                                                            absl::string_view reference,
                                                            absl::string_view media_type,
                                                            absl::string_view body) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  PORTUNUS_RETURN_IF_ERROR(CheckReference(reference));
  if (!IsManifestMediaType(media_type)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported manifest media type \"", media_type.substr(0, 200), "\""));
  }
  Request r;
  r.method = "PUT";
  r.path = absl::StrCat("/v2/", repository, "/manifests/", reference);
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "pull,push")};
  r.headers = {absl::StrCat("Content-Type: ", media_type)};
  r.body = std::string(body);
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  std::string digest = response.Header("docker-content-digest");
  if (digest.empty()) digest = Sha256Digest(body);
  return digest;
}

absl::Status HttpRegistryClient::DeleteManifest(absl::string_view repository,
                                                absl::string_view digest) {
  PORTUNUS_RETURN_IF_ERROR(CheckRepository(repository));
  if (!IsValidDigest(digest)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifests are deleted by digest (sha256:...), not by tag (got \"", digest.substr(0, 300),
        "\")"));
  }
  Request r;
  r.method = "DELETE";
  r.path = absl::StrCat("/v2/", repository, "/manifests/", digest);
  r.url = absl::StrCat(options_.url, r.path);
  r.scopes = {RepositoryScope(repository, "delete")};
  PORTUNUS_ASSIGN_OR_RETURN(Response response, Execute(r));
  (void)response;
  return absl::OkStatus();
}

}  // namespace portunus
