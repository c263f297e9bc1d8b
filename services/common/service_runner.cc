#include "services/common/service_runner.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "prometheus/gauge.h"
#include "services/common/log.h"
#include "services/common/pg_pool.h"
#include "services/common/replica_heartbeat.h"

#ifndef PORTUNUS_VERSION
#define PORTUNUS_VERSION "dev"
#endif

namespace portunus {
namespace {

struct Flags {
  std::string config_path;
  bool migrate = false;
  bool migrate_only = false;
  bool check_config = false;
  bool print_config = false;
  absl::Duration shutdown_grace = absl::Seconds(8);
};

void PrintUsage(const std::string& binary) {
  std::printf(
      "usage: %s [--config FILE] [--migrate | --migrate-only] [--check-config] [--print-config]\n"
      "  --config FILE     YAML configuration (default: $PORTUNUS_CONFIG, else built-in defaults)\n"
      "                    Every key can be overridden by PORTUNUS_<SECTION>_<KEY>.\n"
      "  --migrate         apply pending database migrations, then serve\n"
      "  --migrate-only    apply pending database migrations and exit\n"
      "  --check-config    validate the configuration and exit\n"
      "  --print-config    print the effective configuration (secrets redacted) and exit\n"
      "  --version         print the version and exit\n",
      binary.c_str());
}

// Returns -1 to continue, else an exit code.
int ParseFlags(int argc, char** argv, const std::string& binary, Flags* flags) {
  if (const char* env = std::getenv("PORTUNUS_CONFIG")) flags->config_path = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "--config") {
      if (eq == std::string::npos) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "%s: --config needs a file\n", binary.c_str());
          return 2;
        }
        value = argv[++i];
      }
      flags->config_path = value;
    } else if (arg == "--migrate") {
      flags->migrate = true;
    } else if (arg == "--migrate-only") {
      flags->migrate = flags->migrate_only = true;
    } else if (arg == "--check-config") {
      flags->check_config = true;
    } else if (arg == "--print-config") {
      flags->print_config = true;
    } else if (arg == "--version") {
      std::printf("%s %s\n", binary.c_str(), PORTUNUS_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      PrintUsage(binary);
      return 0;
    } else {
      std::fprintf(stderr, "%s: unknown flag %s (see --help)\n", binary.c_str(), argv[i]);
      return 2;
    }
  }
  return -1;
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

std::string Readiness::reason() const {
  absl::MutexLock lock(&mu_);
  return reason_;
}

void Readiness::Set(bool ready, std::string reason) {
  absl::MutexLock lock(&mu_);
  reason_ = std::move(reason);
  ready_.store(ready, std::memory_order_release);
}

absl::StatusOr<int> ApplyMigrationsWithRetry(PgPool& pool, const std::string& schema,
                                             const std::vector<Migration>& migrations,
                                             absl::Duration wait) {
  Migrator migrator(pool, schema, migrations);
  const absl::Time give_up = absl::Now() + wait;
  for (;;) {
    absl::StatusOr<int> applied = migrator.Apply();
    if (applied.ok() || applied.status().code() != absl::StatusCode::kUnavailable ||
        absl::Now() >= give_up) {
      return applied;
    }
    LogWarn("database unreachable, retrying migrations",
            {{"schema", schema}, {"error", applied.status().message()}});
    absl::SleepFor(absl::Seconds(1));
  }
}

