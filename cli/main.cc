// portunusctl: the command-line client for Portunus. Global flags come first:
//   portunusctl [--server URL] [--user NAME] [--token SECRET] [--format text|json]
//               [--config FILE] [-q] COMMAND [SUBCOMMAND] [ARGS...]
// Each flag also reads PORTUNUSCTL_<FLAG> (PORTUNUSCTL_SERVER, PORTUNUSCTL_USER, ...).
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"

namespace portunus::cli {
namespace {

std::string Env(const char* name, const std::string& def = "") {
  const char* v = std::getenv(name);
  return v ? std::string(v) : def;
}

void PrintHelp(const CommandRegistry& registry) {
  std::printf(
      "usage: portunusctl [--server URL] [--user NAME] [--token SECRET] [--format text|json]\n"
      "                   [--config FILE] [-q] COMMAND ...\n\n"
      "Global flags (or PORTUNUSCTL_SERVER, PORTUNUSCTL_USER, PORTUNUSCTL_TOKEN,\n"
      "PORTUNUSCTL_FORMAT; --config or PORTUNUS_CONFIG for local commands).\n\n"
      "Commands:\n");
  for (const Command& c : registry.commands()) {
    std::printf("  %-58s %s\n", c.usage.c_str(), c.help.c_str());
  }
}

// Splits argv[i..] into positionals and flags for `command`.
bool ParseArgs(const Command& command, int argc, char** argv, int i, Args* args) {
  const std::set<std::string> bools(command.bool_flags.begin(), command.bool_flags.end());
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) args->positional.push_back(argv[i]);
      break;
    }
    if (absl::StartsWith(a, "--") || (a.size() == 2 && a[0] == '-' && a[1] != '-')) {
      std::string name = a, value = "true";
      const size_t eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      } else if (!bools.count(name)) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "portunusctl: %s needs a value\nusage: portunusctl %s\n",
                       name.c_str(), command.usage.c_str());
          return false;
        }
        value = argv[++i];
      }
      args->flags[name] = value;
    } else {
      args->positional.push_back(a);
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  CommandRegistry registry;
  RegisterConfigCommands(registry);
  RegisterHealthCommands(registry);
  RegisterVulnDbCommands(registry);
  RegisterKeysCommands(registry);
  RegisterIdentityCommands(registry);
  RegisterRegistryCommands(registry);
  RegisterSyncCommands(registry);

  CliContext ctx;
  ctx.server = Env("PORTUNUSCTL_SERVER", "http://127.0.0.1:8080");
  ctx.user = Env("PORTUNUSCTL_USER");
  ctx.token = Env("PORTUNUSCTL_TOKEN");
  ctx.format = Env("PORTUNUSCTL_FORMAT", "text");
  ctx.config_path = Env("PORTUNUS_CONFIG");
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    const size_t eq = a.find('=');
    std::string name = a.substr(0, eq);
    auto take = [&]() -> bool {
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        return true;
      }
      if (i + 1 >= argc) return false;
      value = argv[++i];
      return true;
    };
    if (name == "--server" || name == "--user" || name == "--token" || name == "--format" ||
        name == "--config") {
      if (!take()) {
        std::fprintf(stderr, "portunusctl: %s needs a value\n", name.c_str());
        return 2;
      }
      if (name == "--server") ctx.server = value;
      if (name == "--user") ctx.user = value;
      if (name == "--token") ctx.token = value;
      if (name == "--format") ctx.format = value;
      if (name == "--config") ctx.config_path = value;
    } else if (a == "-q" || a == "--quiet") {
      ctx.quiet = true;
    } else if (a == "-h" || a == "--help" || a == "help") {
      PrintHelp(registry);
      return 0;
    } else {
      break;
    }
  }
  if (ctx.format != "text" && ctx.format != "json") {
    std::fprintf(stderr, "portunusctl: --format must be text or json\n");
    return 2;
  }
  if (i >= argc) {
    PrintHelp(registry);
    return 2;
  }
  // The longest command path matching the words that follow.
  const Command* best = nullptr;
  for (const Command& c : registry.commands()) {
    if (static_cast<int>(c.path.size()) > argc - i) continue;
    bool match = true;
    for (size_t k = 0; k < c.path.size(); ++k) match = match && c.path[k] == argv[i + k];
    if (match && (best == nullptr || c.path.size() > best->path.size())) best = &c;
  }
  if (best == nullptr) {
    std::fprintf(stderr, "portunusctl: unknown command \"%s\" (see portunusctl --help)\n", argv[i]);
    return 2;
  }
  Args args;
  if (!ParseArgs(*best, argc, argv, i + static_cast<int>(best->path.size()), &args)) return 2;
  if (args.Has("--help") || args.Has("-h")) {
    std::printf("usage: portunusctl %s\n%s\n", best->usage.c_str(), best->help.c_str());
    return 0;
  }
  RestClient rest(ctx.server, ctx.user, ctx.token);
  ctx.rest = &rest;
  return best->run(ctx, args);
}

}  // namespace
}  // namespace portunus::cli

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = portunus::cli::Main(argc, argv);
  curl_global_cleanup();
  return rc;
}
