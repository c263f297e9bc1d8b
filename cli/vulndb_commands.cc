// portunusctl vulndb import|status: local administration of the scanner's vulnerability data.
// Both talk to PostgreSQL with the same configuration file as the services (--config): an
// import reads a local file, directory or zip (or downloads a URL) here, with a progress bar,
// stores it, and queues a re-match of every stored image inventory for the scanner service.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "services/common/clock.h"
#include "services/common/common_config.h"
#include "services/common/config.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/scanner/feed_fetcher.h"
#include "services/scanner/pg_advisory_store.h"
#include "services/scanner/pg_scan_store.h"
#include "services/scanner/scanner_api.h"
#include "services/scanner/scanner_module.h"

namespace portunus::cli {
namespace {

struct VulnDbEnv {
  CommonConfig common;
  scanner::ScannerConfig scanner;
};

bool LoadConfig(const CliContext& ctx, VulnDbEnv* env) {
  ConfigBinder binder;
  BindCommonConfig(&binder, &env->common);
  scanner::BindScannerConfig(&binder, &env->scanner);
  absl::Status s = binder.Load(ctx.config_path);
  if (!s.ok()) {
    std::fprintf(stderr, "portunusctl: config: %s\n", std::string(s.message()).c_str());
    return false;
  }
  InitLogging("portunusctl", LogLevel::kWarn, false);
  return true;
}

std::string Rfc3339(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string Megabytes(int64_t bytes) { return absl::StrFormat("%.1f MB", static_cast<double>(bytes) / 1e6); }

// A one-line progress bar on stderr, redrawn at most ten times a second.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() { Finish(); }

  void Update(const scanner::ImportProgress& p) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (now - last_ < absl::Milliseconds(100) && p.phase == phase_) return;
    last_ = now;
    phase_ = p.phase;
    std::string line = absl::StrFormat("%-11s ", p.phase);
    if (p.total > 0) {
      const double frac = std::min(1.0, static_cast<double>(p.done) / static_cast<double>(p.total));
      const int filled = static_cast<int>(frac * 30);
      absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(30 - filled, '.'), "] ",
                      absl::StrFormat("%3d%%", static_cast<int>(frac * 100)));
      if (p.phase != "storing") absl::StrAppend(&line, " ", Megabytes(p.done), " / ", Megabytes(p.total));
    } else if (p.done > 0) {
      absl::StrAppend(&line, Megabytes(p.done));
    }
    if (p.documents > 0) absl::StrAppend(&line, "  ", p.documents, " documents");
    std::fprintf(stderr, "\r%-78s", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void Finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  const bool enabled_;
  absl::Time last_ = absl::InfinitePast();
  std::string phase_;
  bool drawn_ = false;
};

int Import(CliContext& ctx, const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: portunusctl vulndb import PATH|URL [--format auto|osv|debian|alpine] "
                         "[--source NAME] [--force]\n");
    return 2;
  }
  scanner::ImportRequest req;
  req.location = args.positional[0];
  if (!scanner::ParseFeedFormat(args.Get("--format", "auto"), &req.format)) {
    std::fprintf(stderr, "portunusctl: --format must be auto, osv, debian or alpine\n");
    return 2;
  }
  req.source_name = args.Get("--source");
  req.force = args.Has("--force");

  VulnDbEnv env;
  if (!LoadConfig(ctx, &env)) return 1;
  PgPool pool({env.common.db.ConnectionString(), 2});
  scanner::PgAdvisoryStore advisories(pool);
  scanner::PgScanStore scans(pool);
  scanner::CurlFeedFetcher::Options fo;
  fo.max_size = env.scanner.max_download_size;
  fo.timeout = env.scanner.download_timeout;
  scanner::CurlFeedFetcher fetcher(fo);
  scanner::VulnDbImporter importer({env.scanner.temp_dir + "/feeds"}, advisories, &fetcher, RealClock::Get());
  scanner::ScannerApi api({scanner::ScannerVersion()}, scans, advisories, &importer);

