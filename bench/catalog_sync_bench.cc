// catalog_sync_bench: a full Catalog API sync of R repositories x T tags against a bare
// parallel crawl of the same registry API, in the same run (docs/benchmarks.md).
//
// Setup: the real registry (docker-registry 2.8, token auth with tokens signed by a throwaway
// key, exactly as the services use it) and a durable PostgreSQL (fsync on). R repositories,
// each with its own layer and config blobs and T distinct manifests (one per tag).
//
// Measured, each `--rounds` times (median reported):
//   crawl            /v2/_catalog + tags/list per repository + HEAD per tag, `--parallelism`
//                    repositories at once, through the same registry client (tokens cached);
//   crawl+fetch      the crawl plus GET manifest + GET config blob per tag: the registry work
//                    a first sync cannot avoid;
//   sync (initial)   CatalogSyncer into an empty catalog (everything recorded);
//   sync (steady)    CatalogSyncer when the catalog is already in sync (nothing to change).
// Target: sync (steady) <= 1.5x crawl, sync (initial) <= 1.5x crawl+fetch.
//
//   ninja -C build catalog_sync_bench && build/bench/catalog_sync_bench --repos 1000 --tags 10
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "services/catalog/access_client.h"
#include "services/catalog/catalog_syncer.h"
#include "services/catalog/migrations.h"
#include "services/catalog/pg_catalog_store.h"
#include "services/common/log.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/registry_client.h"
#include "services/common/testing/registry_push.h"
#include "services/common/testing/test_token_signer.h"
#include "tests/harness/postgres_server.h"
#include "tests/harness/registry_server.h"
#include "tests/harness/util.h"

namespace portunus {
namespace {

struct Flags {
  int repos = 1000;
  int tags = 10;
  int parallelism = 8;
  int rounds = 3;
};

int Die(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "catalog_sync_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

// Runs fn(i) for i in [0, n) on `threads` threads.
void Parallel(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
    });
  }
  for (std::thread& t : pool) t.join();
}

