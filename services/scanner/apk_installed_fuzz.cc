// libFuzzer target for the apk installed-database parser (-DPORTUNUS_FUZZ=ON, clang):
//   ./build-fuzz/services/scanner/apk_installed_fuzz -max_total_time=60
// Every package returned must have a name and a version apk accepts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "services/scanner/apk_installed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<portunus::scanner::Package>> pkgs = portunus::scanner::ParseApkInstalled(input);
  if (!pkgs.ok()) {
    if (pkgs.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  for (const portunus::scanner::Package& p : *pkgs) {
    if (p.name.empty() || !portunus::scanner::IsValidApkVersion(p.version) || p.source_name.empty()) std::abort();
  }
  return 0;
}
