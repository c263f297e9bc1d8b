// portunusctl sync [--dry-run] [--force], sync status, events [...], events retry ID: the
// catalog's reconciliation with the registry and its event queue, through the gateway's REST API
// (admin credentials):
//   POST /api/v1/sync {"dry_run","force"} -> the pass (running), GET /api/v1/sync/runs/:id until
//   it is over; GET /api/v1/sync; GET /api/v1/events; POST /api/v1/events/:id/retry.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/command.h"

namespace portunus::cli {
namespace {

std::string Short(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(0, 19) : digest;
}

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() ? Text(*it) : "";
}

void PrintRun(const nlohmann::json& run) {
  const bool dry = run.value("dry_run", false);
  std::printf("sync #%lld%s: %s (%s, %s)\n", static_cast<long long>(Int(run, "id")),
              dry ? " (dry run)" : "", Str(run, "state").c_str(), Str(run, "trigger").c_str(),
              Str(run, "strategy").c_str());
  std::printf("  registry: %lld repositories, %lld tags\n",
              static_cast<long long>(Int(run, "repositories")), static_cast<long long>(Int(run, "tags")));
  std::printf("  %s %lld, updated %lld, deleted %lld tags (%lld repositories)\n",
              dry ? "would add" : "added", static_cast<long long>(Int(run, "added")),
              static_cast<long long>(Int(run, "updated")), static_cast<long long>(Int(run, "deleted")),
              static_cast<long long>(Int(run, "repositories_deleted")));
  const nlohmann::json brake = run.value("brake", nlohmann::json::object());
  if (brake.value("engaged", false)) {
    std::printf("  SAFETY BRAKE: %s\n", Str(brake, "reason").c_str());
  }
  if (!Str(run, "error").empty()) std::printf("  error: %s\n", Str(run, "error").c_str());
  for (const nlohmann::json& f : run.value("failures", nlohmann::json::array())) {
    std::printf("  failed: %s: %s\n", Str(f, "repository").empty() ? "(catalog)" : Str(f, "repository").c_str(),
                Str(f, "error").c_str());
  }
  std::vector<std::vector<std::string>> rows;
  for (const nlohmann::json& c : run.value("changes", nlohmann::json::array())) {
    std::string kind = Str(c, "kind");
    if (brake.value("engaged", false) && kind == "delete") kind = "delete (withheld)";
    rows.push_back({kind, Str(c, "repository"), Str(c, "tag").empty() ? "*" : Str(c, "tag"),
                    Short(Str(c, "old_digest")), Short(Str(c, "new_digest"))});
  }
  if (!rows.empty()) {
    std::printf("\n");
    PrintTable({"CHANGE", "REPOSITORY", "TAG", "OLD", "NEW"}, rows);
    if (run.value("changes_truncated", false)) std::printf("(more changes not listed)\n");
  }
}

int Sync(CliContext& ctx, const Args& args) {
  if (!args.positional.empty()) {
    std::fprintf(stderr, "usage: portunusctl sync [--dry-run] [--force] [--no-wait] [--timeout 30m]\n");
    return 2;
  }
  absl::Duration timeout = absl::Minutes(30);
  if (args.Has("--timeout") && !absl::ParseDuration(args.Get("--timeout"), &timeout)) {
    std::fprintf(stderr, "portunusctl: --timeout must be a duration such as 10m\n");
    return 2;
  }
  const nlohmann::json body = {{"dry_run", args.Has("--dry-run")}, {"force", args.Has("--force")}};
  absl::StatusOr<nlohmann::json> run = ctx.rest->Json("POST", "/api/v1/sync", &body);
  if (!run.ok()) return Fail(run.status());
  const int64_t id = Int(*run, "id");
  if (args.Has("--no-wait")) {
    if (ctx.json()) {
      PrintJson(*run);
    } else {
      std::printf("sync #%lld started\n", static_cast<long long>(id));
    }
    return 0;
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (Str(*run, "state") == "running") {
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "portunusctl: sync #%lld still running after %s (see `portunusctl sync status`)\n",
                   static_cast<long long>(id), absl::FormatDuration(timeout).c_str());
      return 1;
    }
    absl::SleepFor(absl::Milliseconds(500));
    run = ctx.rest->Json("GET", absl::StrCat("/api/v1/sync/runs/", id));
    if (!run.ok()) return Fail(run.status());
  }
  if (ctx.json()) {
    PrintJson(*run);
  } else {
    PrintRun(*run);
  }
  const std::string state = Str(*run, "state");
  return state == "succeeded" ? 0 : 1;
}

