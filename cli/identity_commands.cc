// portunusctl bootstrap|users|tokens|teams|members|namespaces|explain: the identity model
// through the gateway's REST API (Portus API v1, see docs/openapi.json). Every command is one or
// a few REST calls; the server decides what is allowed and says why when it is not. Text output
// is a table or a short sentence; --format json prints the server's JSON.
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "services/common/http_server.h"

namespace portunus::cli {
namespace {

using Json = nlohmann::json;

int Usage(const std::string& usage) {
  std::fprintf(stderr, "usage: portunusctl %s\n", usage.c_str());
  return 2;
}

// One path segment, percent-encoded (names and ids never contain '/', but be safe).
std::string Seg(const std::string& s) { return PercentEncode(s); }

// Reads a secret: --<flag> VALUE, --<flag>-stdin (first line of stdin), or a prompt without
// echo on a terminal (asked twice when `confirm`). Empty optional: none given and no terminal.
absl::StatusOr<std::string> ReadSecret(const Args& args, const std::string& flag,
                                       const std::string& prompt, bool confirm, bool required) {
  if (args.Has("--" + flag)) return args.Get("--" + flag);
  if (args.Has("--" + flag + "-stdin")) {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!required) return std::string();
  if (!isatty(STDIN_FILENO)) {
    return absl::InvalidArgumentError(
        absl::StrCat("no ", flag, " given: use --", flag, " or --", flag, "-stdin"));
  }
  auto ask = [](const std::string& text) {
    std::fprintf(stderr, "%s", text.c_str());
    std::fflush(stderr);
    termios old{};
    const bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
    return line;
  };
  std::string first = ask(prompt + ": ");
  if (confirm && ask("Repeat " + prompt + ": ") != first) {
    return absl::InvalidArgumentError("the two entries differ");
  }
  return first;
}

// "true"/"false" (also yes/no, 1/0, on/off) of a flag's value.
absl::StatusOr<bool> BoolFlag(const Args& args, const std::string& flag) {
  const std::string v = absl::AsciiStrToLower(args.Get(flag));
  if (v == "true" || v == "yes" || v == "1" || v == "on") return true;
  if (v == "false" || v == "no" || v == "0" || v == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat(flag, " must be true or false"));
}

// The query for list commands: everything unless --page/--per-page ask for one page.
std::string ListQuery(const Args& args) {
  std::vector<std::string> q;
  if (args.Has("--page") || args.Has("--per-page")) {
    if (args.Has("--page")) q.push_back("page=" + PercentEncode(args.Get("--page")));
    if (args.Has("--per-page")) q.push_back("per_page=" + PercentEncode(args.Get("--per-page")));
  } else {
    q.push_back("all=true");
  }
  if (args.Has("--sort")) q.push_back("sort_attr=" + PercentEncode(args.Get("--sort")));
  if (args.Has("--desc")) q.push_back("sort_order=desc");
  return "?" + absl::StrJoin(q, "&");
}

const std::vector<std::string> kListFlags = {"--desc"};
const char kListUsage[] = "[--page N] [--per-page N] [--sort ATTR] [--desc]";

std::string YesNo(const Json& v) { return v.is_boolean() && v.get<bool>() ? "yes" : "no"; }

// Runs a call and prints its answer: JSON as is, or `text(answer)` for humans.
template <class Print>
int Run(CliContext& ctx, const std::string& method, const std::string& path, const Json* body,
        Print text) {
  absl::StatusOr<Json> r = ctx.rest->Json(method, path, body);
  if (!r.ok()) return Fail(r.status());
  if (ctx.json()) {
    PrintJson(r->is_null() ? Json::object() : *r);
  } else if (!ctx.quiet) {
    text(*r);
  }
  return 0;
}

// ---- printing -------------------------------------------------------------------------------

void PrintUsers(const Json& users) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& u : users) {
    rows.push_back({Text(u["id"]), Text(u["username"]), Text(u["email"]), YesNo(u["admin"]),
                    YesNo(u["bot"]), YesNo(u["enabled"]), Text(u["display_name"])});
  }
  PrintTable({"ID", "USERNAME", "EMAIL", "ADMIN", "BOT", "ENABLED", "DISPLAY NAME"}, rows);
}

