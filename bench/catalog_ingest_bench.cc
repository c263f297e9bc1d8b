// catalog_ingest_bench: registry notifications stored durably per second with concurrent
// senders (docs/benchmarks.md). Each sender posts one event per request, like the registry
// (a real push-manifest payload with a fresh event id), and a request counts only once its
// event is committed.
//
//   --mode direct   EventIngestor + PgEventStore in this process on a durable PostgreSQL
//                   (fsync on, synchronous_commit on): the catalog's own ceiling;
//   --mode http     POST <--url> (the gateway's /v2/webhooks/events) with the Bearer
//                   --secret: the whole path (HTTP, gateway, gRPC, catalog, PostgreSQL);
//   --mode stack    the same against a stack this program starts with the integration-test
//                   harness (durable PostgreSQL, auth, catalog, gateway with its access log off,
//                   the real registry with token auth). The catalog's workers process every
//                   stored event at the same time on the same cores: each event's manifest GET
//                   answers 404 (the pushes are made up), a permanent failure, so one attempt.
//
//   --set key=value (stack mode, repeatable) overrides a portunus.yml key, e.g.
//                   catalog.events.workers=1; --statements yes prints PostgreSQL's busiest
//                   statements of the run (pg_stat_statements, planning time included).
//
//   ninja -C build catalog_ingest_bench && build/bench/catalog_ingest_bench --senders 32 --seconds 10
#include <curl/curl.h>
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

size_t Discard(char*, size_t s, size_t n, void*) { return s * n; }

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
  curl_global_init(CURL_GLOBAL_DEFAULT);

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

  std::atomic<bool> stop{false};
  std::atomic<int64_t> stored{0}, errors{0};
  std::vector<std::vector<double>> latencies(senders);
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  if (mode == "direct") {
    for (int s = 0; s < senders; ++s) {
      threads.emplace_back([&, s] {
        for (int64_t n = 0; !stop.load(); ++n) {
          const std::string body = Body(s, n);
          const absl::Time t0 = absl::Now();
          absl::StatusOr<catalog::IngestCounts> r =
              ingestor->Ingest("Bearer " + bench_secret, kContentType, body);
          if (r.ok() && r->stored == 1) {
            stored.fetch_add(1);
            latencies[s].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
          } else {
            errors.fetch_add(1);
          }
        }
      });
    }
  } else {
    // One thread drives every sender's keep-alive connection (curl multi), as wrk does: a
    // blocking client thread per sender cost the shared two cores about a tenth of their time
    // in wake-ups, taken from the servers being measured.
    threads.emplace_back([&] {
      struct Sender {
        CURL* curl = nullptr;
        std::string body;
        absl::Time t0;
        int64_t n = 0;
      };
      const std::string auth = "Authorization: Bearer " + secret;
      struct curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, (std::string("Content-Type: ") + kContentType).c_str());
      headers = curl_slist_append(headers, auth.c_str());
      headers = curl_slist_append(headers, "Expect:");
      CURLM* multi = curl_multi_init();
      std::vector<Sender> all(senders);
      auto post = [&](int s) {
        Sender& x = all[s];
        x.body = Body(s, x.n++);
        curl_easy_setopt(x.curl, CURLOPT_POSTFIELDS, x.body.data());
        curl_easy_setopt(x.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(x.body.size()));
        x.t0 = absl::Now();
        curl_multi_add_handle(multi, x.curl);
      };
      for (int s = 0; s < senders; ++s) {
        CURL* c = all[s].curl = curl_easy_init();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_PRIVATE, static_cast<void*>(&all[s]));
        post(s);
      }
      int running = senders;
      while (running > 0) {
        curl_multi_perform(multi, &running);
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
          if (m->msg != CURLMSG_DONE) continue;
          void* p = nullptr;
          curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
          Sender& x = *static_cast<Sender*>(p);
          const int s = static_cast<int>(&x - all.data());
          long code = 0;
          curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &code);
          if (m->data.result == CURLE_OK && code / 100 == 2) {
            stored.fetch_add(1);
            latencies[s].push_back(absl::ToDoubleMilliseconds(absl::Now() - x.t0));
          } else {
            errors.fetch_add(1);
          }
          curl_multi_remove_handle(multi, x.curl);
          if (!stop.load()) {
            post(s);
            ++running;
          }
        }
        if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
      }
      for (Sender& x : all) curl_easy_cleanup(x.curl);
      curl_multi_cleanup(multi);
      curl_slist_free_all(headers);
    });
  }
  absl::SleepFor(absl::Seconds(seconds));
  stop.store(true);
  for (std::thread& t : threads) t.join();
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
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
              elapsed, static_cast<long long>(stored.load()), static_cast<long long>(errors.load()));
  std::printf("| mode | senders | events/s | p50 ms | p99 ms |%s\n|---|---|---|---|---|%s\n",
              mode == "direct" ? " transactions |" : "", mode == "direct" ? "---|" : "");
  std::printf("| %s | %d | %.0f | %.2f | %.2f |", mode.c_str(), senders, stored.load() / elapsed, pct(0.5),
              pct(0.99));
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
  curl_global_cleanup();
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace portunus

int main(int argc, char** argv) { return portunus::Main(argc, argv); }
