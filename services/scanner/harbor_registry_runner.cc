#include "services/scanner/harbor_registry_runner.h"

#include <curl/curl.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/common/http_server.h"
#include "services/common/log.h"

namespace portunus::scanner {
namespace {

constexpr size_t kMaxTokenResponse = 1 << 20;

struct Answer {
  long status = 0;
  std::string www_authenticate;
  std::string body;
  bool too_large = false;
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  absl::string_view line(data, size * n);
  if (line.size() > 17 && absl::EqualsIgnoreCase(line.substr(0, 17), "www-authenticate:")) {
    a->www_authenticate = std::string(absl::StripAsciiWhitespace(line.substr(17)));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Answer*>(user);
  if (a->body.size() + size * n > kMaxTokenResponse) {
    a->too_large = true;
    return 0;
  }
  a->body.append(data, size * n);
  return size * n;
}

// One small GET (the registry's /v2/ challenge, the token endpoint).
absl::StatusOr<Answer> Get(const std::string& url, const std::string& authorization, bool tls_verify,
                           const std::string& ca_file, absl::Duration timeout) {
  CURL* h = curl_easy_init();
  if (h == nullptr) return absl::InternalError("curl_easy_init failed");
  Answer a;
  struct curl_slist* headers = nullptr;
  if (!authorization.empty()) headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "portunus-scanner (harbor adapter)");
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls_verify ? 2L : 0L);
  if (!ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
  curl_easy_cleanup(h);
  curl_slist_free_all(headers);
  if (a.too_large) return absl::FailedPreconditionError(absl::StrCat("GET ", url, ": answer larger than 1 MiB"));
  if (rc != CURLE_OK) return absl::UnavailableError(absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
  return a;
}

// The scanner's image sources over one RegistryClient.
class RegistrySource final : public ManifestSource, public BlobSource {
 public:
  explicit RegistrySource(RegistryClient& client) : client_(client) {}
  absl::StatusOr<scanner::FetchedManifest> FetchManifest(const std::string& repository,
                                                         const std::string& reference) override {
    absl::StatusOr<portunus::FetchedManifest> m = client_.GetManifest(repository, reference);
    if (!m.ok()) return m.status();
    scanner::FetchedManifest out;
    out.media_type = m->media_type;
    out.digest = m->digest;
    out.body = std::move(m->body);
    return out;
  }
  absl::Status StreamBlob(const std::string& repository, const std::string& digest, const BlobSink& sink) override {
    absl::StatusOr<int64_t> n = client_.GetBlob(repository, digest, sink);
    return n.status();
  }

 private:
  RegistryClient& client_;
};

}  // namespace

absl::StatusOr<std::string> HarborCredentialTokens::Realm() {
  {
    absl::MutexLock lock(&mu_);
    if (!realm_.empty()) return realm_;
  }
  absl::StatusOr<Answer> a = Get(options_.registry_url + "/v2/", "", options_.tls_verify, options_.ca_file,
                                 options_.timeout);
  if (!a.ok()) return a.status();
  if (a->status != 401 || a->www_authenticate.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("GET ", options_.registry_url, "/v2/: answered ", a->status, " without a Bearer challenge"));
  }
  absl::StatusOr<AuthChallenge> c = ParseAuthChallenge(a->www_authenticate);
  if (!c.ok() || c->scheme != "bearer" || c->params["realm"].empty()) {
    return absl::UnauthenticatedError(absl::StrCat("registry ", options_.registry_url,
                                                   " does not use Bearer token authentication"));
  }
  const std::string realm = c->params["realm"];
  if (!absl::StartsWithIgnoreCase(realm, "http://") && !absl::StartsWithIgnoreCase(realm, "https://")) {
    return absl::UnauthenticatedError(absl::StrCat("registry token realm \"", realm, "\" is not an http(s) URL"));
  }
  absl::MutexLock lock(&mu_);
  realm_ = realm;
  return realm_;
}

absl::StatusOr<RegistryToken> HarborCredentialTokens::Fetch(const std::string& service,
                                                            const std::vector<std::string>& scopes) {
  if (absl::StartsWithIgnoreCase(options_.authorization, "bearer ")) {
    return RegistryToken{std::string(absl::StripAsciiWhitespace(options_.authorization.substr(7))),
                         clock_.Now() + absl::Hours(1)};
  }
  absl::StatusOr<std::string> realm = Realm();
  if (!realm.ok()) return realm.status();
  std::string url = *realm;
  url += absl::StrContains(url, '?') ? "&" : "?";
  url += "service=" + PercentEncode(service);
  for (const std::string& s : scopes) url += "&scope=" + PercentEncode(s);
  absl::StatusOr<Answer> a = Get(url, options_.authorization, options_.tls_verify, options_.ca_file, options_.timeout);
  if (!a.ok()) return a.status();
  if (a->status == 401 || a->status == 403) {
    return absl::UnauthenticatedError(absl::StrCat("token server ", *realm, " refused the credentials (HTTP ",
                                                   a->status, ")"));
  }
  if (a->status >= 500) return absl::UnavailableError(absl::StrCat("token server ", *realm, ": HTTP ", a->status));
  if (a->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat("token server ", *realm, ": HTTP ", a->status));
  }
  nlohmann::json j = nlohmann::json::parse(a->body, nullptr, false);
  std::string token;
  if (j.is_object()) {
    if (j.contains("token") && j["token"].is_string()) token = j["token"].get<std::string>();
    if (token.empty() && j.contains("access_token") && j["access_token"].is_string()) {
      token = j["access_token"].get<std::string>();
    }
  }
  if (token.empty()) return absl::FailedPreconditionError(absl::StrCat("token server ", *realm, ": no token"));
  int64_t expires_in = 60;  // the Docker token spec's default
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) {
    expires_in = std::max<int64_t>(1, j["expires_in"].get<int64_t>());
  }
  return RegistryToken{token, clock_.Now() + absl::Seconds(expires_in)};
}

