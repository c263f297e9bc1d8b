#include "services/scanner/scanner_module.h"

namespace portunus::scanner {
namespace {

class ScannerModule final : public ServiceModule {};

}  // namespace

void BindScannerConfig(ConfigBinder* binder, ScannerConfig* /*config*/) { binder->OwnSection("scanner"); }

absl::StatusOr<std::unique_ptr<ServiceModule>> CreateModule(ServiceRuntime& /*runtime*/,
                                                            const ScannerConfig& /*config*/) {
  return std::make_unique<ScannerModule>();
}

}  // namespace portunus::scanner