void PrintTeams(const Json& teams) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& t : teams) {
    rows.push_back({Text(t["id"]), Text(t["name"]), Text(t["role"]), Text(t["users_count"]),
                    Text(t["namespaces_count"]), Text(t["description"])});
  }
  PrintTable({"ID", "NAME", "YOUR ROLE", "MEMBERS", "NAMESPACES", "DESCRIPTION"}, rows);
}

void PrintMembers(const Json& members) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& m : members) {
    rows.push_back({Text(m["id"]), Text(m["username"]), Text(m["role"]), YesNo(m["admin"]),
                    YesNo(m["bot"])});
  }
  PrintTable({"ID", "USER", "ROLE", "ADMIN", "BOT"}, rows);
}

void PrintNamespaces(const Json& namespaces) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& n : namespaces) {
    std::string kind = n.value("global", false) ? "global" : n.value("personal", false) ? "personal" : "team";
    rows.push_back({Text(n["id"]), Text(n["name"]), Text(n["team"]), Text(n["visibility"]), kind,
                    Text(n["description"])});
  }
  PrintTable({"ID", "NAME", "TEAM", "VISIBILITY", "KIND", "DESCRIPTION"}, rows);
}

void PrintTokens(const Json& tokens) {
  std::vector<std::vector<std::string>> rows;
  for (const Json& t : tokens) rows.push_back({Text(t["id"]), Text(t["application"]), Text(t["created_at"])});
  PrintTable({"ID", "APPLICATION", "CREATED"}, rows);
}

void PrintCreatedToken(const Json& t, const std::string& owner) {
  std::printf("Application token \"%s\" (id %s) for %s; shown only now, keep it safe:\n  %s\n",
              Text(t["application"]).c_str(), Text(t["id"]).c_str(), owner.c_str(),
              Text(t["plain_token"]).c_str());
}

// ---- commands -------------------------------------------------------------------------------

void RegisterBootstrap(CommandRegistry& r) {
  const std::string usage =
      "bootstrap USERNAME --email EMAIL [--password P | --password-stdin]";
  r.Add({{"bootstrap"}, usage,
         "Creates the first administrator (only while no account exists) and its token",
         {"--password-stdin"},
         [usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1 || !args.Has("--email")) return Usage(usage);
           absl::StatusOr<std::string> password = ReadSecret(args, "password", "Password", true, true);
           if (!password.ok()) return Fail(password.status());
           const std::string username = args.positional[0];
           Json body = {{"user",
                         {{"username", username}, {"email", args.Get("--email")}, {"password", *password}}}};
           return Run(ctx, "POST", "/api/v1/users/bootstrap", &body, [&](const Json& t) {
             std::printf("Created the administrator %s.\n", username.c_str());
             PrintCreatedToken(t, username);
             std::printf("Use it with portunusctl:\n  export PORTUNUSCTL_SERVER=%s PORTUNUSCTL_USER=%s "
                         "PORTUNUSCTL_TOKEN=%s\n",
                         ctx.server.c_str(), username.c_str(), Text(t["plain_token"]).c_str());
           });
         }});
}

