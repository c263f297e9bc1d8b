// The `catalog_sync` component: shown only while the catalog's sync safety brake is active (the
// catalog refused to apply a sync that would remove suspiciously much, and waits for an
// operator). It is a warning: pulls and pushes still work, so Portunus stays healthy and load
// balancers keep it in rotation, but the operator sees it in /api/v1/health, cluster_status and
// the portunus_health_component_warning metric.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/health/component_check.h"

namespace portunus::health {

struct SyncBrakeState {
  bool active = false;
  std::string reason;  // why the brake engaged, when active
};

// Reads the catalog's sync brake. Thread-safe.
class SyncBrakeSource {
 public:
  virtual ~SyncBrakeSource() = default;
  // kUnavailable (or the catalog's code) when the catalog cannot be asked.
  virtual absl::StatusOr<SyncBrakeState> Get(absl::Duration timeout) = 0;
};

class SyncBrakeCheck final : public ComponentCheck {
 public:
  // The source must outlive the check.
  explicit SyncBrakeCheck(SyncBrakeSource& source) : source_(source) {}
  const std::string& name() const override { return name_; }
  bool omitted_until_reported() const override { return true; }
  // Nothing to report when the brake is off, or when the catalog cannot be asked (the `catalog`
  // component reports that outage).
  std::optional<ComponentStatus> Run(absl::Duration timeout) override;

 private:
  SyncBrakeSource& source_;
  const std::string name_ = "catalog_sync";
};

}  // namespace portunus::health
