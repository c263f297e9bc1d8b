#include "services/health/health_monitor.h"

#include "absl/strings/str_cat.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/common/log.h"
#include "services/common/metrics.h"

namespace portunus::health {

struct HealthMonitor::Slot {
  std::unique_ptr<ComponentCheck> check;
  // Guarded by HealthMonitor::mu_.
  std::optional<ComponentStatus> last;  // last finished run; nullopt also for "nothing to say"
  bool reported = false;                // a run has finished at least once
  bool running = false;
  absl::Time running_since;
  // Metrics (null without a registry).
  prometheus::Gauge* up = nullptr;
  prometheus::Gauge* warning = nullptr;
  prometheus::Gauge* last_check = nullptr;
  prometheus::Histogram* duration = nullptr;
};

HealthMonitor::HealthMonitor(Options options, std::vector<std::unique_ptr<ComponentCheck>> checks,
                             const Clock& clock)
    : options_(options), clock_(clock) {
  prometheus::Family<prometheus::Gauge>* up = nullptr;
  prometheus::Family<prometheus::Gauge>* warning = nullptr;
  prometheus::Family<prometheus::Gauge>* last_check = nullptr;
  prometheus::Family<prometheus::Histogram>* duration = nullptr;
  if (options_.metrics != nullptr) {
    up = &prometheus::BuildGauge()
              .Name("portunus_health_component_up")
              .Help("1 when the component's last health check succeeded, else 0.")
              .Register(*options_.metrics);
    warning = &prometheus::BuildGauge()
                   .Name("portunus_health_component_warning")
                   .Help(
                       "1 while the component reports a warning (e.g. the catalog sync "
                       "safety brake), else 0.")
                   .Register(*options_.metrics);
    last_check = &prometheus::BuildGauge()
                      .Name("portunus_health_last_check_timestamp_seconds")
                      .Help("Unix time when the component's last health check finished.")
                      .Register(*options_.metrics);
    duration = &prometheus::BuildHistogram()
                    .Name("portunus_health_check_duration_seconds")
                    .Help("How long one health check of the component took, in seconds.")
                    .Register(*options_.metrics);
  }
  for (auto& check : checks) {
    auto slot = std::make_unique<Slot>();
    const std::string& name = check->name();
    if (up != nullptr) {
      slot->up = &up->Add({{"component", name}});
      slot->warning = &warning->Add({{"component", name}});
      slot->last_check = &last_check->Add({{"component", name}});
      slot->duration = &duration->Add({{"component", name}}, LatencyBuckets());
    }
    slot->check = std::move(check);
    slots_.push_back(std::move(slot));
  }
}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  for (auto& slot : slots_) {
    Slot* s = slot.get();
    threads_.emplace_back([this, s] { Loop(*s); });
  }
}

void HealthMonitor::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void HealthMonitor::RunOnce() {
  for (auto& slot : slots_) RunSlot(*slot);
}

void HealthMonitor::Loop(Slot& slot) {
  do {
    RunSlot(slot);
  } while (!stop_.WaitForNotificationWithTimeout(options_.interval));
}

void HealthMonitor::RunSlot(Slot& slot) {
  const absl::Time start = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    slot.running = true;
    slot.running_since = start;
  }
  const absl::Time real_start = absl::Now();
  std::optional<ComponentStatus> result = slot.check->Run(options_.timeout);
  const absl::Duration took = absl::Now() - real_start;
  const absl::Time end = clock_.Now();
  if (result) {
    result->name = slot.check->name();
    result->checked_at = end;
    result->duration = took;
  }

  bool changed = false;
  {
    absl::MutexLock lock(&mu_);
    const bool had = slot.last.has_value();
    changed = had != result.has_value() || (result && (slot.last->success != result->success ||
                                                       slot.last->warning != result->warning ||
                                                       slot.last->message != result->message));
    if (!slot.reported && result) changed = true;
    slot.last = result;
    slot.reported = true;
    slot.running = false;
  }
  if (slot.up != nullptr) {
    slot.up->Set(!result || result->success ? 1 : 0);
    slot.warning->Set(result && result->warning ? 1 : 0);
    slot.last_check->Set(absl::ToDoubleSeconds(end - absl::UnixEpoch()));
    slot.duration->Observe(absl::ToDoubleSeconds(took));
  }
  if (changed) {
    if (!result) {
      LogInfo("health component cleared", {{"component", slot.check->name()}});
    } else if (!result->success) {
      LogWarn("health component failing",
              {{"component", result->name}, {"detail", result->message}});
    } else if (result->warning) {
      LogWarn("health component warning",
              {{"component", result->name}, {"detail", result->message}});
    } else {
      LogInfo("health component ok", {{"component", result->name}, {"detail", result->message}});
    }
  }
}

HealthReport HealthMonitor::Report() const {
  const absl::Time now = clock_.Now();
  HealthReport report;
  report.components.reserve(slots_.size());
  absl::MutexLock lock(&mu_);
  for (const auto& slot : slots_) {
    const std::string& name = slot->check->name();
    if (slot->running && now - slot->running_since > options_.timeout) {
      ComponentStatus late;
      late.name = name;
      late.success = false;
      late.message = absl::StrCat(name, " check did not finish within ",
                                  absl::FormatDuration(options_.timeout));
      late.checked_at = now;
      late.duration = now - slot->running_since;
      report.components.push_back(std::move(late));
      continue;
    }
    if (!slot->reported) {
      if (slot->check->omitted_until_reported()) continue;
      ComponentStatus pending;
      pending.name = name;
      pending.success = false;
      pending.message = absl::StrCat(name, " has not been checked yet");
      report.components.push_back(std::move(pending));
      continue;
    }
    if (slot->last) report.components.push_back(*slot->last);
  }
  return report;
}

}  // namespace portunus::health