void RegisterUsers(CommandRegistry& r) {
  r.Add({{"users", "list"}, std::string("users list ") + kListUsage, "Lists users (admins)", kListFlags,
         [](CliContext& ctx, const Args& args) {
           return Run(ctx, "GET", "/api/v1/users" + ListQuery(args), nullptr, PrintUsers);
         }});
  r.Add({{"users", "show"}, "users show USER", "Shows a user (yourself, or anyone for admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("users show USER");
           return Run(ctx, "GET", "/api/v1/users/" + Seg(args.positional[0]), nullptr,
                      [](const Json& u) { PrintUsers(Json::array({u})); });
         }});
  const std::string create_usage =
      "users create USERNAME --email EMAIL [--password P | --password-stdin] [--admin] "
      "[--display-name NAME] | users create NAME --bot";
  r.Add({{"users", "create"}, create_usage, "Creates a user or, with --bot, a bot (admins)",
         {"--admin", "--bot", "--password-stdin"},
         [create_usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage(create_usage);
           const bool bot = args.Has("--bot");
           Json user = {{"username", args.positional[0]}};
           if (args.Has("--email")) user["email"] = args.Get("--email");
           if (args.Has("--display-name")) user["display_name"] = args.Get("--display-name");
           if (args.Has("--admin")) user["admin"] = true;
           if (bot) {
             user["bot"] = true;
           } else {
             if (!args.Has("--email")) return Usage(create_usage);
             absl::StatusOr<std::string> pw = ReadSecret(args, "password", "Password", true, true);
             if (!pw.ok()) return Fail(pw.status());
             user["password"] = *pw;
           }
           Json body = {{"user", user}};
           return Run(ctx, "POST", "/api/v1/users", &body, [](const Json& u) {
             std::printf("Created %s %s (id %s).\n", YesNo(u["bot"]) == "yes" ? "bot" : "user",
                         Text(u["username"]).c_str(), Text(u["id"]).c_str());
           });
         }});
  const std::string update_usage =
      "users update USER [--email E] [--display-name N] [--admin true|false] "
      "[--enabled true|false] [--password P | --password-stdin] [--current-password P]";
  r.Add({{"users", "update"}, update_usage,
         "Changes a user (yourself: email, name, password, disable; admins: anyone, admin, enable)",
         {"--password-stdin"},
         [update_usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage(update_usage);
           Json user = Json::object();
           if (args.Has("--email")) user["email"] = args.Get("--email");
           if (args.Has("--display-name")) user["display_name"] = args.Get("--display-name");
           for (const char* flag : {"--admin", "--enabled"}) {
             if (!args.Has(flag)) continue;
             absl::StatusOr<bool> b = BoolFlag(args, flag);
             if (!b.ok()) return Fail(b.status());
             user[std::string(flag + 2)] = *b;
           }
           absl::StatusOr<std::string> pw = ReadSecret(args, "password", "New password", true, false);
           if (!pw.ok()) return Fail(pw.status());
           if (!pw->empty()) user["password"] = *pw;
           if (args.Has("--current-password")) user["current_password"] = args.Get("--current-password");
           if (user.empty()) return Usage(update_usage);
           Json body = {{"user", user}};
           return Run(ctx, "PUT", "/api/v1/users/" + Seg(args.positional[0]), &body,
                      [](const Json& u) { PrintUsers(Json::array({u})); });
         }});
  r.Add({{"users", "delete"}, "users delete USER", "Deletes a user and their personal namespace (admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("users delete USER");
           return Run(ctx, "DELETE", "/api/v1/users/" + Seg(args.positional[0]), nullptr, [&](const Json&) {
             std::printf("Deleted user %s.\n", args.positional[0].c_str());
           });
         }});
}