std::string RepoName(int i) { return absl::StrCat("bench", i % 20, "/repo", i); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    int v = 0;
    if (!absl::SimpleAtoi(argv[i + 1], &v) || v <= 0) {
      std::fprintf(stderr, "usage: catalog_sync_bench [--repos N] [--tags N] [--parallelism N] [--rounds N]\n");
      return 2;
    }
    if (k == "--repos") f.repos = v;
    if (k == "--tags") f.tags = v;
    if (k == "--parallelism") f.parallelism = v;
    if (k == "--rounds") f.rounds = v;
  }
  InitLogging("catalog_sync_bench", LogLevel::kWarn, false);

  harness::TempDir dir("sync-bench");
  auto signer = testing::TestTokenSigner::Create(dir.path(), "portunus");
  if (!signer.ok()) return Die("signer", signer.status());
  harness::RegistryServer::Options ro;
  ro.realm = "http://127.0.0.1:1/v2/token";  // never called: tokens come from the signer
  ro.service = "registry.local";
  ro.issuer = "portunus";
  ro.rootcertbundle = (*signer)->bundle_path();
  auto registry = harness::RegistryServer::Start(ro);
  if (!registry.ok()) return Die("registry", registry.status());
  harness::PostgresServer::Options po;
  po.settings = {"fsync=on", "synchronous_commit=on", "full_page_writes=on"};
  auto pg = harness::PostgresServer::Start(po);
  if (!pg.ok()) return Die("postgres", pg.status());

  testing::TestTokenSource tokens(**signer, RealClock::Get(), absl::Minutes(30));
  HttpRegistryClient::Options co;
  co.url = (*registry)->url();
  co.service = "registry.local";
  co.max_idle_handles = 64;

  // ---- content ----
  std::printf("populating %d repositories x %d tags ...\n", f.repos, f.tags);
  const absl::Time populate_start = absl::Now();
  {
    auto pusher = HttpRegistryClient::Create(co, &tokens, RealClock::Get());
    if (!pusher.ok()) return Die("client", pusher.status());
    std::atomic<int> failures{0};
    Parallel(f.repos, 8, [&](int i) {
      const std::string repo = RepoName(i);
      const std::string token = (*signer)->Sign("bench", "registry.local",
                                                {absl::StrCat("repository:", repo, ":pull,push")},
                                                absl::Now(), absl::Minutes(30));
      const std::string layer = absl::StrCat("layer of ", repo, std::string(512, 'x'));
      const std::string config = nlohmann::json{{"architecture", "amd64"},
                                                {"os", "linux"},
                                                {"created", "2026-11-01T10:00:00Z"},
                                                {"rootfs", {{"type", "layers"},
                                                            {"diff_ids", {Sha256Digest(layer)}}}}}
                                     .dump();
      if (!testing::UploadBlob((*registry)->url(), token, repo, layer).ok() ||
          !testing::UploadBlob((*registry)->url(), token, repo, config).ok()) {
        failures.fetch_add(1);
        return;
      }
      for (int t = 0; t < f.tags; ++t) {
        nlohmann::json m = {
            {"schemaVersion", 2},
            {"mediaType", kMediaTypeOciManifest},
            {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", Sha256Digest(config)}, {"size", config.size()}}},
            {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                         {"digest", Sha256Digest(layer)}, {"size", layer.size()}}}},
            {"annotations", {{"bench.tag", absl::StrCat("t", t)}}}};
        if (!(*pusher)->PutManifest(repo, absl::StrCat("t", t), kMediaTypeOciManifest, m.dump()).ok()) {
          failures.fetch_add(1);
        }
      }
    });
    if (failures.load() > 0) {
      return Die("populate", absl::InternalError(absl::StrCat(failures.load(), " pushes failed")));
    }
  }
  std::printf("populated in %.1f s\n\n", absl::ToDoubleSeconds(absl::Now() - populate_start));

  // ---- bare crawl (and crawl + fetch) ----
  auto crawl = [&](bool fetch) -> absl::StatusOr<double> {
    auto client = HttpRegistryClient::Create(co, &tokens, RealClock::Get());
    if (!client.ok()) return client.status();
    const absl::Time start = absl::Now();
    absl::StatusOr<std::vector<std::string>> names = ListAllRepositories(**client, 1000);
    if (!names.ok()) return names.status();
    std::atomic<int> errors{0};
    std::atomic<int64_t> heads{0};
    Parallel(static_cast<int>(names->size()), f.parallelism, [&](int i) {
      const std::string& repo = (*names)[i];
      absl::StatusOr<std::vector<std::string>> tags = (*client)->ListTags(repo);
      if (!tags.ok()) {
        errors.fetch_add(1);
        return;
      }
      for (const std::string& t : *tags) {
        if (fetch) {
          absl::StatusOr<FetchedManifest> m = (*client)->GetManifest(repo, t);
          if (!m.ok()) {
            errors.fetch_add(1);
            continue;
          }
          nlohmann::json j = nlohmann::json::parse(m->body);
          absl::StatusOr<int64_t> n = (*client)->GetBlob(
              repo, j["config"]["digest"].get<std::string>(),
              [](absl::string_view) { return absl::OkStatus(); });
          if (!n.ok()) errors.fetch_add(1);
        } else {
          absl::StatusOr<ManifestHead> h = (*client)->HeadManifest(repo, t);
          if (!h.ok()) errors.fetch_add(1);
        }
        heads.fetch_add(1);
      }
    });
    if (errors.load() > 0) return absl::InternalError(absl::StrCat(errors.load(), " crawl errors"));
    if (heads.load() != static_cast<int64_t>(f.repos) * f.tags) {
      return absl::InternalError(absl::StrCat("crawled ", heads.load(), " tags"));
    }
    return absl::ToDoubleSeconds(absl::Now() - start);
  };

  // ---- sync ----
  catalog::FakeAccessClient access;
  auto sync_once = [&](const std::string& db_name, bool fresh) -> absl::StatusOr<double> {
    if (fresh) {
      if (absl::Status s = (*pg)->CreateDatabase(db_name); !s.ok()) return s;
    }
    PgPool pool({(*pg)->Dsn(db_name), static_cast<size_t>(f.parallelism + 2)});
    if (fresh) {
      absl::StatusOr<int> m = Migrator(pool, "catalog", catalog::Migrations()).Apply();
      if (!m.ok()) return m.status();
    }
    catalog::PgCatalogStore store(pool);
    auto client = HttpRegistryClient::Create(co, &tokens, RealClock::Get());
    if (!client.ok()) return client.status();
    catalog::CatalogSyncer::Options so;
    so.parallelism = f.parallelism;
    catalog::CatalogSyncer syncer(so, store, **client, access, RealClock::Get());
    catalog::SyncReport report;
    const absl::Time start = absl::Now();
    syncer.Run(true, &report);
    const double secs = absl::ToDoubleSeconds(absl::Now() - start);
    if (report.state != catalog::SyncState::kSucceeded) {
      return absl::InternalError(absl::StrCat("sync ended ", catalog::SyncStateName(report.state), ": ",
                                              report.error, report.failures.empty() ? "" : report.failures[0].error));
    }
    const int64_t expected = fresh ? static_cast<int64_t>(f.repos) * f.tags : 0;
    if (report.added != expected || report.tags != static_cast<int64_t>(f.repos) * f.tags) {
      return absl::InternalError(absl::StrCat("sync added ", report.added, " of ", expected));
    }
    return secs;
  };

  std::vector<double> crawls, fetches, initials, steadies;
  for (int r = 0; r < f.rounds; ++r) {
    absl::StatusOr<double> c = crawl(false);
    if (!c.ok()) return Die("crawl", c.status());
    crawls.push_back(*c);
    absl::StatusOr<double> cf = crawl(true);
    if (!cf.ok()) return Die("crawl+fetch", cf.status());
    fetches.push_back(*cf);
    const std::string db = absl::StrCat("sync_bench_", r);
    absl::StatusOr<double> i = sync_once(db, true);
    if (!i.ok()) return Die("initial sync", i.status());
    initials.push_back(*i);
    absl::StatusOr<double> s = sync_once(db, false);
    if (!s.ok()) return Die("steady sync", s.status());
    steadies.push_back(*s);
    std::printf("round %d: crawl %.2f s, crawl+fetch %.2f s, sync initial %.2f s, sync steady %.2f s\n",
                r + 1, *c, *cf, *i, *s);
  }
  const double crawl_s = Median(crawls), fetch_s = Median(fetches);
  const double initial_s = Median(initials), steady_s = Median(steadies);
  const int64_t tags = static_cast<int64_t>(f.repos) * f.tags;
  std::printf("\n%d repositories x %d tags = %lld tags, parallelism %d, median of %d rounds\n",
              f.repos, f.tags, static_cast<long long>(tags), f.parallelism, f.rounds);
  std::printf("| run | seconds | tags/s | vs its baseline |\n|---|---|---|---|\n");
  std::printf("| bare crawl (catalog + tags/list + HEAD) | %.2f | %.0f | baseline |\n", crawl_s, tags / crawl_s);
  std::printf("| sync, catalog already in sync | %.2f | %.0f | %.2fx crawl |\n", steady_s, tags / steady_s,
              steady_s / crawl_s);
  std::printf("| bare crawl + GET manifest + GET config | %.2f | %.0f | baseline |\n", fetch_s, tags / fetch_s);
  std::printf("| sync into an empty catalog | %.2f | %.0f | %.2fx crawl+fetch (%.2fx crawl) |\n", initial_s,
              tags / initial_s, initial_s / fetch_s, initial_s / crawl_s);
  return 0;
}

}  // namespace
}  // namespace portunus

int main(int argc, char** argv) { return portunus::Main(argc, argv); }