int SyncStatus(CliContext& ctx, const Args&) {
  absl::StatusOr<nlohmann::json> st = ctx.rest->Json("GET", "/api/v1/sync");
  if (!st.ok()) return Fail(st.status());
  if (ctx.json()) {
    PrintJson(*st);
    return 0;
  }
  std::printf("strategy: %s%s%s\n", Str(*st, "strategy").c_str(),
              Str(*st, "interval").empty() ? "" : ", every ", Str(*st, "interval").c_str());
  std::printf("background sync: %s%s\n", st->value("enabled", false) ? "enabled" : "disabled",
              st->value("running", false) ? " (a pass is running)" : "");
  if (st->value("brake_engaged", false)) {
    std::printf("SAFETY BRAKE ENGAGED: %s\n", Str(*st, "brake_reason").c_str());
  } else {
    std::printf("safety brake: off\n");
  }
  if (st->contains("last_run") && (*st)["last_run"].is_object()) {
    std::printf("\nlast pass:\n");
    PrintRun((*st)["last_run"]);
  }
  return st->value("brake_engaged", false) ? 1 : 0;
}

int Events(CliContext& ctx, const Args& args) {
  std::vector<std::string> query;
  if (args.Has("--status")) query.push_back("status=" + args.Get("--status"));
  if (args.Has("--repository")) query.push_back("repository=" + args.Get("--repository"));
  if (args.Has("--page")) query.push_back("page=" + args.Get("--page"));
  if (args.Has("--per-page")) query.push_back("per_page=" + args.Get("--per-page"));
  const std::string path =
      absl::StrCat("/api/v1/events", query.empty() ? "" : "?", absl::StrJoin(query, "&"));
  absl::StatusOr<nlohmann::json> events = ctx.rest->Json("GET", path);
  if (!events.ok()) return Fail(events.status());
  if (ctx.json()) {
    PrintJson(*events);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const nlohmann::json& e : *events) {
    std::string what = Str(e, "repository");
    if (!Str(e, "tag").empty()) absl::StrAppend(&what, ":", Str(e, "tag"));
    if (!Str(e, "digest").empty()) absl::StrAppend(&what, "@", Short(Str(e, "digest")));
    rows.push_back({Str(e, "id"), Str(e, "status"), Str(e, "action"), what, Str(e, "actor"),
                    Str(e, "attempts"), Str(e, "received_at"), Str(e, "last_error")});
  }
  PrintTable({"ID", "STATUS", "ACTION", "TARGET", "ACTOR", "ATTEMPTS", "RECEIVED", "ERROR"}, rows);
  return 0;
}

int EventsRetry(CliContext& ctx, const Args& args) {
  int64_t id = 0;
  if (args.positional.size() != 1 || !absl::SimpleAtoi(args.positional[0], &id) || id <= 0) {
    std::fprintf(stderr, "usage: portunusctl events retry ID\n");
    return 2;
  }
  absl::StatusOr<nlohmann::json> e = ctx.rest->Json("POST", absl::StrCat("/api/v1/events/", id, "/retry"));
  if (!e.ok()) return Fail(e.status());
  if (ctx.json()) {
    PrintJson(*e);
  } else if (!ctx.quiet) {
    std::printf("event %lld queued again\n", static_cast<long long>(id));
  }
  return 0;
}

}  // namespace

void RegisterSyncCommands(CommandRegistry& registry) {
  registry.Add({{"sync"},
                "sync [--dry-run] [--force] [--no-wait] [--timeout 30m]",
                "reconcile the catalog with the registry (--dry-run: only show the difference; "
                "--force: apply deletions beyond the safety brake)",
                {"--dry-run", "--force", "--no-wait"},
                Sync});
  registry.Add({{"sync", "status"},
                "sync status",
                "show the sync strategy, the safety brake and the last pass (exit 1 while braked)",
                {},
                SyncStatus});
  registry.Add({{"events"},
                "events [--status pending,failed,rejected,done] [--repository R] [--page N]",
                "list registry events that need attention (or those of the given statuses)",
                {},
                Events});
  registry.Add({{"events", "retry"},
                "events retry ID",
                "queue a failed registry event again",
                {},
                EventsRetry});
}

}  // namespace portunus::cli
