// portunusctl config print|check|reference and portunusctl migrate: local administration that
// reads the same configuration file as the services.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "services/auth/auth_module.h"
#include "services/auth/migrations.h"
#include "services/catalog/catalog_module.h"
#include "services/catalog/migrations.h"
#include "services/common/common_config.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/common/service_runner.h"
#include "services/gateway/gateway_module.h"
#include "services/health/health_module.h"
#include "services/health/migrations.h"
#include "services/scanner/migrations.h"
#include "services/scanner/scanner_module.h"

namespace portunus::cli {
namespace {

// Every service's settings, bound into one binder: what the whole deployment reads.
struct AllConfig {
  CommonConfig common;
  auth::AuthConfig auth;
  catalog::CatalogConfig catalog;
  scanner::ScannerConfig scanner;
  health::HealthConfig health;
  gateway::GatewayConfig gateway;

  void Bind(ConfigBinder* b) {
    BindCommonConfig(b, &common);
    auth::BindAuthConfig(b, &auth);
    catalog::BindCatalogConfig(b, &catalog);
    scanner::BindScannerConfig(b, &scanner);
    health::BindHealthConfig(b, &health);
    gateway::BindGatewayConfig(b, &gateway);
  }
};

int ConfigPrint(CliContext& ctx, const Args& args) {
  AllConfig config;
  ConfigBinder binder;
  config.Bind(&binder);
  const std::string path = args.positional.empty() ? ctx.config_path : args.positional[0];
  absl::Status s = binder.Load(path);
  if (!s.ok()) {
    std::fprintf(stderr, "portunusctl: config: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::fputs(binder.Render().c_str(), stdout);
  return 0;
}

int ConfigCheck(CliContext& ctx, const Args& args) {
  AllConfig config;
  ConfigBinder binder;
  config.Bind(&binder);
  const std::string path = args.positional.empty() ? ctx.config_path : args.positional[0];
  absl::Status s = binder.Load(path);
  if (!s.ok()) {
    std::fprintf(stderr, "portunusctl: config: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (!ctx.quiet) std::printf("configuration is valid%s%s\n", path.empty() ? "" : ": ", path.c_str());
  return 0;
}

int ConfigReference(CliContext&, const Args&) {
  AllConfig config;
  ConfigBinder binder;
  config.Bind(&binder);
  std::fputs(binder.Reference().c_str(), stdout);
  return 0;
}

int Migrate(CliContext& ctx, const Args& args) {
  AllConfig config;
  ConfigBinder binder;
  config.Bind(&binder);
  absl::Status s = binder.Load(ctx.config_path);
  if (!s.ok()) {
    std::fprintf(stderr, "portunusctl: config: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  InitLogging("portunusctl", LogLevel::kWarn, false);
  PgPool pool({config.common.db.ConnectionString(), 2});
  absl::Duration wait = absl::Seconds(60);
  if (args.Has("--wait")) {
    if (!absl::ParseDuration(args.Get("--wait"), &wait)) {
      std::fprintf(stderr, "portunusctl: --wait must be a duration such as 30s\n");
      return 2;
    }
  }
  const std::pair<const char*, const std::vector<Migration>*> schemas[] = {
      {"auth", &auth::Migrations()},
      {"catalog", &catalog::Migrations()},
      {"scanner", &scanner::Migrations()},
      {"health", &health::Migrations()}};
  for (const auto& [schema, migrations] : schemas) {
    absl::StatusOr<int> applied = ApplyMigrationsWithRetry(pool, schema, *migrations, wait);
    if (!applied.ok()) return Fail(applied.status());
    if (!ctx.quiet) std::printf("%-8s up-to-date (%d applied now)\n", schema, *applied);
  }
  return 0;
}

}  // namespace

void RegisterConfigCommands(CommandRegistry& registry) {
  registry.Add({{"config", "print"},
                "config print [FILE]",
                "print the effective configuration (file + PORTUNUS_* environment), secrets redacted",
                {},
                ConfigPrint});
  registry.Add({{"config", "check"},
                "config check [FILE]",
                "validate a configuration file for every service; exit 1 with one line on error",
                {},
                ConfigCheck});
  registry.Add({{"config", "reference"},
                "config reference",
                "print every configuration key as a Markdown table",
                {},
                ConfigReference});
  registry.Add({{"migrate"},
                "migrate [--wait 60s]",
                "apply pending database migrations of every service (safe to run concurrently)",
                {},
                Migrate});
}

}  // namespace portunus::cli