void RegisterTokens(CommandRegistry& r) {
  // The account the tokens belong to: --for USER, else the signed-in user.
  auto owner = [](const CliContext& ctx, const Args& args) {
    return args.Has("--for") ? args.Get("--for") : ctx.user;
  };
  r.Add({{"tokens", "list"}, "tokens list [--for USER]",
         "Lists application tokens (yours; admins: a bot's with --for)", {},
         [owner](CliContext& ctx, const Args& args) {
           const std::string who = owner(ctx, args);
           if (who.empty()) return Fail(absl::InvalidArgumentError("whose tokens? use --user or --for USER"));
           return Run(ctx, "GET", "/api/v1/users/" + Seg(who) + "/application_tokens", nullptr, PrintTokens);
         }});
  r.Add({{"tokens", "create"}, "tokens create APPLICATION [--for USER]",
         "Creates an application token and prints it once", {},
         [owner](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("tokens create APPLICATION [--for USER]");
           const std::string who = owner(ctx, args);
           if (who.empty()) return Fail(absl::InvalidArgumentError("whose token? use --user or --for USER"));
           Json body = {{"application", args.positional[0]}};
           return Run(ctx, "POST", "/api/v1/users/" + Seg(who) + "/application_tokens", &body,
                      [who](const Json& t) { PrintCreatedToken(t, who); });
         }});
  r.Add({{"tokens", "revoke"}, "tokens revoke ID", "Revokes an application token", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("tokens revoke ID");
           return Run(ctx, "DELETE", "/api/v1/users/application_tokens/" + Seg(args.positional[0]),
                      nullptr, [&](const Json&) {
                        std::printf("Revoked application token %s.\n", args.positional[0].c_str());
                      });
         }});
}

void RegisterTeams(CommandRegistry& r) {
  r.Add({{"teams", "list"}, std::string("teams list ") + kListUsage,
         "Lists the teams you belong to (admins: all)", kListFlags,
         [](CliContext& ctx, const Args& args) {
           return Run(ctx, "GET", "/api/v1/teams" + ListQuery(args), nullptr, PrintTeams);
         }});
  r.Add({{"teams", "show"}, "teams show TEAM", "Shows a team", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("teams show TEAM");
           return Run(ctx, "GET", "/api/v1/teams/" + Seg(args.positional[0]), nullptr,
                      [](const Json& t) { PrintTeams(Json::array({t})); });
         }});
  r.Add({{"teams", "create"}, "teams create NAME [--description TEXT]",
         "Creates a team owned by you", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("teams create NAME [--description TEXT]");
           Json body = {{"name", args.positional[0]}};
           if (args.Has("--description")) body["description"] = args.Get("--description");
           return Run(ctx, "POST", "/api/v1/teams", &body, [](const Json& t) {
             std::printf("Created team %s (id %s).\n", Text(t["name"]).c_str(), Text(t["id"]).c_str());
           });
         }});
  r.Add({{"teams", "update"}, "teams update TEAM [--name NEW] [--description TEXT]",
         "Renames a team or changes its description (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1 || (!args.Has("--name") && !args.Has("--description"))) {
             return Usage("teams update TEAM [--name NEW] [--description TEXT]");
           }
           Json body = Json::object();
           if (args.Has("--name")) body["name"] = args.Get("--name");
           if (args.Has("--description")) body["description"] = args.Get("--description");
           return Run(ctx, "PUT", "/api/v1/teams/" + Seg(args.positional[0]), &body,
                      [](const Json& t) { PrintTeams(Json::array({t})); });
         }});
  r.Add({{"teams", "delete"}, "teams delete TEAM", "Deletes a team that owns no namespace (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("teams delete TEAM");
           return Run(ctx, "DELETE", "/api/v1/teams/" + Seg(args.positional[0]), nullptr, [&](const Json&) {
             std::printf("Deleted team %s.\n", args.positional[0].c_str());
           });
         }});
  r.Add({{"teams", "namespaces"}, std::string("teams namespaces TEAM ") + kListUsage,
         "Lists the namespaces a team owns", kListFlags,
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("teams namespaces TEAM");
           return Run(ctx, "GET", "/api/v1/teams/" + Seg(args.positional[0]) + "/namespaces" + ListQuery(args),
                      nullptr, PrintNamespaces);
         }});
}

