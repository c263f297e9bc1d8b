#include "services/health/sync_brake_check.h"

#include "absl/strings/str_cat.h"

namespace portunus::health {

std::optional<ComponentStatus> SyncBrakeCheck::Run(absl::Duration timeout) {
  absl::StatusOr<SyncBrakeState> state = source_.Get(timeout);
  if (!state.ok() || !state->active) return std::nullopt;
  ComponentStatus status;
  status.success = true;
  status.warning = true;
  status.message = state->reason.empty()
                       ? std::string("catalog sync safety brake is active")
                       : absl::StrCat("catalog sync safety brake is active: ", state->reason);
  return status;
}

}  // namespace portunus::health
