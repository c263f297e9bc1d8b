// What one health check reports, and the interface every check implements. The health monitor
// (health_monitor.h) runs the checks in the background; requests only read the last results.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace portunus::health {

// The state of one part of Portunus, in Portus's /api/v1/health terms ({"msg", "success"}).
struct ComponentStatus {
  std::string name;      // "database", "registry", ...
  bool success = false;  // the component works
  bool warning = false;  // needs attention, but does not make Portunus unhealthy (success stays)
  std::string message;   // "database is up-to-date", "registry is not reachable: ..."
  absl::Time checked_at = absl::InfinitePast();  // InfinitePast: not checked yet
  absl::Duration duration;                       // how long the check took
};

// The last results of every check, in the checks' order.
struct HealthReport {
  std::vector<ComponentStatus> components;

  // Every component succeeded (warnings included).
  bool healthy() const;
  // The first failing component, or null when healthy.
  const ComponentStatus* FirstFailure() const;
  // The component named `name`, or null.
  const ComponentStatus* Find(const std::string& name) const;
};

// One background check. Implementations need not be thread-safe: the monitor never runs one
// check twice at the same time.
class ComponentCheck {
 public:
  virtual ~ComponentCheck() = default;
  // The component's name, stable for the process ("database").
  virtual const std::string& name() const = 0;
  // Checks the component, giving up after `timeout`. Returns std::nullopt when there is nothing
  // to report (the component is then omitted, e.g. catalog_sync without an active brake).
  // `name`, `checked_at` and `duration` of the result are filled in by the monitor.
  virtual std::optional<ComponentStatus> Run(absl::Duration timeout) = 0;
  // True for components that are only shown when they have something to say: they are omitted
  // until their first result instead of being reported as "not checked yet".
  virtual bool omitted_until_reported() const { return false; }
};

}  // namespace portunus::health
