// portunusctl's command framework. Each area (users, teams, keys, registry, ...) lives in its
// own <area>_commands.cc and registers its commands from a RegisterXCommands(CommandRegistry&)
// function listed in main.cc. Commands talk to Portunus through the gateway's REST API
// (RestClient), or, for local administration (config, migrate, keys), to files and PostgreSQL.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace portunus::cli {

struct HttpResult {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string Header(absl::string_view name) const;
};

// A small libcurl client for the gateway. Not thread-safe; one per command run.
class RestClient {
 public:
  RestClient(std::string server, std::string user, std::string token);
  // `path` starts with "/" ("/api/v1/users?page=2"). kUnavailable when the server cannot be
  // reached; any HTTP status is returned as a result.
  absl::StatusOr<HttpResult> Do(absl::string_view method, absl::string_view path,
                                const std::string& body = "",
                                const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  // Do() with a JSON body, and the error body of a non-2xx answer turned into a Status
  // carrying the server's message (401 -> kUnauthenticated, 403 -> kPermissionDenied, ...).
  absl::StatusOr<nlohmann::json> Json(absl::string_view method, absl::string_view path,
                                      const nlohmann::json* body = nullptr);
  const std::string& server() const { return server_; }

 private:
  std::string server_, user_, token_;
};

// Everything a command may use.
struct CliContext {
  std::string server;       // --server / PORTUNUSCTL_SERVER, default http://127.0.0.1:8080
  std::string user;         // --user / PORTUNUSCTL_USER
  std::string token;        // --token / PORTUNUSCTL_TOKEN (application token or password)
  std::string format;       // --format: "text" (default) or "json"
  std::string config_path;  // --config / PORTUNUS_CONFIG, for local commands
  bool quiet = false;       // -q
  RestClient* rest = nullptr;
  bool json() const { return format == "json"; }
};

// A command receives its positional arguments and --flags it declared. Returns the exit code
// (0 success, 1 failure, 2 usage error).
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--name=value" or "--name value"; bools as "true"
  bool Has(const std::string& flag) const { return flags.count(flag) != 0; }
  std::string Get(const std::string& flag, const std::string& def = "") const {
    auto it = flags.find(flag);
    return it == flags.end() ? def : it->second;
  }
};
using CommandFn = std::function<int(CliContext&, const Args&)>;

struct Command {
  std::vector<std::string> path;  // {"users", "create"}
  std::string usage;              // "users create USERNAME --email E [--admin]"
  std::string help;               // one line
  std::vector<std::string> bool_flags;  // flags that take no value ("--admin")
  CommandFn run;
};

class CommandRegistry {
 public:
  void Add(Command command) { commands_.push_back(std::move(command)); }
  const std::vector<Command>& commands() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

// Prints `status` as "portunusctl: <message>" on stderr and returns 1.
int Fail(const absl::Status& status);
// Prints a JSON value (pretty) on stdout.
void PrintJson(const nlohmann::json& value);
// Prints rows as an aligned table with a header line.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
// A JSON scalar as display text ("" for null).
std::string Text(const nlohmann::json& value);

// Area registration functions (one per *_commands.cc).
void RegisterConfigCommands(CommandRegistry& registry);
void RegisterHealthCommands(CommandRegistry& registry);
void RegisterVulnDbCommands(CommandRegistry& registry);  // vulndb_commands.cc
void RegisterKeysCommands(CommandRegistry& registry);
// bootstrap, users, tokens, teams, members, namespaces, explain (identity_commands.cc).
void RegisterIdentityCommands(CommandRegistry& registry);
void RegisterRegistryCommands(CommandRegistry& registry);
void RegisterSyncCommands(CommandRegistry& registry);

}  // namespace portunus::cli
