// The gateway's route table: (HTTP method, path pattern) -> handler.
//
// Patterns are made of '/'-separated segments:
//   literal     "users"          matches exactly that segment
//   parameter   ":id"            matches any one segment; the decoded value is params.Get("id")
//   wildcard    "*name"          last segment only: the rest of the path (one or more segments,
//                                joined by '/'), for names that contain slashes
// e.g. "/api/v1/users/:id/application_tokens". Segments of the request path are
// percent-decoded one by one, so "%2F" inside a segment stays inside it. Empty segments are
// ignored ("/a//b/" is "/a/b"). Literal segments win over parameters, which win over
// wildcards; when the best path match lacks the method, the next one is tried.
//
// Unknown path: 404 JSON. Known path, other method: 405 JSON with `Allow`. HEAD is served by
// the GET handler when no HEAD route exists (the server drops the body); OPTIONS on a known path
// answers 204 with `Allow`. A malformed escape in the path: 400.
//
// Routes are added at startup (not thread-safe); matching afterwards is read-only and
// thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/http_server.h"

namespace portunus::gateway {

// The decoded path parameters of a matched route, in pattern order.
class PathParams {
 public:
  // The value of parameter `name` (without ':' or '*'), or "" when the route has none.
  std::string Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return values_; }
  void Add(std::string name, std::string value) {
    values_.emplace_back(std::move(name), std::move(value));
  }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

// Handles one matched request; same contract as HttpHandler (runs on an io thread, never
// blocks, calls `respond` exactly once from any thread).
using RouteHandler =
    std::function<void(HttpRequest&& request, PathParams params, HttpResponder respond)>;

struct RouterOptions {
  // Public base URL of the gateway ("https://portus.example.com"), used for absolute links
  // (paging `Link` headers). Empty: built from the request's scheme and Host header.
  std::string external_url;
};

class Router {
 public:
  explicit Router(RouterOptions options = {});
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers a route. A malformed pattern or a duplicate (method, pattern) is a programming
  // error: Add logs it and aborts at startup. TryAdd returns it instead (kInvalidArgument,
  // kAlreadyExists).
  void Add(absl::string_view method, absl::string_view pattern, RouteHandler handler);
  absl::Status TryAdd(absl::string_view method, absl::string_view pattern, RouteHandler handler);

  // The outcome of looking up a request.
  struct Match {
    // 0: matched (handler set); 404: no such path; 405: path known, method not (allow set);
    // 204: OPTIONS on a known path (allow set); 400: malformed percent-encoding.
    int status = 404;
    const RouteHandler* handler = nullptr;
    // Index in routes() of the matched route; for 405/204 of a route with the same pattern;
    // -1 when no pattern matched.
    int route_id = -1;
    std::string pattern;  // routes()[route_id].pattern, or ""
    PathParams params;
    std::string allow;  // "GET, HEAD, POST" for 405 and 204
  };
  Match Find(absl::string_view method, absl::string_view path) const;

  // Finds and runs the route, or answers 404/405/204/400 itself.
  void Dispatch(HttpRequest&& request, HttpResponder respond) const;
  // Answers a request whose Match has no handler (status 404, 405, 204 or 400).
  static HttpResponse NoRouteResponse(const Match& match, const HttpRequest& request);

  struct RouteInfo {
    std::string method;
    std::string pattern;
  };
  const std::vector<RouteInfo>& routes() const { return infos_; }
  const RouterOptions& options() const { return options_; }
  const std::string& external_url() const { return options_.external_url; }

 private:
  struct Node;
  struct Route;

  const RouterOptions options_;
  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<RouteInfo> infos_;
};

}  // namespace portunus::gateway
