#include "services/health/registry_check.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace portunus::health {
namespace {

constexpr char kUnusable[] = "registry is reachable but not usable: ";

// The value of `error="..."` in a WWW-Authenticate challenge, or "".
std::string ChallengeError(const std::string& challenge) {
  const size_t at = challenge.find("error=\"");
  if (at == std::string::npos) return "";
  const size_t start = at + 7;
  const size_t end = challenge.find('"', start);
  return challenge.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

ComponentStatus Result(bool success, std::string message) {
  ComponentStatus s;
  s.success = success;
  s.message = std::move(message);
  return s;
}

}  // namespace

std::string DescribeRegistryError(const HttpResponse& response) {
  std::vector<std::string> parts;
  const nlohmann::json body =
      nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("errors") && body["errors"].is_array()) {
    for (const auto& e : body["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", "");
      std::string message = e.value("message", "");
      if (!code.empty() && !message.empty()) {
        parts.push_back(absl::StrCat(code, ": ", message));
      } else if (!code.empty() || !message.empty()) {
        parts.push_back(code + message);
      }
    }
  }
  std::string out = absl::StrJoin(parts, "; ");
  if (out.empty()) {
    std::string snippet(absl::StripAsciiWhitespace(response.body.substr(0, 200)));
    for (char& c : snippet) {
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    }
    out = snippet;
  }
  const std::string challenge_error = ChallengeError(response.Header("www-authenticate"));
  if (!challenge_error.empty()) {
    out = out.empty() ? challenge_error : absl::StrCat(out, " (", challenge_error, ")");
  }
  return out;
}

RegistryCheck::RegistryCheck(std::string url, HttpGetter& http, RegistryTokenSource& tokens)
    : url_(absl::StripSuffix(url, "/")), http_(http), tokens_(tokens) {}

std::optional<ComponentStatus> RegistryCheck::Run(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const auto left = [deadline] { return std::max(absl::Milliseconds(1), deadline - absl::Now()); };
  const auto answered = [](const char* what, const HttpResponse& r) {
    std::string detail = DescribeRegistryError(r);
    return absl::StrCat(what, " answered ", r.status, detail.empty() ? "" : ": ", detail);
  };
  // Names the URL: a transport error alone ("Connection reset by peer") does not say where.
  const auto unreachable = [](const std::string& url, const absl::Status& s) {
    return Result(false, absl::StrCat("registry is not reachable: GET ", url, ": ", s.message()));
  };

  // 1. Reachable at all? Anonymous, so a wrong token setup cannot hide an outage.
  absl::StatusOr<HttpResponse> ping = http_.Get(url_ + "/v2/", {}, left());
  if (!ping.ok()) return unreachable(url_ + "/v2/", ping.status());
  if (ping->Header("docker-distribution-api-version").empty()) {
    return Result(false, absl::StrCat(kUnusable, url_,
                                      " does not look like a Docker registry (GET /v2/ answered ",
                                      ping->status, " without Docker-Distribution-Api-Version)"));
  }

  HttpHeaders auth;
  if (ping->status == 401) {
    // 2. Token auth (the only setup Portunus supports): a token for the internal principal
    // must be accepted.
    absl::StatusOr<std::string> token = tokens_.Token({"registry:catalog:*"}, left());
    if (!token.ok()) {
      return Result(false,
                    absl::StrCat(kUnusable, "cannot get a token for the internal principal: ",
                                 token.status().message()));
    }
    auth.emplace_back("Authorization", "Bearer " + *token);
    absl::StatusOr<HttpResponse> authed = http_.Get(url_ + "/v2/", auth, left());
    if (!authed.ok()) return unreachable(url_ + "/v2/", authed.status());
    if (authed->status != 200) {
      return Result(false, absl::StrCat(kUnusable, "it rejects Portunus's tokens: ",
                                        answered("GET /v2/ with a token", *authed)));
    }
  } else if (ping->status != 200) {
    return Result(false, absl::StrCat(kUnusable, answered("GET /v2/", *ping)));
  }

  // 3. The catalog must be readable (Portunus's sync depends on it).
  absl::StatusOr<HttpResponse> catalog = http_.Get(url_ + "/v2/_catalog?n=1", auth, left());
  if (!catalog.ok()) return unreachable(url_ + "/v2/_catalog?n=1", catalog.status());
  if (catalog->status != 200) {
    return Result(false, absl::StrCat(kUnusable, "cannot read the catalog: ",
                                      answered("GET /v2/_catalog", *catalog)));
  }
  return Result(true, "registry is reachable");
}

}  // namespace portunus::health
