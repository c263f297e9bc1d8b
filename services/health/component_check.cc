#include "services/health/component_check.h"

namespace portunus::health {

bool HealthReport::healthy() const { return FirstFailure() == nullptr; }

const ComponentStatus* HealthReport::FirstFailure() const {
  for (const ComponentStatus& c : components) {
    if (!c.success) return &c;
  }
  return nullptr;
}

const ComponentStatus* HealthReport::Find(const std::string& name) const {
  for (const ComponentStatus& c : components) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace portunus::health