void RegisterMembers(CommandRegistry& r) {
  r.Add({{"members", "list"}, std::string("members list TEAM ") + kListUsage,
         "Lists a team's members and their roles", kListFlags,
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("members list TEAM");
           return Run(ctx, "GET", "/api/v1/teams/" + Seg(args.positional[0]) + "/members" + ListQuery(args),
                      nullptr, PrintMembers);
         }});
  r.Add({{"members", "add"}, "members add TEAM USER --role viewer|contributor|owner",
         "Adds a user or bot to a team (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 2 || !args.Has("--role")) {
             return Usage("members add TEAM USER --role viewer|contributor|owner");
           }
           Json body = {{"user", args.positional[1]}, {"role", args.Get("--role")}};
           return Run(ctx, "POST", "/api/v1/teams/" + Seg(args.positional[0]) + "/members", &body,
                      [](const Json& m) { PrintMembers(Json::array({m})); });
         }});
  r.Add({{"members", "set"}, "members set TEAM USER --role viewer|contributor|owner",
         "Changes a member's role (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 2 || !args.Has("--role")) {
             return Usage("members set TEAM USER --role viewer|contributor|owner");
           }
           Json body = {{"role", args.Get("--role")}};
           return Run(ctx, "PUT",
                      "/api/v1/teams/" + Seg(args.positional[0]) + "/members/" + Seg(args.positional[1]),
                      &body, [](const Json& m) { PrintMembers(Json::array({m})); });
         }});
  r.Add({{"members", "remove"}, "members remove TEAM USER", "Removes a member (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 2) return Usage("members remove TEAM USER");
           return Run(ctx, "DELETE",
                      "/api/v1/teams/" + Seg(args.positional[0]) + "/members/" + Seg(args.positional[1]),
                      nullptr, [&](const Json&) {
                        std::printf("Removed %s from team %s.\n", args.positional[1].c_str(),
                                    args.positional[0].c_str());
                      });
         }});
}

void RegisterNamespaces(CommandRegistry& r) {
  r.Add({{"namespaces", "list"}, std::string("namespaces list ") + kListUsage,
         "Lists the namespaces you can see", kListFlags,
         [](CliContext& ctx, const Args& args) {
           return Run(ctx, "GET", "/api/v1/namespaces" + ListQuery(args), nullptr, PrintNamespaces);
         }});
  r.Add({{"namespaces", "show"}, "namespaces show NAMESPACE", "Shows a namespace and what you may do in it", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("namespaces show NAMESPACE");
           return Run(ctx, "GET", "/api/v1/namespaces/" + Seg(args.positional[0]), nullptr, [](const Json& n) {
             PrintNamespaces(Json::array({n}));
             const Json& p = n["permissions"];
             if (p.is_object()) {
               std::printf("you may: pull %s, push %s, delete %s, manage %s\n", YesNo(p["pull"]).c_str(),
                           YesNo(p["push"]).c_str(), YesNo(p["delete"]).c_str(), YesNo(p["manage"]).c_str());
             }
           });
         }});
  const std::string create_usage =
      "namespaces create NAME --team TEAM [--description TEXT] [--visibility private|protected|public]";
  r.Add({{"namespaces", "create"}, create_usage, "Creates a namespace owned by a team", {},
         [create_usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1 || !args.Has("--team")) return Usage(create_usage);
           Json body = {{"name", args.positional[0]}, {"team", args.Get("--team")}};
           if (args.Has("--description")) body["description"] = args.Get("--description");
           if (args.Has("--visibility")) body["visibility"] = args.Get("--visibility");
           return Run(ctx, "POST", "/api/v1/namespaces", &body, [](const Json& n) {
             std::printf("Created namespace %s (id %s, %s, team %s).\n", Text(n["name"]).c_str(),
                         Text(n["id"]).c_str(), Text(n["visibility"]).c_str(), Text(n["team"]).c_str());
           });
         }});
  const std::string update_usage =
      "namespaces update NAMESPACE [--team TEAM] [--description TEXT] "
      "[--visibility private|protected|public]";
  r.Add({{"namespaces", "update"}, update_usage,
         "Moves a namespace to another team, or changes its description or visibility", {},
         [update_usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage(update_usage);
           Json ns = Json::object();
           for (const char* flag : {"--team", "--description", "--visibility"}) {
             if (args.Has(flag)) ns[std::string(flag + 2)] = args.Get(flag);
           }
           if (ns.empty()) return Usage(update_usage);
           Json body = {{"namespace", ns}};
           return Run(ctx, "PUT", "/api/v1/namespaces/" + Seg(args.positional[0]), &body,
                      [](const Json& n) { PrintNamespaces(Json::array({n})); });
         }});
  r.Add({{"namespaces", "delete"}, "namespaces delete NAMESPACE", "Deletes a namespace (owners, admins)", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("namespaces delete NAMESPACE");
           return Run(ctx, "DELETE", "/api/v1/namespaces/" + Seg(args.positional[0]), nullptr, [&](const Json&) {
             std::printf("Deleted namespace %s.\n", args.positional[0].c_str());
           });
         }});
  r.Add({{"namespaces", "validate"}, "namespaces validate NAME",
         "Checks whether NAME may be used for a new namespace", {},
         [](CliContext& ctx, const Args& args) {
           if (args.positional.size() != 1) return Usage("namespaces validate NAME");
           absl::StatusOr<Json> v = ctx.rest->Json(
               "GET", "/api/v1/namespaces/validate?name=" + PercentEncode(args.positional[0]));
           if (!v.ok()) return Fail(v.status());
           if (ctx.json()) {
             PrintJson(*v);
           } else if (v->value("valid", false)) {
             std::printf("%s is a valid new namespace name.\n", args.positional[0].c_str());
           } else {
             std::vector<std::string> messages;
             for (const Json& m : (*v)["messages"]["name"]) messages.push_back(Text(m));
             std::printf("%s cannot be used: %s\n", args.positional[0].c_str(),
                         absl::StrJoin(messages, "; ").c_str());
           }
           return v->value("valid", false) ? 0 : 1;
         }});
}