int RunService(const ServiceSpec& spec, int argc, char** argv) {
  const std::string binary = "portunus-" + spec.name;
  // Debian's Abseil checks every absl::Mutex lock for lock-order cycles (a debugging aid with a
  // global graph): about 10% of auth's CPU per Authorize decision, mostly inside gRPC's own
  // mutexes (perf, bench/auth_authorize: 32 -> 22 us per decision without it). Lock order is a
  // property of the code, not of the traffic: the unit tests, which never run a service's main,
  // keep the detector on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Block the termination signals in every thread (threads inherit the mask); the main thread
  // receives them with sigwait below.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Flags flags;
  if (int rc = ParseFlags(argc, argv, binary, &flags); rc >= 0) return rc;

  CommonConfig common;
  ConfigBinder binder;
  BindCommonConfig(&binder, &common);
  if (spec.bind) spec.bind(&binder);
  if (absl::Status s = binder.Load(flags.config_path); !s.ok()) {
    std::fprintf(stderr, "%s: config: %s\n", binary.c_str(), std::string(s.message()).c_str());
    return 2;
  }
  if (flags.print_config) {
    std::fputs(binder.Render().c_str(), stdout);
    return 0;
  }
  if (flags.check_config) {
    std::printf("%s: configuration is valid\n", binary.c_str());
    return 0;
  }

  LogLevel level = LogLevel::kInfo;
  ParseLogLevel(common.log.level, &level);
  InitLogging(spec.name, level, common.log.format == "json");

  MetricsServer metrics;
  std::unique_ptr<PgPool> db;
  if (spec.migrations != nullptr) {
    db = std::make_unique<PgPool>(PgPool::Options{common.db.ConnectionString(),
                                                  static_cast<size_t>(common.db.pool),
                                                  absl::Seconds(10), &metrics.registry()});
    if (flags.migrate) {
      absl::StatusOr<int> applied =
          ApplyMigrationsWithRetry(*db, spec.name, *spec.migrations, absl::Seconds(60));
      if (!applied.ok()) {
        LogError("migrations failed", {{"schema", spec.name}, {"error", applied.status().message()}});
        return 1;
      }
      LogInfo("database is up-to-date", {{"schema", spec.name}, {"applied", *applied}});
      if (flags.migrate_only) return 0;
    }
  } else if (flags.migrate_only) {
    return 0;
  }

  const std::string metrics_listen = spec.metrics_listen
                                         ? spec.metrics_listen(common)
                                         : (common.*(spec.endpoint)).metrics_listen;
  if (absl::Status s = metrics.Start(metrics_listen); !s.ok()) {
    LogError("cannot start", {{"error", s.message()}});
    return 1;
  }
  LogInfo("metrics listening", {{"url", absl::StrCat("http://", metrics_listen.substr(
                                                         0, metrics_listen.rfind(':')),
                                                     ":", metrics.port(), "/metrics")}});

  WorkerPool workers(spec.workers);
  Readiness readiness;
  prometheus::BuildGauge()
      .Name("portunus_build_info")
      .Help("Always 1; labels name the service and the version of this build")
      .Register(metrics.registry())
      .Add({{"service", spec.name}, {"version", PortunusVersion()}})
      .Set(1);
  auto& ready_gauge = prometheus::BuildGauge()
                          .Name("portunus_ready")
                          .Help("1 while the service is ready to serve, else 0")
                          .Register(metrics.registry())
                          .Add({});
  ServiceRuntime runtime{spec.name, common, db.get(), workers, metrics, readiness, RealClock::Get()};
  absl::StatusOr<std::unique_ptr<ServiceModule>> module = spec.create(runtime);
  if (!module.ok()) {
    LogError("cannot start", {{"error", module.status().message()}});
    return 1;
  }

  std::unique_ptr<grpc::Server> server;
  std::string grpc_address;  // the bound host:port, for the replica registry
  if (spec.endpoint != nullptr) {
    const std::string listen = (common.*(spec.endpoint)).listen;
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
    factories.push_back(MakeGrpcServerMetricsFactory(metrics.registry()));
    builder.experimental().SetInterceptorCreators(std::move(factories));
    for (grpc::Service* service : (*module)->GrpcServices()) builder.RegisterService(service);
    server = builder.BuildAndStart();
    if (server == nullptr || port == 0) {
      LogError("cannot start", {{"error", absl::StrCat("cannot listen for gRPC on ", listen,
                                                       " (is the port already in use?)")}});
      return 1;
    }
    server->GetHealthCheckService()->SetServingStatus("", false);
    server->GetHealthCheckService()->SetServingStatus(kGrpcLivenessService, true);
    grpc_address = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
    LogInfo("gRPC listening", {{"addr", grpc_address}});
  }

  if (absl::Status s = (*module)->Start(); !s.ok()) {
    LogError("cannot start", {{"error", s.message()}});
    if (server) server->Shutdown(absl::ToChronoTime(absl::Now()));
    return 1;
  }

  std::unique_ptr<ReplicaHeartbeat> heartbeat;
  if (spec.send_heartbeats) {
    heartbeat = std::make_unique<ReplicaHeartbeat>(
        ReplicaHeartbeat::Options{common.health.address, common.internal_secret,
                                  common.rpc_timeout, absl::Seconds(5), &metrics.registry()},
        NewReplicaIdentity(spec.name, grpc_address),
        [&readiness] { return ReplicaReadiness{readiness.ready(), readiness.reason()}; });
    heartbeat->Start();
    LogInfo("replica registered", {{"replica_id", heartbeat->identity().id},
                                   {"health", common.health.address}});
  }

  // Readiness: the database reachable with no pending migrations, plus the module's own view.
  absl::Notification stop_monitor;
  std::thread monitor([&] {
    std::unique_ptr<Migrator> migrator;
    if (db) migrator = std::make_unique<Migrator>(*db, spec.name, *spec.migrations);
    bool was_ready = false;
    std::string last_reason;
    do {
      bool ready = true;
      std::string reason;
      if (migrator) {
        DatabaseHealth h = DescribeDatabase(migrator->Inspect());
        ready = h.ok;
        if (!ready) reason = h.message;
      }
      if (ready) {
        reason = (*module)->NotReadyReason();
        ready = reason.empty();
      }
      readiness.Set(ready, reason);
      ready_gauge.Set(ready ? 1 : 0);
      if (server) server->GetHealthCheckService()->SetServingStatus("", ready);
      if (ready != was_ready || reason != last_reason) {
        if (ready) {
          LogInfo("serving");
        } else {
          LogWarn("not serving", {{"reason", reason}});
        }
      }
      was_ready = ready;
      last_reason = reason;
    } while (!stop_monitor.WaitForNotificationWithTimeout(was_ready ? absl::Seconds(2)
                                                                    : absl::Milliseconds(500)));
  });

  const int sig = WaitForTerminationSignal();
  LogInfo("shutting down", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  stop_monitor.Notify();
  monitor.join();
  readiness.Set(false, "shutting down");
  const absl::Time deadline = absl::Now() + flags.shutdown_grace;
  if (heartbeat) {
    // Best effort and short: a missing health service must not delay the shutdown.
    absl::Status s = heartbeat->Stop(std::min(deadline, absl::Now() + absl::Seconds(2)));
    if (!s.ok()) LogWarn("cannot deregister replica", {{"error", s.message()}});
  }
  if (server) {
    server->GetHealthCheckService()->SetServingStatus(false);
    server->Shutdown(absl::ToChronoTime(deadline));  // finishes in-flight calls
  }
  (*module)->Stop(deadline);
  if (server) server->Wait();
  module->reset();
  LogInfo("stopped");
  return 0;
}

}  // namespace portunus
