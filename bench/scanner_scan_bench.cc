// Scan benchmark (issue 7): the time the scanner takes to scan a multi-layer image against the
// time `zcat LAYER | tar t` takes to list the same layers, in the same run. Target: <= 2x.
//   ninja -C build scanner_scan_bench && build/bench/scanner_scan_bench [layers] [MiB per layer]
// The image is written once to an OCI layout in a temporary directory: gzip layers of many
// text-like files (about 4:1 compressible, a few KiB each, like a distribution's /usr), the
// first with os-release and a dpkg status of 400 packages, later ones replacing the status and
// whiting a package out. Each round scans with an empty layer store (every layer is read, as on
// a first push) through the same OciLayoutSource the `scanner.oci_layout` mode uses, and runs the
// shell pipeline over the same blob files; the rounds alternate, the medians are reported.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/testing/fake_clock.h"
#include "services/scanner/fake_advisory_store.h"
#include "services/scanner/fake_scan_store.h"
#include "services/scanner/feed_parsers.h"
#include "services/scanner/image_scanner.h"
#include "services/scanner/oci_layout_source.h"
#include "services/scanner/testing/oci_layout_builder.h"
#include "services/scanner/testing/tar_builder.h"

namespace portunus::scanner {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string DpkgStatus(int packages, int bump) {
  std::string s;
  for (int i = 0; i < packages; ++i) {
    absl::StrAppend(&s, "Package: pkg", i, "\nStatus: install ok installed\nArchitecture: amd64\nSource: src", i / 2,
                    "\nVersion: 1.", i % 17, ".", bump, "-1\nDescription: package ", i,
                    "\n a description line\n another one\n\n");
  }
  return s;
}

// `bytes` of words drawn from a small vocabulary (compresses about 4:1 with gzip).
std::string Text(std::mt19937& rng, size_t bytes) {
  static const char* kWords[] = {"the", "library", "function", "return", "value", "int", "struct", "const",
                                 "static", "void", "char", "include", "define", "if", "else", "while",
                                 "for", "buffer", "size_t", "error", "status", "config", "module", "path"};
  std::string s;
  s.reserve(bytes + 16);
  while (s.size() < bytes) {
    s += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    s += (rng() % 9 == 0) ? '\n' : ' ';
    if (rng() % 7 == 0) absl::StrAppend(&s, rng() % 100000);
  }
  s.resize(bytes);
  return s;
}

int Run(int layers, int mib_per_layer) {
  char tmpl[] = "/tmp/portunus-scan-bench.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  testing::OciLayoutBuilder layout(dir + "/layout");
  std::mt19937 rng(7);
  std::vector<std::pair<std::string, std::string>> blobs;
  std::vector<std::string> files;
  size_t uncompressed = 0, compressed = 0, entries = 0;
  std::fprintf(stderr, "building %d layers of ~%d MiB...\n", layers, mib_per_layer);
  for (int l = 0; l < layers; ++l) {
    testing::TarBuilder tar;
    if (l == 0) {
      tar.File("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
    }
    if (l == 0 || l == layers - 1) tar.File("var/lib/dpkg/status", DpkgStatus(400, l));
    if (l == 1) tar.File("var/lib/dpkg/status.d/.wh.pkg7", "");
    size_t bytes = 0;
    const size_t target = static_cast<size_t>(mib_per_layer) << 20;
    for (int f = 0; bytes < target; ++f) {
      const size_t size = 512 + rng() % 8192;
      tar.File(absl::StrCat("usr/share/layer", l, "/d", f / 100, "/file", f, ".txt"), Text(rng, size));
      bytes += size;
      ++entries;
    }
    uncompressed += bytes;
    std::string blob = tar.Build(testing::Compression::kGzip);
    compressed += blob.size();
    const std::string digest = layout.AddBlob(blob);
    files.push_back(dir + "/layout/blobs/sha256/" + digest.substr(7));
    blobs.emplace_back(std::move(blob), "application/vnd.oci.image.layer.v1.tar+gzip");
  }
  const std::string manifest = layout.AddImage(blobs, "bench");
  blobs.clear();

  portunus::testing::FakeClock clock;
  FakeAdvisoryStore advisories;
  FeedData data;
  for (int i = 0; i < 200; ++i) {
    const std::string osv = absl::StrCat(R"({"id": "CVE-2026-)", 1000 + i,
                                         R"(", "affected": [{"package": {"ecosystem": "Debian:12", "name": "src)", i,
                                         R"("}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"},)",
                                         R"( {"fixed": "1.)", i % 17, R"(.5-1"}]}]}]})");
    if (!ParseOsv(osv, "osv", &data).ok()) return 2;
  }
  FeedSource src;
  src.name = "osv";
  src.updated = clock.Now();
  if (!advisories.UpsertRecords(src, data).ok()) return 2;
  AdvisoryCache cache(advisories);
  OciLayoutSource source(dir + "/layout");

  std::string pipeline;
  for (const std::string& f : files) absl::StrAppend(&pipeline, "zcat ", f, " | tar t >/dev/null && ");
  pipeline += "true";

  std::vector<double> scans, lists;
  size_t findings = 0;
  constexpr int kRounds = 5;
  for (int round = 0; round <= kRounds; ++round) {  // round 0 warms the page cache, not counted
    FakeScanStore store(clock);  // empty: every layer is read
    ImageScanner::Options o;
    o.scanner_version = "bench";
    ImageScanner scanner(o, source, source, store, cache, nullptr, clock);
    const Clock::time_point t0 = Clock::now();
    absl::Status s = scanner.Scan("bench/image", manifest);
    const Clock::time_point t1 = Clock::now();
    if (!s.ok()) {
      std::fprintf(stderr, "scan failed: %s\n", s.ToString().c_str());
      return 1;
    }
    const int rc = std::system(pipeline.c_str());
    const Clock::time_point t2 = Clock::now();
    if (rc != 0) {
      std::fprintf(stderr, "zcat | tar t failed: %d\n", rc);
      return 1;
    }
    absl::StatusOr<ResultPage> page = store.GetResults({manifest});
    if (!page.ok() || page->summary.status != ScanStatus::kDone) {
      std::fprintf(stderr, "no result\n");
      return 1;
    }
    findings = page->findings.size();
    if (round == 0) continue;
    scans.push_back(Seconds(t1 - t0));
    lists.push_back(Seconds(t2 - t1));
  }
  const double scan = Median(scans), list = Median(lists);
  std::printf("image: %d gzip layers, %zu entries, %.1f MiB uncompressed, %.1f MiB compressed; %zu findings\n",
              layers, entries, static_cast<double>(uncompressed) / (1 << 20),
              static_cast<double>(compressed) / (1 << 20), findings);
  std::printf("| what | median of %d (s) | min (s) | max (s) |\n|---|---|---|---|\n", kRounds);
  std::printf("| scanner: ImageScanner::Scan (read + inventory + match) | %.3f | %.3f | %.3f |\n", scan,
              *std::min_element(scans.begin(), scans.end()), *std::max_element(scans.begin(), scans.end()));
  std::printf("| `zcat LAYER | tar t` over the same layers | %.3f | %.3f | %.3f |\n", list,
              *std::min_element(lists.begin(), lists.end()), *std::max_element(lists.begin(), lists.end()));
  std::printf("ratio scan / (zcat | tar t): %.2fx (target <= 2x)\n", scan / list);
  if (std::system(absl::StrCat("rm -rf ", dir).c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  return scan / list <= 2.0 ? 0 : 3;
}

}  // namespace
}  // namespace portunus::scanner

int main(int argc, char** argv) {
  const int layers = argc > 1 ? std::atoi(argv[1]) : 5;
  const int mib = argc > 2 ? std::atoi(argv[2]) : 24;
  if (layers < 2 || mib < 1) {
    std::fprintf(stderr, "usage: %s [layers >= 2] [MiB per layer >= 1]\n", argv[0]);
    return 2;
  }
  return portunus::scanner::Run(layers, mib);
}
