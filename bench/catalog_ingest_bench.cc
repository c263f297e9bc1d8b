// catalog_ingest_bench: registry notifications stored durably per second with concurrent
// senders (docs/benchmarks.md). Each sender posts one event per request, like the registry
// (a real push-manifest payload with a fresh event id), and a request counts only once its
// event is committed.
//
//   --mode direct   EventIngestor + PgEventStore in this process on a durable PostgreSQL
//                   (fsync on, synchronous_commit on): the catalog's own ceiling;
//   --mode http     POST <--url> (the gateway's /v2/webhooks/events) with the Bearer
//                   --secret: the whole path (HTTP, gateway, gRPC, catalog, PostgreSQL),
//                   loaded by wrk (one thread, a keep-alive connection per sender;
//                   bench/catalog_ingest.lua gives each request a fresh event id);
//   --mode stack    the same against a stack this program starts with the integration-test
//                   harness (durable PostgreSQL, auth, catalog, gateway with its access log off,
//                   the real registry with token auth). The catalog's workers process every
//                   stored event at the same time on the same cores: each event's manifest GET
//                   answers 404 (the pushes are made up), a permanent failure, so one attempt.
//                   With --set catalog.events.workers=0 the catalog only ingests (the events
//                   stay pending): the ingest path alone.
//
//   --set key=value (stack mode, repeatable) overrides a portunus.yml key, e.g.
//                   catalog.events.workers=1; --statements yes prints PostgreSQL's busiest
//                   statements of the run (pg_stat_statements, planning time included).
//
//   ninja -C build catalog_ingest_bench && build/bench/catalog_ingest_bench --senders 32 --seconds 10
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "bench/wrk.h"
#include "services/catalog/event_ingestor.h"
#include "services/catalog/migrations.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/catalog/testdata/registry_events.h"
#include "services/common/log.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "tests/harness/postgres_server.h"
#include "tests/harness/registry_server.h"
#include "tests/harness/stack.h"
#include "tests/harness/util.h"

namespace portunus {
namespace {

constexpr char kContentType[] = "application/vnd.docker.distribution.events.v1+json";

std::string Body(int sender, int64_t n) {
  return absl::StrReplaceAll(catalog::testdata::kPushManifestOci,
                             {{"81890f62-054f-4d83-9ec4-54e165a96dd0",
                               absl::StrCat("bench-", sender, "-", n, "-", absl::ToUnixNanos(absl::Now()))}});
}

int Main(int argc, char** argv) {
  std::string mode = "direct", url, secret;
  int senders = 32, seconds = 10;
  bool statements = false;
  std::vector<std::pair<std::string, std::string>> settings;  // --set key=value
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") mode = v;
    if (k == "--url") url = v;
    if (k == "--secret") secret = v;
    if (k == "--senders" && !absl::SimpleAtoi(v, &senders)) senders = 0;
    if (k == "--seconds" && !absl::SimpleAtoi(v, &seconds)) seconds = 0;
    if (k == "--statements") statements = v == "yes";
    if (k == "--set") {
      const size_t eq = v.find('=');
      if (eq == std::string::npos) senders = 0;  // a usage error
      else settings.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    }
  }
  if (senders <= 0 || seconds <= 0 || (mode != "direct" && mode != "http" && mode != "stack") ||
      (mode == "http" && (url.empty() || secret.empty()))) {
    std::fprintf(stderr,
                 "usage: catalog_ingest_bench [--mode direct|http|stack] [--senders N] [--seconds N]\n"
                 "                            [--url URL --secret S]   (http mode)\n"
                 "                            [--set key=value]...     (stack mode)\n"
                 "                            [--statements yes]       (direct and stack modes)\n");
    return 2;
  }
  InitLogging("catalog_ingest_bench", LogLevel::kWarn, false);

  std::unique_ptr<harness::PostgresServer> pg;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<catalog::PgEventStore> store;
  std::unique_ptr<catalog::EventIngestor> ingestor;
  const std::string bench_secret = "bench-secret";
  if (mode != "http") {  // a durable PostgreSQL of our own
    harness::PostgresServer::Options po;
    po.settings = {"fsync=on", "synchronous_commit=on", "full_page_writes=on"};
    if (statements) {
      po.settings.push_back("shared_preload_libraries=pg_stat_statements");
      po.settings.push_back("pg_stat_statements.track_planning=on");
    }
    auto server = harness::PostgresServer::Start(po);
    if (!server.ok()) {
      std::fprintf(stderr, "postgres: %s\n", server.status().ToString().c_str());
      return 1;
    }
    pg = std::move(*server);
  }
  if (mode == "direct") {
    pool = std::make_unique<PgPool>(PgPool::Options{pg->Dsn(), 8});
    absl::StatusOr<int> m = Migrator(*pool, "catalog", catalog::Migrations()).Apply();
    if (!m.ok()) {
      std::fprintf(stderr, "migrations: %s\n", m.status().ToString().c_str());
      return 1;
    }
    store = std::make_unique<catalog::PgEventStore>(*pool);
    ingestor = std::make_unique<catalog::EventIngestor>(
        catalog::EventIngestor::Options{bench_secret, 1000, 2}, *store);
  }