absl::Status RegistryHarborScanRunner::Scan(const HarborScanRequest& request) {
  HarborCredentialTokens tokens({request.registry_url, request.authorization, options_.tls_verify, options_.ca_file},
                                clock_);
  HttpRegistryClient::Options o;
  o.url = request.registry_url;
  o.tls_verify = options_.tls_verify;
  o.ca_file = options_.ca_file;
  o.user_agent = "portunus-scanner (harbor adapter)";
  absl::StatusOr<std::unique_ptr<HttpRegistryClient>> client = HttpRegistryClient::Create(o, &tokens, clock_);
  if (!client.ok()) return client.status();
  RegistrySource source(**client);
  ImageScanner scanner(options_.scan, source, source, store_, advisories_, rpm_, clock_);
  return scanner.Scan(request.repository, request.digest);
}

absl::StatusOr<std::unique_ptr<HarborAdapterService>> HarborAdapterService::Start(
    const HarborAdapterConfig& config, ImageScanner::Options scan, ScannerApi& api, ScanStore& store,
    AdvisoryCache& advisories, const RpmDatabaseReader* rpm, Clock& clock) {
  std::unique_ptr<HarborAdapterService> s(new HarborAdapterService());
  RegistryHarborScanRunner::Options ro;
  ro.tls_verify = config.registry_tls_verify;
  ro.ca_file = config.registry_ca_file;
  HarborAdapter::Options ao;
  ao.token = config.token;
  ao.refresh_after = config.refresh_after;
  ao.max_scans = static_cast<size_t>(config.max_scans);
  ao.scanner_version = scan.scanner_version;
  ro.scan = std::move(scan);
  s->runner_ = std::make_unique<RegistryHarborScanRunner>(std::move(ro), store, advisories, rpm, clock);
  s->workers_ = std::make_unique<WorkerPool>(static_cast<size_t>(config.workers));
  s->adapter_ = std::make_unique<HarborAdapter>(std::move(ao), *s->runner_, api, *s->workers_, clock);
  HttpServerOptions ho;
  ho.listen = config.listen;
  ho.tls_cert_file = config.tls_cert_file;
  ho.tls_key_file = config.tls_key_file;
  HarborAdapter* adapter = s->adapter_.get();
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(ho, [adapter](HttpRequest&& req, HttpResponder respond) {
        adapter->Handle(std::move(req), std::move(respond));
      });
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("scanner.harbor_adapter.listen ", config.listen, ": ", server.status().message()));
  }
  s->server_ = *std::move(server);
  LogInfo("harbor scanner adapter listening", {{"port", s->server_->port()}, {"tls", s->server_->tls()},
                                               {"authentication", !config.token.empty()}});
  return s;
}

HarborAdapterService::~HarborAdapterService() { Stop(absl::Now()); }

void HarborAdapterService::Stop(absl::Time deadline) {
  if (server_ != nullptr) server_->Shutdown(deadline);
  if (adapter_ != nullptr) adapter_->Stop();
  workers_.reset();  // finishes the scans already scheduled
}

}  // namespace portunus::scanner
