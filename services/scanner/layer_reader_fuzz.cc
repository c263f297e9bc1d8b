// libFuzzer target for layer reading through libarchive (-DPORTUNUS_FUZZ=ON, clang):
//   ./build-fuzz/services/scanner/layer_reader_fuzz -max_total_time=60
// Any bytes as a layer (plain, gzip or zstd tar): the read ends with content or with a clear
// error within small limits, never a crash or unbounded memory; kept files respect the caps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "services/scanner/layer_reader.h"

namespace {

class Once : public portunus::scanner::ByteStream {
 public:
  explicit Once(absl::string_view data) : data_(data) {}
  absl::StatusOr<absl::string_view> Next() override {
    absl::string_view out = data_.substr(0, 4096);
    data_.remove_prefix(out.size());
    return out;
  }

 private:
  absl::string_view data_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  portunus::scanner::LayerLimits limits;
  limits.max_uncompressed_size = 64 << 20;
  limits.max_file_size = 1 << 20;
  limits.max_kept_size = 4 << 20;
  limits.max_entries = 10000;
  limits.bomb_check_after = 1 << 20;
  Once in(absl::string_view(reinterpret_cast<const char*>(data), size));
  absl::StatusOr<portunus::scanner::LayerContent> c = portunus::scanner::ReadLayer(in, limits);
  if (!c.ok()) {
    const absl::StatusCode code = c.status().code();
    if (code != absl::StatusCode::kInvalidArgument && code != absl::StatusCode::kResourceExhausted) std::abort();
    return 0;
  }
  int64_t kept = 0;
  for (const portunus::scanner::LayerEntry& e : c->entries) {
    if (e.data.size() > static_cast<size_t>(limits.max_file_size) && e.type == portunus::scanner::LayerEntry::Type::kFile) std::abort();
    if (e.type == portunus::scanner::LayerEntry::Type::kFile) kept += static_cast<int64_t>(e.data.size());
  }
  if (kept > limits.max_kept_size) std::abort();
  return 0;
}
