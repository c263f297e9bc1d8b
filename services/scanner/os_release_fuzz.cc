// libFuzzer target for the os-release parser (-DPORTUNUS_FUZZ=ON, clang):
//   ./build-fuzz/services/scanner/os_release_fuzz -max_total_time=60
// A parsed os-release always has an ID, and its ecosystem key never crashes the distro mapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "services/scanner/distro.h"
#include "services/scanner/os_release.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<portunus::scanner::OsRelease> os = portunus::scanner::ParseOsRelease(input);
  if (!os.ok()) {
    if (os.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (os->id.empty()) std::abort();
  if (portunus::scanner::EcosystemForOs(*os).empty()) std::abort();
  return 0;
}