  std::unique_ptr<harness::Stack> stack;
  std::unique_ptr<harness::RegistryServer> registry;
  if (mode == "stack") {
    if (absl::Status s = pg->CreateDatabase("portunus"); !s.ok()) {
      std::fprintf(stderr, "postgres: %s\n", s.ToString().c_str());
      return 1;
    }
    harness::Stack::Options so;
    so.services = {"auth", "catalog", "gateway"};
    so.db_dsn = pg->Dsn("portunus");
    so.config = {{"gateway.access_log", "false"}, {"log.level", "warn"},
                 {"catalog.sync.enabled", "false"}};
    for (const auto& [key, value] : settings) so.config[key] = value;
    auto created = harness::Stack::Create(so);
    if (!created.ok()) {
      std::fprintf(stderr, "stack: %s\n", created.status().ToString().c_str());
      return 1;
    }
    stack = std::move(*created);
    auto started_registry = harness::RegistryServer::Start(stack->RegistryOptions());
    if (!started_registry.ok()) {
      std::fprintf(stderr, "registry: %s\n", started_registry.status().ToString().c_str());
      return 1;
    }
    registry = std::move(*started_registry);
    if (absl::Status s = stack->Start(); !s.ok()) {
      std::fprintf(stderr, "stack: %s\n", s.ToString().c_str());
      return 1;
    }
    url = stack->webhook_url();
    secret = stack->webhook_secret();
    std::printf("stack: POST %s\n", url.c_str());
  }

  int64_t stored = 0, errors = 0;
  double elapsed = 0, p50 = 0, p99 = 0;
  if (mode == "direct") {
    std::atomic<bool> stop{false};
    std::atomic<int64_t> stored_n{0}, errors_n{0};
    std::vector<std::vector<double>> latencies(senders);
    const absl::Time start = absl::Now();
    std::vector<std::thread> threads;
    for (int s = 0; s < senders; ++s) {
      threads.emplace_back([&, s] {
        for (int64_t n = 0; !stop.load(); ++n) {
          const std::string body = Body(s, n);
          const absl::Time t0 = absl::Now();
          absl::StatusOr<catalog::IngestCounts> r =
              ingestor->Ingest("Bearer " + bench_secret, kContentType, body);
          if (r.ok() && r->stored == 1) {
            stored_n.fetch_add(1);
            latencies[s].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
          } else {
            errors_n.fetch_add(1);
          }
        }
      });
    }
    absl::SleepFor(absl::Seconds(seconds));
    stop.store(true);
    for (std::thread& t : threads) t.join();
    elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    stored = stored_n.load();
    errors = errors_n.load();
    std::vector<double> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
    p50 = pct(0.5);
    p99 = pct(0.99);
  } else {
    // wrk with one thread for all senders (each a keep-alive connection): 32 blocking curl
    // threads took 10-15% of the shared cores from the servers being measured.
    harness::TempDir dir("ingest-bench");
    const std::string body_file = dir.Sub("notification.json");
    if (absl::Status s = harness::WriteFile(body_file, catalog::testdata::kPushManifestOci, 0600);
        !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    bench::WrkOptions wo;
    wo.threads = 1;
    wo.connections = senders;
    wo.seconds = seconds;
    wo.script = harness::SourceDir() + "/bench/catalog_ingest.lua";
    wo.script_args = {body_file, kContentType, secret,
                      absl::StrCat(absl::ToUnixNanos(absl::Now()))};
    absl::StatusOr<bench::WrkResult> w = bench::RunWrk(url, wo);
    if (!w.ok()) {
      std::fprintf(stderr, "wrk: %s\n", w.status().ToString().c_str());
      return 1;
    }
    elapsed = w->seconds;
    stored = w->requests - w->non_2xx;  // 202: committed
    errors = w->non_2xx + w->socket_errors;
    p50 = w->p50_ms;
    p99 = w->p99_ms;
  }
  if (stack) {
    // What the catalog's workers got through meanwhile (they keep going after the senders stop).
    pqxx::connection c(pg->Dsn("portunus"));
    pqxx::work w(c);
    pqxx::row r = w.exec1(
        "SELECT count(*) FILTER (WHERE status <> 'pending'), count(*) FROM catalog.events");
    std::printf("events processed by the catalog by the end of the run: %lld of %lld stored\n",
                r[0].as<long long>(), r[1].as<long long>());
  }
  std::printf("mode %s, %d senders, %.1f s: %lld events stored, %lld errors\n", mode.c_str(), senders,
              elapsed, static_cast<long long>(stored), static_cast<long long>(errors));
  std::printf("| mode | senders | events/s | p50 ms | p99 ms |%s\n|---|---|---|---|---|%s\n",
              mode == "direct" ? " transactions |" : "", mode == "direct" ? "---|" : "");
  std::printf("| %s | %d | %.0f | %.2f | %.2f |", mode.c_str(), senders,
              elapsed > 0 ? stored / elapsed : 0.0, p50, p99);
  if (ingestor) std::printf(" %lld |", static_cast<long long>(ingestor->transactions()));
  std::printf("\n");
  if (statements && pg) {
    pqxx::connection c(pg->Dsn(mode == "stack" ? "portunus" : "postgres"));
    pqxx::work w(c);
    w.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    std::printf("\nbusiest statements (calls, ms executing, ms planning, rows):\n");
    for (const pqxx::row& q : w.exec(
             "SELECT calls, round(total_exec_time), round(total_plan_time), rows,"
             " left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements"
             " ORDER BY total_exec_time + total_plan_time DESC LIMIT 10")) {
      std::printf("%8s %7s %7s %8s  %s\n", q[0].c_str(), q[1].c_str(), q[2].c_str(), q[3].c_str(),
                  q[4].c_str());
    }
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace portunus

int main(int argc, char** argv) { return portunus::Main(argc, argv); }
