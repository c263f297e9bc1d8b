// libFuzzer target for the dpkg status parser (built only with -DPORTUNUS_FUZZ=ON and clang):
//   ./build-fuzz/services/scanner/dpkg_status_fuzz -max_total_time=60
// The first byte picks the flavour (status or distroless status.d); every package returned must
// have a name and a version dpkg accepts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "services/scanner/dpkg_status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  portunus::scanner::DpkgParseOptions options;
  options.distroless = data[0] & 1;
  const absl::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<std::vector<portunus::scanner::Package>> pkgs = portunus::scanner::ParseDpkgStatus(input, options);
  if (!pkgs.ok()) {
    if (pkgs.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const portunus::scanner::Package& p : *pkgs) {
    if (p.name.empty() || p.version.empty() || p.source_name.empty() ||
        !portunus::scanner::ParseDpkgVersion(p.version).ok()) {
      std::fprintf(stderr, "invalid package returned: %s %s\n", p.name.c_str(), p.version.c_str());
      std::abort();
    }
  }
  return 0;
}
