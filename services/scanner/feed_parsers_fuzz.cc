// libFuzzer target for the vulnerability feed parsers (-DPORTUNUS_FUZZ=ON, clang):
//   ./build-fuzz/services/scanner/feed_parsers_fuzz -max_total_time=60
// The first byte picks the parser: OSV, the Debian security tracker (streamed) or Alpine secdb;
// the rest is the document. Parsed data must be usable: every affected entry names its
// vulnerability, ecosystem and package, and evaluating it on a version never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>

#include "services/scanner/feed_parsers.h"

namespace {

void Check(const portunus::scanner::FeedData& data) {
  for (const portunus::scanner::Affected& a : data.affected) {
    if (a.vuln_id.empty() || a.ecosystem.empty() || a.package.empty()) std::abort();
    portunus::scanner::EvaluateAffected(a, "1.0-1");
    portunus::scanner::EvaluateAffected(a, "");
  }
  for (const portunus::scanner::Vulnerability& v : data.vulnerabilities) {
    if (v.id.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string doc(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::Status status;
  switch (data[0] % 3) {
    case 0: {
      portunus::scanner::FeedData out;
      status = portunus::scanner::ParseOsv(doc, "osv", &out);
      if (status.ok()) Check(out);
      break;
    }
    case 1: {
      std::istringstream in(doc);
      absl::StatusOr<portunus::scanner::FeedData> out = portunus::scanner::ParseDebianTracker(in, "debian");
      status = out.status();
      if (out.ok()) Check(*out);
      break;
    }
    default: {
      std::string suffix;
      absl::StatusOr<portunus::scanner::FeedData> out = portunus::scanner::ParseAlpineSecdb(doc, "alpine", &suffix);
      status = out.status();
      if (out.ok()) Check(*out);
      break;
    }
  }
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) std::abort();
  portunus::scanner::DetectFeedFormat(doc).IgnoreError();  // only must not crash
  return 0;
}
