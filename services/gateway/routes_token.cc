// The Docker registry token endpoint (distribution docs/spec/auth/token.md and oauth.md):
//   GET  /v2/token, /auth/token   service, scope (repeated; each may hold several
//                                 space-separated scopes), account, offline_token, client_id;
//                                 credentials by HTTP Basic (password or application token) or
//                                 Portus-Auth; none = anonymous.
//   POST /v2/token, /auth/token   the OAuth2 flow: a form with grant_type=password (username,
//                                 password) or refresh_token (refresh_token), service,
//                                 client_id, access_type=offline, scope (one space-separated
//                                 string).
// Every decision is the auth service's (TokenService.IssueToken); this file only translates.
// Answers:
//   200 {"token", "access_token" (the same), "expires_in", "issued_at"} (+ "refresh_token" when
//       one was issued; + "scope" on POST). Denied scopes are simply missing from the token.
//   401 + WWW-Authenticate: Basic for bad, disabled or locked credentials or a bad refresh
//       token, with a JSON body that never says which part was wrong.
//   400 naming the problem for a malformed scope, a bad form or a missing OAuth2 field.
//   503 when the auth service (or its signing keys) is not available.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "portunus/auth/v1/token.grpc.pb.h"
#include "services/common/utf8.h"
#include "services/gateway/rest.h"
#include "services/gateway/routes.h"

