#include "services/scanner/scan_store.h"

namespace portunus::scanner {

absl::string_view ScanStatusName(ScanStatus s) {
  switch (s) {
    case ScanStatus::kNone:
      return "none";
    case ScanStatus::kWorking:
      return "working";
    case ScanStatus::kDone:
      return "done";
    case ScanStatus::kFailed:
      return "failed";
  }
  return "none";
}

}  // namespace portunus::scanner
