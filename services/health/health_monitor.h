// HealthMonitor runs the component checks in the background, each on its own thread every
// interval, and keeps their last results, so answering "is Portunus healthy?" costs a copy and
// never touches the database or the registry (Portus ran `rake db:migrate:status` on every
// /api/v1/health call). A slow check cannot delay the others, and one that has not finished
// within its timeout is reported as failing until it does.
//
// Exports, per component: portunus_health_component_up (1/0), portunus_health_component_warning
// (1/0), portunus_health_check_duration_seconds (histogram) and
// portunus_health_last_check_timestamp_seconds.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/health/component_check.h"

namespace prometheus {
class Registry;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace portunus::health {

// Thread-safe. Owns the checks.
class HealthMonitor {
 public:
  struct Options {
    absl::Duration interval = absl::Seconds(5);  // between the end of one run and the next
    absl::Duration timeout = absl::Seconds(3);   // per check
    prometheus::Registry* metrics = nullptr;     // optional
  };

  HealthMonitor(Options options, std::vector<std::unique_ptr<ComponentCheck>> checks,
                const Clock& clock);
  ~HealthMonitor();  // stops the threads
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Starts one thread per check: each runs its check at once, then every interval.
  void Start();
  // Stops the threads; a check in progress is waited for (checks honour their timeout).
  void Stop();

  // Runs every check once on the caller's thread, in order (tests; no threads needed).
  void RunOnce();

  // The last results, in the checks' order. A check that never finished is reported as
  // "<name> has not been checked yet"; one running for longer than the timeout as
  // "<name> check did not finish within <timeout>". Cheap: no check runs here.
  HealthReport Report() const;

  const Options& options() const { return options_; }

 private:
  struct Slot;
  void RunSlot(Slot& slot);
  void Loop(Slot& slot);

  const Options options_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Slot>> slots_;
  mutable absl::Mutex mu_;
  absl::Notification stop_;
  std::vector<std::thread> threads_;
};

}  // namespace portunus::health
