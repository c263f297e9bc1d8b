#include "services/gateway/router.h"

#include <cstdlib>
#include <map>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/log.h"

namespace portunus::gateway {

struct Router::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> param_names;
  RouteHandler handler;
  int id = -1;
};

struct Router::Node {
  absl::flat_hash_map<std::string, std::unique_ptr<Node>> literals;
  std::unique_ptr<Node> param;
  std::unique_ptr<Node> wildcard;  // matches the rest of the path; always a leaf
  std::map<std::string, int> methods;  // method -> route id; set on nodes that end a pattern
};

namespace {

bool ValidParamName(absl::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool ValidMethod(absl::string_view method) {
  if (method.empty()) return false;
  for (char c : method) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

struct Candidate {
  const void* node;
  std::vector<std::string> values;
};

}  // namespace

std::string PathParams::Get(absl::string_view name) const {
  for (const auto& [k, v] : values_) {
    if (k == name) return v;
  }
  return "";
}

bool PathParams::Has(absl::string_view name) const {
  for (const auto& [k, v] : values_) {
    if (k == name) return true;
  }
  return false;
}

Router::Router(RouterOptions options)
    : options_(std::move(options)), root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(absl::string_view method, absl::string_view pattern, RouteHandler handler) {
  absl::Status s = TryAdd(method, pattern, std::move(handler));
  if (!s.ok()) {
    LogError("invalid route", {{"method", method}, {"pattern", pattern}, {"error", s.message()}});
    std::abort();
  }
}

absl::Status Router::TryAdd(absl::string_view method, absl::string_view pattern,
                            RouteHandler handler) {
  if (!ValidMethod(method)) {
    return absl::InvalidArgumentError(absl::StrCat("method \"", method, "\" must be upper-case"));
  }
  if (!handler) return absl::InvalidArgumentError("route has no handler");
  if (pattern.empty() || pattern[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("pattern \"", pattern, "\" must start with /"));
  }
  std::vector<absl::string_view> segments = absl::StrSplit(pattern, '/', absl::SkipEmpty());
  auto route = std::make_unique<Route>();
  Node* node = root_.get();
  for (size_t i = 0; i < segments.size(); ++i) {
    const absl::string_view seg = segments[i];
    if (seg[0] == ':' || seg[0] == '*') {
      const absl::string_view name = seg.substr(1);
      if (!ValidParamName(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("pattern \"", pattern, "\": bad parameter name in \"", seg, "\""));
      }
      for (const std::string& existing : route->param_names) {
        if (existing == name) {
          return absl::InvalidArgumentError(
              absl::StrCat("pattern \"", pattern, "\": parameter ", name, " appears twice"));
        }
      }
      route->param_names.emplace_back(name);
      std::unique_ptr<Node>& child = seg[0] == ':' ? node->param : node->wildcard;
      if (seg[0] == '*' && i + 1 != segments.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("pattern \"", pattern, "\": a wildcard must be the last segment"));
      }
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    } else {
      std::unique_ptr<Node>& child = node->literals[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  const std::string m(method);
  if (node->methods.count(m) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("route ", method, " ", pattern, " conflicts with ",
                     routes_[static_cast<size_t>(node->methods[m])]->method, " ",
                     routes_[static_cast<size_t>(node->methods[m])]->pattern));
  }
  route->method = m;
  route->pattern = std::string(pattern);
  route->handler = std::move(handler);
  route->id = static_cast<int>(routes_.size());
  node->methods[m] = route->id;
  infos_.push_back(RouteInfo{route->method, route->pattern});
  routes_.push_back(std::move(route));
  return absl::OkStatus();
}

Router::Match Router::Find(absl::string_view method, absl::string_view path) const {
  Match match;
  std::vector<std::string> segments;
  for (absl::string_view raw : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    std::string decoded;
    if (!PercentDecode(raw, /*plus_is_space=*/false, &decoded)) {
      match.status = 400;
      return match;
    }
    segments.push_back(std::move(decoded));
  }

  // Every pattern matching the path, best first (literal > parameter > wildcard).
  struct Walker {
    const std::vector<std::string>& segments;
    std::vector<Candidate> candidates;
    std::vector<std::string> values;
    void Walk(const Node* node, size_t i) {
      if (i == segments.size()) {
        if (!node->methods.empty()) candidates.push_back(Candidate{node, values});
        return;
      }
      if (auto it = node->literals.find(segments[i]); it != node->literals.end()) {
        Walk(it->second.get(), i + 1);
      }
      if (node->param) {
        values.push_back(segments[i]);
        Walk(node->param.get(), i + 1);
        values.pop_back();
      }
      if (node->wildcard && !node->wildcard->methods.empty()) {
        std::vector<absl::string_view> rest(segments.begin() + static_cast<long>(i),
                                            segments.end());
        values.push_back(absl::StrJoin(rest, "/"));
        candidates.push_back(Candidate{node->wildcard.get(), values});
        values.pop_back();
      }
    }
  };
  Walker walker{segments, {}, {}};
  walker.Walk(root_.get(), 0);
  const std::vector<Candidate>& candidates = walker.candidates;
  if (candidates.empty()) return match;  // 404

  const std::string m(method);
  for (const Candidate& c : candidates) {
    const Node* node = static_cast<const Node*>(c.node);
    auto it = node->methods.find(m);
    if (it == node->methods.end() && m == "HEAD") it = node->methods.find("GET");
    if (it == node->methods.end()) continue;
    const Route& route = *routes_[static_cast<size_t>(it->second)];
    match.status = 0;
    match.handler = &route.handler;
    match.route_id = route.id;
    match.pattern = route.pattern;
    for (size_t i = 0; i < route.param_names.size() && i < c.values.size(); ++i) {
      match.params.Add(route.param_names[i], c.values[i]);
    }
    return match;
  }

  std::set<std::string> allowed{"OPTIONS"};
  for (const Candidate& c : candidates) {
    for (const auto& [name, id] : static_cast<const Node*>(c.node)->methods) {
      allowed.insert(name);
      if (name == "GET") allowed.insert("HEAD");
    }
  }
  const Node* best = static_cast<const Node*>(candidates.front().node);
  match.route_id = best->methods.begin()->second;
  match.pattern = routes_[static_cast<size_t>(match.route_id)]->pattern;
  match.allow = absl::StrJoin(allowed, ", ");
  match.status = m == "OPTIONS" ? 204 : 405;
  return match;
}

HttpResponse Router::NoRouteResponse(const Match& match, const HttpRequest& request) {
  switch (match.status) {
    case 204: {
      HttpResponse response(204);
      response.SetHeader("Allow", match.allow);
      return response;
    }
    case 405: {
      HttpResponse response = HttpJsonError(
          405, absl::StrCat("method ", request.method, " is not allowed on ", request.path),
          request.request_id);
      response.SetHeader("Allow", match.allow);
      return response;
    }
    case 400:
      return HttpJsonError(400, "malformed percent-encoding in the request path",
                           request.request_id);
    default:
      return HttpJsonError(404, absl::StrCat("not found: ", request.method, " ", request.path),
                           request.request_id);
  }
}

void Router::Dispatch(HttpRequest&& request, HttpResponder respond) const {
  Match match = Find(request.method, request.path);
  if (match.handler == nullptr) {
    respond(NoRouteResponse(match, request));
    return;
  }
  (*match.handler)(std::move(request), std::move(match.params), std::move(respond));
}

}  // namespace portunus::gateway