void RegisterExplain(CommandRegistry& r) {
  const std::string usage = "explain USER SCOPE [SCOPE...]";
  r.Add({{"explain"}, usage,
         "What USER (- for anonymous) would be granted for each scope, and why not (admins)", {},
         [usage](CliContext& ctx, const Args& args) {
           if (args.positional.size() < 2) return Usage(usage);
           const std::string account = args.positional[0] == "-" ? "" : args.positional[0];
           std::string path = "/api/v1/explain?account=" + PercentEncode(account);
           for (size_t i = 1; i < args.positional.size(); ++i) {
             absl::StrAppend(&path, "&scope=", PercentEncode(args.positional[i]));
           }
           return Run(ctx, "GET", path, nullptr, [&](const Json& e) {
             const std::string who = account.empty() ? "anonymous" : account;
             for (const Json& d : e["decisions"]) {
               const Json& req = d["requested"];
               std::vector<std::string> granted;
               for (const Json& g : d["granted"]) granted.push_back(Text(g));
               std::printf("%s:%s:%s\n", Text(req["type"]).c_str(), Text(req["name"]).c_str(),
                           absl::StrJoin(req["actions"].get<std::vector<std::string>>(), ",").c_str());
               std::printf("  granted to %s: %s\n", who.c_str(),
                           granted.empty() ? "nothing" : absl::StrJoin(granted, ", ").c_str());
               for (const Json& deny : d["denied"]) {
                 std::printf("  denied %s: %s\n", Text(deny["action"]).c_str(), Text(deny["reason"]).c_str());
               }
             }
           });
         }});
}

}  // namespace

void RegisterIdentityCommands(CommandRegistry& registry) {
  RegisterBootstrap(registry);
  RegisterUsers(registry);
  RegisterTokens(registry);
  RegisterTeams(registry);
  RegisterMembers(registry);
  RegisterNamespaces(registry);
  RegisterExplain(registry);
}

}  // namespace portunus::cli