  ProgressBar bar(!ctx.quiet && !ctx.json() && isatty(STDERR_FILENO));
  absl::StatusOr<scanner::ImportOutcome> out =
      api.Import(req, [&bar](const scanner::ImportProgress& p) { bar.Update(p); });
  bar.Finish();
  if (!out.ok()) return Fail(out.status());
  const scanner::ImportSummary& s = out->summary;
  if (ctx.json()) {
    PrintJson({{"sources", s.sources},
               {"documents", s.documents},
               {"vulnerabilities", s.vulnerabilities},
               {"affected", s.affected},
               {"withdrawn", s.withdrawn},
               {"skipped", s.skipped},
               {"unchanged", s.unchanged},
               {"generation", s.generation},
               {"seconds", absl::ToDoubleSeconds(s.took)},
               {"rematch_queued", out->rematch_queued}});
    return 0;
  }
  if (ctx.quiet) return 0;
  if (s.unchanged) {
    std::printf("%s: unchanged since the last import (feed generation %lld)\n",
                absl::StrJoin(s.sources, ", ").c_str(), static_cast<long long>(s.generation));
    return 0;
  }
  std::printf("imported %s: %lld documents, %lld vulnerabilities, %lld affected packages, %lld withdrawn, "
              "%lld skipped in %.1fs\n",
              absl::StrJoin(s.sources, ", ").c_str(), static_cast<long long>(s.documents),
              static_cast<long long>(s.vulnerabilities), static_cast<long long>(s.affected),
              static_cast<long long>(s.withdrawn), static_cast<long long>(s.skipped), absl::ToDoubleSeconds(s.took));
  std::printf("feed generation %lld; %s\n", static_cast<long long>(s.generation),
              out->rematch_queued ? "every stored image will be re-matched by the scanner"
                                  : "no re-match needed");
  return 0;
}

int Status(CliContext& ctx, const Args&) {
  VulnDbEnv env;
  if (!LoadConfig(ctx, &env)) return 1;
  PgPool pool({env.common.db.ConnectionString(), 2});
  scanner::PgAdvisoryStore advisories(pool);
  scanner::PgScanStore scans(pool);
  scanner::ScannerApi api({scanner::ScannerVersion()}, scans, advisories, nullptr);
  absl::StatusOr<scanner::VulnDbStatus> st = api.Status();
  if (!st.ok()) return Fail(st.status());
  if (ctx.json()) {
    nlohmann::json sources = nlohmann::json::array();
    for (const scanner::FeedSource& s : st->sources) {
      sources.push_back({{"name", s.name},
                         {"format", std::string(scanner::FeedFormatName(s.format))},
                         {"location", s.location},
                         {"updated_at", Rfc3339(s.updated)},
                         {"vulnerabilities", s.vulnerabilities},
                         {"affected", s.affected},
                         {"last_error", s.last_error},
                         {"last_attempt_at", Rfc3339(s.last_attempt)}});
    }
    PrintJson({{"sources", sources}, {"generation", st->generation}, {"pending_jobs", st->pending_jobs}});
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const scanner::FeedSource& s : st->sources) {
    rows.push_back({s.name, std::string(scanner::FeedFormatName(s.format)), absl::StrCat(s.vulnerabilities),
                    absl::StrCat(s.affected), Rfc3339(s.updated), s.location,
                    s.last_error.empty() ? "" : s.last_error.substr(0, 60)});
  }
  if (rows.empty()) {
    std::printf("no vulnerability data imported yet (portunusctl vulndb import PATH|URL)\n");
  } else {
    PrintTable({"SOURCE", "FORMAT", "VULNERABILITIES", "AFFECTED", "UPDATED", "LOCATION", "LAST ERROR"}, rows);
  }
  std::printf("feed generation %lld, %lld scan jobs pending\n", static_cast<long long>(st->generation),
              static_cast<long long>(st->pending_jobs));
  return 0;
}

}  // namespace

void RegisterVulnDbCommands(CommandRegistry& registry) {
  registry.Add({{"vulndb", "import"},
                "vulndb import PATH|URL [--format auto|osv|debian|alpine] [--source NAME] [--force]",
                "import vulnerability data (OSV JSON/zip/dir, Debian tracker, Alpine secdb) and re-match images",
                {"--force"},
                Import});
  registry.Add({{"vulndb", "status"},
                "vulndb status",
                "list the imported vulnerability feeds with counts and last updates",
                {},
                Status});
}

}  // namespace portunus::cli