namespace portunus::gateway {
namespace {

namespace v1 = ::portunus::auth::v1;

// The realm of the Basic challenge on a refused token request. Clients show it at most.
constexpr char kBasicChallenge[] = "Basic realm=\"Portunus registry token\", charset=\"UTF-8\"";

constexpr size_t kMaxParamBytes = 4096;  // one query/form value (scopes are far shorter)
// Longer credential headers cannot be valid (names are at most 255 bytes, secrets far shorter),
// and would overflow gRPC's metadata limit when forwarded.
constexpr size_t kMaxCredentialHeaderBytes = 4096;

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xf]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// Header values gRPC metadata can carry. Credentials always are (Basic is base64, tokens are
// base64url); anything else cannot be valid credentials.
bool IsPrintableAscii(absl::string_view v) {
  for (char c : v) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

HttpResponse TokenError(int status, absl::string_view message, absl::string_view oauth_error,
                        absl::string_view request_id) {
  std::string body = "{\"message\":";
  AppendJsonString(message, &body);
  if (!oauth_error.empty()) {
    // RFC 6749 section 5.2, for OAuth2 clients.
    body.append(",\"error\":");
    AppendJsonString(oauth_error, &body);
    body.append(",\"error_description\":");
    AppendJsonString(message, &body);
  }
  body.append(",\"request_id\":");
  AppendJsonString(request_id, &body);
  body.push_back('}');
  HttpResponse r = JsonResponse(status, std::move(body));
  r.SetHeader("Cache-Control", "no-store");
  if (status == 401) r.SetHeader("WWW-Authenticate", kBasicChallenge);
  return r;
}

HttpResponse Unauthenticated(bool oauth, absl::string_view request_id) {
  return TokenError(401, "invalid credentials", oauth ? "invalid_grant" : "", request_id);
}

HttpResponse FromStatus(const absl::Status& s, bool oauth, absl::string_view request_id) {
  if (absl::IsUnauthenticated(s)) {
    // The auth service's message never says which part was wrong either; keep one wording.
    return TokenError(401, absl::StrContains(s.message(), "refresh token") ? "invalid refresh token"
                                                                           : "invalid credentials",
                      oauth ? "invalid_grant" : "", request_id);
  }
  if (absl::IsInvalidArgument(s)) {
    return TokenError(400, s.message(), oauth ? "invalid_request" : "", request_id);
  }
  HttpResponse r = ErrorResponse(s, request_id);
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

HttpResponse TokenResponse(const v1::IssueTokenResponse& t, bool with_scope) {
  std::string body = "{\"token\":";
  AppendJsonString(t.token(), &body);
  body.append(",\"access_token\":");
  AppendJsonString(t.token(), &body);
  absl::StrAppend(&body, ",\"expires_in\":", t.expires_in(), ",\"issued_at\":");
  AppendJsonString(t.issued_at(), &body);
  if (!t.refresh_token().empty()) {
    body.append(",\"refresh_token\":");
    AppendJsonString(t.refresh_token(), &body);
  }
  if (with_scope) {
    body.append(",\"scope\":");
    AppendJsonString(t.scope(), &body);
  }
  body.push_back('}');
  HttpResponse r = JsonResponse(200, std::move(body));
  r.SetHeader("Cache-Control", "no-store");  // RFC 6749 5.1
  r.SetHeader("Pragma", "no-cache");
  return r;
}

bool IsTrue(absl::string_view v) {
  return absl::EqualsIgnoreCase(v, "true") || v == "1" || absl::EqualsIgnoreCase(v, "yes");
}

// Checks every client-supplied value before it goes into a proto: bounded size, valid UTF-8.
// Returns the offending parameter's name, or "".
std::string BadParam(const std::vector<std::pair<std::string, std::string>>& params) {
  for (const auto& [k, v] : params) {
    if (k.size() > kMaxParamBytes || v.size() > kMaxParamBytes || !IsValidUtf8(k) ||
        !IsValidUtf8(v)) {
      return IsValidUtf8(k) && k.size() <= 64 ? k : "(unnamed)";
    }
  }
  return "";
}

void Issue(Upstreams& up, v1::TokenService::Stub& stub, const v1::IssueTokenRequest& rpc,
           const HttpRequest& req, bool oauth, HttpResponder respond) {
  up.Call(stub, &v1::TokenService::Stub::PrepareAsyncIssueToken, rpc, req,
          [respond = std::move(respond), oauth, rid = req.request_id](
              absl::Status s, v1::IssueTokenResponse& resp) {
            respond(s.ok() ? TokenResponse(resp, oauth) : FromStatus(s, oauth, rid));
          });
}

void HandleGet(Upstreams& up, v1::TokenService::Stub& stub, HttpRequest&& req,
               HttpResponder respond) {
  if (std::string bad = BadParam(req.query); !bad.empty()) {
    return respond(TokenError(
        400, absl::StrCat("query parameter ", bad, " is too long or not valid UTF-8"), "",
        req.request_id));
  }
  v1::IssueTokenRequest rpc;
  const std::string authorization = req.Header("authorization");
  const std::string portus_auth = req.Header("portus-auth");
  if (authorization.size() > kMaxCredentialHeaderBytes ||
      portus_auth.size() > kMaxCredentialHeaderBytes) {
    return respond(Unauthenticated(false, req.request_id));
  }
  if (!authorization.empty()) {
    if (!IsPrintableAscii(authorization)) return respond(Unauthenticated(false, req.request_id));
    rpc.mutable_credentials()->set_authorization(authorization);
  } else if (!portus_auth.empty()) {
    if (!IsPrintableAscii(portus_auth)) return respond(Unauthenticated(false, req.request_id));
    rpc.mutable_credentials()->set_portus_auth(portus_auth);
  }
  rpc.set_service(req.Query("service"));
  for (std::string& s : req.QueryAll("scope")) rpc.add_scopes(std::move(s));
  rpc.set_account(req.Query("account"));
  rpc.set_client_id(req.Query("client_id"));
  rpc.set_offline_token(IsTrue(req.Query("offline_token")));
  Issue(up, stub, rpc, req, /*oauth=*/false, std::move(respond));
}

void HandlePost(Upstreams& up, v1::TokenService::Stub& stub, HttpRequest&& req,
                HttpResponder respond) {
  if (req.Header("authorization").size() > kMaxCredentialHeaderBytes ||
      req.Header("portus-auth").size() > kMaxCredentialHeaderBytes) {
    return respond(Unauthenticated(true, req.request_id));
  }
  const std::string content_type = absl::AsciiStrToLower(req.Header("content-type"));
  if (!content_type.empty() &&
      !absl::StartsWith(content_type, "application/x-www-form-urlencoded")) {
    return respond(TokenError(400, "the body must be application/x-www-form-urlencoded",
                              "invalid_request", req.request_id));
  }
  const std::vector<std::pair<std::string, std::string>> form = ParseQueryString(req.body);
  if (std::string bad = BadParam(form); !bad.empty()) {
    return respond(TokenError(400, absl::StrCat("form field ", bad, " is too long or not valid UTF-8"),
                              "invalid_request", req.request_id));
  }
  auto get = [&form](absl::string_view name) -> std::string {
    for (const auto& [k, v] : form) {
      if (k == name) return v;
    }
    return "";
  };
  v1::IssueTokenRequest rpc;
  const std::string grant = get("grant_type");
  if (grant == "password") {
    rpc.set_grant_type(v1::PASSWORD);
    rpc.mutable_credentials()->mutable_username_secret()->set_username(get("username"));
    rpc.mutable_credentials()->mutable_username_secret()->set_secret(get("password"));
  } else if (grant == "refresh_token") {
    rpc.set_grant_type(v1::REFRESH_TOKEN);
    rpc.set_refresh_token(get("refresh_token"));
  } else {
    return respond(TokenError(
        400,
        grant.empty() ? std::string("grant_type is required (password or refresh_token)")
                      : "grant_type must be password or refresh_token",
        grant.empty() ? "invalid_request" : "unsupported_grant_type", req.request_id));
  }
  rpc.set_service(get("service"));
  rpc.set_client_id(get("client_id"));
  rpc.set_offline_token(get("access_type") == "offline");
  for (const auto& [k, v] : form) {
    if (k == "scope") rpc.add_scopes(v);
  }
  Issue(up, stub, rpc, req, /*oauth=*/true, std::move(respond));
}

}  // namespace

void RegisterTokenRoutes(Router& router, Upstreams& upstreams) {
  auto stub = std::shared_ptr<v1::TokenService::Stub>(v1::TokenService::NewStub(upstreams.auth()));
  for (const char* path : {"/v2/token", "/auth/token"}) {
    router.Add("GET", path, [&upstreams, stub](HttpRequest&& req, PathParams, HttpResponder respond) {
      HandleGet(upstreams, *stub, std::move(req), std::move(respond));
    });
    router.Add("POST", path,
               [&upstreams, stub](HttpRequest&& req, PathParams, HttpResponder respond) {
                 HandlePost(upstreams, *stub, std::move(req), std::move(respond));
               });
  }
}

}  // namespace portunus::gateway
