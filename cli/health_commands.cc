// portunusctl health: whether Portunus is healthy, from the gateway's GET /api/v1/health (the
// health service's last check results), like Portus's bin/health.rb. Exit code 0 when every
// (selected) component succeeds, 1 otherwise, also when Portunus cannot be reached, so scripts
// and container health checks can use it directly.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"

namespace portunus::cli {
namespace {

constexpr char kUsage[] = "health [-q] [-c COMPONENT]";

int Health(CliContext& ctx, const Args& args) {
  const bool quiet = ctx.quiet || args.Has("-q") || args.Has("--quiet");
  std::string component = args.Get("-c", args.Get("--component"));
  if (!args.positional.empty()) {
    std::fprintf(stderr, "portunusctl: unexpected argument \"%s\"\nusage: portunusctl %s\n",
                 args.positional[0].c_str(), kUsage);
    return 2;
  }
  const auto fail = [quiet](const std::string& message) {
    if (!quiet) std::fprintf(stderr, "portunusctl: %s\n", message.c_str());
    return 1;
  };

  absl::StatusOr<HttpResult> r = ctx.rest->Do("GET", "/api/v1/health");
  if (!r.ok()) return fail(std::string(r.status().message()));
  // 200: healthy, 503: unhealthy; both carry the components. Anything else is not an answer.
  // Keep the server's order of components (ordered_json).
  const nlohmann::ordered_json body =
      nlohmann::ordered_json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  if ((r->status != 200 && r->status != 503) || body.is_discarded() || !body.is_object()) {
    std::string message =
        absl::StrCat("GET ", ctx.rest->server(), "/api/v1/health answered HTTP ", r->status);
    if (body.is_object() && body.contains("message") && body["message"].is_string()) {
      absl::StrAppend(&message, ": ", body["message"].get<std::string>());
    }
    return fail(message);
  }

  nlohmann::ordered_json selected = nlohmann::ordered_json::object();
  if (component.empty()) {
    selected = body;
  } else if (body.contains(component)) {
    selected[component] = body[component];
  } else {
    std::vector<std::string> names;
    for (const auto& [name, value] : body.items()) names.push_back(name);
    return fail(absl::StrCat("component \"", component,
                             "\" is not reported (reported: ", absl::StrJoin(names, ", "), ")"));
  }

  bool healthy = true;
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, value] : selected.items()) {
    const bool success = value.is_object() && value.value("success", false);
    const std::string msg = value.is_object() ? value.value("msg", "") : "";
    healthy = healthy && success;
    rows.push_back({name, success ? "ok" : "FAILED", msg});
  }
  if (!quiet) {
    if (ctx.json()) {
      std::printf("%s\n",
                  selected.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      PrintTable({"COMPONENT", "STATUS", "MESSAGE"}, rows);
    }
  }
  return healthy ? 0 : 1;
}

}  // namespace

void RegisterHealthCommands(CommandRegistry& registry) {
  registry.Add({{"health"},
                kUsage,
                "Show whether Portunus's components are healthy (exit code 0 when healthy, 1 "
                "otherwise; -q: exit code only; -c: one component)",
                {"-q", "--quiet"},
                Health});
}

}  // namespace portunus::cli
