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
//                   With --set catalog.events.workers=0 the catalog only ingests (the events
//                   stay pending): the ingest path alone.
//
//   --set key=value (stack mode, repeatable) overrides a portunus.yml key, e.g.
//                   catalog.events.workers=1; --statements yes prints PostgreSQL's busiest
//                   statements of the run (pg_stat_statements, planning time included).
//
//   ninja -C build catalog_ingest_bench && build/bench/catalog_ingest_bench --senders 32 --seconds 10
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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

// HTTP/1.1 POSTs over `connections` keep-alive connections from one thread (epoll): each
// connection sends its next request as soon as the answer to the last one is in. Answers
// must carry Content-Length (the gateway's do). A connection that fails counts as one error
// and is not reopened (the run then reports errors and exits 1). Only for this benchmark:
// plain http, no redirects, no chunked bodies.
class HttpLoad {
 public:
  using BodyFn = std::function<std::string(int connection, int64_t n)>;
  using DoneFn = std::function<void(int connection, int status, absl::Duration took)>;

  HttpLoad(const std::string& url, std::vector<std::pair<std::string, std::string>> headers)
      : url_(url), headers_(std::move(headers)) {}

  // Until `stop`, then until every connection's request in flight is answered (or 30 s).
  absl::Status Run(int connections, const std::atomic<bool>& stop, const BodyFn& body,
                   const DoneFn& done) {
    absl::string_view rest = url_;
    if (!absl::ConsumePrefix(&rest, "http://")) return absl::InvalidArgumentError("http:// only");
    const size_t slash = rest.find('/');
    const std::string hostport(rest.substr(0, slash));
    path_ = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
    const size_t colon = hostport.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    int port = 80;
    if (colon != std::string::npos && !absl::SimpleAtoi(hostport.substr(colon + 1), &port)) {
      return absl::InvalidArgumentError("bad port");
    }
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
      return absl::InvalidArgumentError("an IPv4 address is needed");
    }
    host_ = hostport;
    std::vector<Conn> conns(connections);
    const int ep = epoll_create1(0);
    auto close_all = [&] {
      for (Conn& c : conns) {
        if (c.fd >= 0) close(c.fd);
      }
      if (ep >= 0) close(ep);
    };
    for (int i = 0; i < connections && ep >= 0; ++i) {
      Conn& c = conns[i];
      c.fd = socket(AF_INET, SOCK_STREAM, 0);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
      ev.data.u32 = static_cast<uint32_t>(i);
      const int one = 1;
      if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
          setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
          fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK) != 0 ||
          epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        const absl::Status error =
            absl::UnavailableError(absl::StrCat("connect ", url_, ": ", strerror(errno)));
        close_all();
        return error;
      }
      Start(c, body(i, c.n++));
    }
    if (ep < 0) return absl::InternalError(absl::StrCat("epoll: ", strerror(errno)));
    int busy = connections;
    const absl::Time kNoDeadline = absl::InfiniteFuture();
    absl::Time deadline = kNoDeadline;
    std::vector<epoll_event> events(64);
    char buf[65536];
    while (busy > 0 && absl::Now() < deadline) {
      if (stop.load() && deadline == kNoDeadline) deadline = absl::Now() + absl::Seconds(30);
      const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
      for (int k = 0; k < n; ++k) {
        const int i = static_cast<int>(events[k].data.u32);
        Conn& c = conns[i];
        if (c.fd < 0) continue;
        if (!Flush(c)) {
          Fail(c, done, i, busy);
          continue;
        }
        for (;;) {
          const ssize_t got = read(c.fd, buf, sizeof(buf));
          if (got > 0) {
            c.in.append(buf, static_cast<size_t>(got));
            continue;
          }
          if (got < 0 && errno == EINTR) continue;
          if (got == 0 || errno != EAGAIN) Fail(c, done, i, busy);  // closed, or an error
          break;
        }
        if (c.fd < 0) continue;
        int status = 0;
        size_t length = 0;
        if (!Answered(c.in, &status, &length)) continue;
        c.in.erase(0, length);
        done(i, status, absl::Now() - c.t0);
        if (stop.load()) {
          --busy;
          close(c.fd);
          c.fd = -1;
          continue;
        }
        Start(c, body(i, c.n++));
        if (!Flush(c)) Fail(c, done, i, busy);
      }
    }
    close_all();
    return busy == 0 ? absl::OkStatus()
                     : absl::DeadlineExceededError(absl::StrCat(busy, " requests unanswered"));
  }

 private:
  struct Conn {
    int fd = -1;
    std::string out;
    size_t sent = 0;
    std::string in;
    absl::Time t0;
    int64_t n = 0;
  };

  void Start(Conn& c, const std::string& body) {
    c.out = absl::StrCat("POST ", path_, " HTTP/1.1\r\nHost: ", host_, "\r\n");
    for (const auto& [k, v] : headers_) absl::StrAppend(&c.out, k, ": ", v, "\r\n");
    absl::StrAppend(&c.out, "Content-Length: ", body.size(), "\r\n\r\n", body);
    c.sent = 0;
    c.t0 = absl::Now();
  }

  // Writes what the socket takes; false on an error.
  static bool Flush(Conn& c) {
    while (c.sent < c.out.size()) {
      // MSG_NOSIGNAL: a connection the server closed is an error here, not a SIGPIPE.
      const ssize_t w = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errno == EAGAIN;
      c.sent += static_cast<size_t>(w);
    }
    return true;
  }

  void Fail(Conn& c, const DoneFn& done, int i, int& busy) {
    close(c.fd);
    c.fd = -1;
    --busy;
    done(i, 0, absl::Now() - c.t0);
  }

  // A whole answer at the start of `in`: its status and length (head and body).
  static bool Answered(const std::string& in, int* status, size_t* length) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string::npos) return false;
    const absl::string_view head(in.data(), head_end);
    if (head.size() < 12 || !absl::SimpleAtoi(head.substr(9, 3), status)) *status = 0;
    size_t body = 0;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      if (absl::StartsWithIgnoreCase(line, "content-length:")) {
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &body);
      }
    }
    if (in.size() < head_end + 4 + body) return false;
    *length = head_end + 4 + body;
    return true;
  }

  const std::string url_;
  const std::vector<std::pair<std::string, std::string>> headers_;
  std::string host_, path_;
};

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
    // One thread drives every sender's keep-alive connection, as wrk does: a blocking curl
    // thread per sender (and then curl multi) took 10-15% of the shared cores from the
    // servers being measured; this loop takes a few percent.
    threads.emplace_back([&] {
      HttpLoad load(url, {{"Content-Type", kContentType}, {"Authorization", "Bearer " + secret}});
      absl::Status s = load.Run(
          senders, stop, [](int sender, int64_t n) { return Body(sender, n); },
          [&](int sender, int status, absl::Duration took) {
            if (status / 100 == 2) {
              stored.fetch_add(1);
              latencies[sender].push_back(absl::ToDoubleMilliseconds(took));
            } else {
              errors.fetch_add(1);
            }
          });
      if (!s.ok()) {
        std::fprintf(stderr, "senders: %s\n", s.ToString().c_str());
        errors.fetch_add(1);
      }
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
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace portunus

int main(int argc, char** argv) { return portunus::Main(argc, argv); }
