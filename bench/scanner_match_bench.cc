// Matching benchmark (issue 7): 10,000 installed packages against 100,000 advisories of the
// same distribution release, the way a feed update re-matches one large image. Target: <= 1 s.
//   ninja -C build scanner_match_bench && build/bench/scanner_match_bench
// Synthetic but shaped like Debian: 20,000 source packages with 5 advisories each (a mix of
// fixed, unfixed and already-fixed ranges, severities from the tracker's urgencies), binary
// packages named after their sources (several binaries per source), dpkg versions with epochs,
// revisions, "~debNuM" backports and "+bN" binNMUs.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "services/scanner/matcher.h"

namespace portunus::scanner {
namespace {

constexpr int kSources = 20000;
constexpr int kAdvisoriesPerSource = 5;  // 100,000 advisories
constexpr int kPackages = 10000;

std::string Version(std::mt19937& rng, int bump) {
  const int epoch = static_cast<int>(rng() % 8 == 0);
  std::string v = absl::StrCat(epoch ? "1:" : "", rng() % 5, ".", rng() % 20, ".", rng() % 30 + bump, "-",
                               rng() % 4 + 1);
  if (rng() % 3 == 0) absl::StrAppend(&v, "~deb12u", rng() % 3 + 1);
  return v;
}

struct Data {
  AdvisoryIndex index;
  Inventory inventory;
};

const Data& Build() {
  static const Data* data = [] {
    auto* d = new Data;
    std::mt19937 rng(7);
    for (int s = 0; s < kSources; ++s) {
      const std::string source = absl::StrCat("src", s);
      for (int a = 0; a < kAdvisoriesPerSource; ++a) {
        Affected af;
        af.vuln_id = absl::StrCat("CVE-", 2015 + a, "-", s);
        af.source = "bench";
        af.ecosystem = "debian:12";
        af.package = source;
        af.scheme = VersionScheme::kDpkg;
        af.severity = static_cast<Severity>(rng() % kSeverityCount);
        AffectedRange r{{RangeEvent::Kind::kIntroduced, "0"}};
        if (rng() % 4 != 0) r.push_back({RangeEvent::Kind::kFixed, Version(rng, static_cast<int>(rng() % 3))});
        af.ranges.push_back(std::move(r));
        d->index.Add(std::move(af));
      }
    }
    d->inventory.os.id = "debian";
    d->inventory.os.version_id = "12";
    for (int p = 0; p < kPackages; ++p) {
      Package pkg;
      pkg.format = PackageFormat::kDpkg;
      const int source = static_cast<int>(rng() % kSources);
      pkg.source_name = absl::StrCat("src", source);
      pkg.name = p % 3 == 0 ? pkg.source_name : absl::StrCat("lib", pkg.source_name, "-", p % 3);
      pkg.version = Version(rng, 1);
      if (rng() % 10 == 0) absl::StrAppend(&pkg.version, "+b1");
      pkg.source_version = pkg.version;
      pkg.arch = "amd64";
      d->inventory.packages.push_back(std::move(pkg));
    }
    return d;
  }();
  return *data;
}

void BM_Match10kPackagesAgainst100kAdvisories(benchmark::State& state) {
  const Data& d = Build();
  size_t findings = 0;
  for (auto _ : state) {
    MatchResult r = Match(d.inventory, d.index);
    findings = r.findings.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["advisories"] = static_cast<double>(d.index.affected_count());
  state.counters["packages"] = static_cast<double>(d.inventory.packages.size());
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_Match10kPackagesAgainst100kAdvisories)->Unit(benchmark::kMillisecond)->MinTime(3);

void BM_BuildIndexOf100kAdvisories(benchmark::State& state) {
  const Data& d = Build();
  std::vector<Affected> all;
  for (int s = 0; s < kSources; ++s) {
    for (const Affected& a : *d.index.Find("debian:12", absl::StrCat("src", s))) all.push_back(a);
  }
  for (auto _ : state) {
    AdvisoryIndex index;
    for (const Affected& a : all) index.Add(a);
    benchmark::DoNotOptimize(index);
  }
}
BENCHMARK(BM_BuildIndexOf100kAdvisories)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace portunus::scanner

BENCHMARK_MAIN();
