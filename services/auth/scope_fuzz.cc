// libFuzzer target for the scope parser (built only with -DPORTUNUS_FUZZ=ON and clang):
//   ./build-fuzz/services/auth/scope_fuzz -max_total_time=60
// The input is split on '\n' into `scope` values; the last line is an arbitrary grant.
// Any invariant violation (scope_checks.h) aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "services/auth/scope_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> values = absl::StrSplit(input, '\n');
  std::vector<std::string> granted = absl::StrSplit(values.back(), ',');
  values.pop_back();
  const std::string problem = portunus::auth::CheckScopeInvariants(values, granted);
  if (!problem.empty()) {
    std::fprintf(stderr, "scope invariant violated: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
