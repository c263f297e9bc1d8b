// libFuzzer target for the version orderings (-DPORTUNUS_FUZZ=ON, clang):
//   ./build-fuzz/services/scanner/version_compare_fuzz -max_total_time=60
// Input: scheme byte, then two versions separated by '\n'. Every ordering must be reflexive
// and antisymmetric on any input, valid or not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "services/scanner/version_compare.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto scheme = static_cast<portunus::scanner::VersionScheme>(data[0] % 5);
  const absl::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nl = input.find('\n');
  const absl::string_view a = input.substr(0, nl);
  const absl::string_view b = nl == absl::string_view::npos ? absl::string_view() : input.substr(nl + 1);
  auto sign = [](int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); };
  const int ab = sign(portunus::scanner::CompareVersions(scheme, a, b));
  const int ba = sign(portunus::scanner::CompareVersions(scheme, b, a));
  if (ab != -ba) std::abort();
  if (portunus::scanner::CompareVersions(scheme, a, a) != 0) std::abort();
  portunus::scanner::IsValidApkVersion(a);
  portunus::scanner::ParseDpkgVersion(a).IgnoreError();
  return 0;
}
