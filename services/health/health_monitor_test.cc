#include "services/health/health_monitor.h"

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::health {
namespace {

using ::portunus::testing::FakeClock;

// A check whose next result the test sets; it can also block until released, to simulate a
// check that hangs past its timeout.
class ScriptedCheck final : public ComponentCheck {
 public:
  ScriptedCheck(std::string name, bool optional = false)
      : name_(std::move(name)), optional_(optional) {}
  const std::string& name() const override { return name_; }
  bool omitted_until_reported() const override { return optional_; }
  std::optional<ComponentStatus> Run(absl::Duration timeout) override {
    timeout_ = timeout;
    ++runs_;
    if (block_) {
      entered_.Notify();
      release_.WaitForNotification();
    }
    return next_;
  }
  void SetNext(std::optional<ComponentStatus> next) { next_ = std::move(next); }
  void BlockNextRun() { block_ = true; }
  absl::Notification& entered() { return entered_; }
  absl::Notification& release() { return release_; }
  int runs() const { return runs_; }
  absl::Duration timeout() const { return timeout_; }

 private:
  const std::string name_;
  const bool optional_;
  std::optional<ComponentStatus> next_;
  bool block_ = false;
  absl::Notification entered_, release_;
  int runs_ = 0;
  absl::Duration timeout_;
};

ComponentStatus Status(bool success, std::string msg, bool warning = false) {
  ComponentStatus s;
  s.success = success;
  s.warning = warning;
  s.message = std::move(msg);
  return s;
}

double Value(prometheus::Registry& registry, const std::string& name,
             const std::string& component) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      for (const auto& l : m.label) {
        if (l.name == "component" && l.value == component) {
          return family.type == prometheus::MetricType::Histogram
                     ? static_cast<double>(m.histogram.sample_count)
                     : m.gauge.value;
        }
      }
    }
  }
  return -1;
}

TEST(HealthMonitorTest, ReportsTheLastResultsInOrder) {
  FakeClock clock;
  auto db = std::make_unique<ScriptedCheck>("database");
  auto reg = std::make_unique<ScriptedCheck>("registry");
  ScriptedCheck* db_ptr = db.get();
  ScriptedCheck* reg_ptr = reg.get();
  std::vector<std::unique_ptr<ComponentCheck>> checks;
  checks.push_back(std::move(db));
  checks.push_back(std::move(reg));
  HealthMonitor monitor({absl::Seconds(5), absl::Seconds(3), nullptr}, std::move(checks), clock);

  // Before the first run: failing, and saying so.
  HealthReport before = monitor.Report();
  ASSERT_EQ(before.components.size(), 2u);
  EXPECT_FALSE(before.healthy());
  EXPECT_EQ(before.components[0].message, "database has not been checked yet");
  EXPECT_EQ(before.components[1].message, "registry has not been checked yet");

  db_ptr->SetNext(Status(true, "database is up-to-date"));
  reg_ptr->SetNext(Status(false, "registry is not reachable: Connection refused"));
  monitor.RunOnce();
  EXPECT_EQ(db_ptr->timeout(), absl::Seconds(3));
  HealthReport report = monitor.Report();
  ASSERT_EQ(report.components.size(), 2u);
  EXPECT_EQ(report.components[0].name, "database");
  EXPECT_TRUE(report.components[0].success);
  EXPECT_EQ(report.components[0].checked_at, clock.Now());
  EXPECT_EQ(report.components[1].name, "registry");
  EXPECT_FALSE(report.healthy());
  ASSERT_NE(report.FirstFailure(), nullptr);
  EXPECT_EQ(report.FirstFailure()->message, "registry is not reachable: Connection refused");

  reg_ptr->SetNext(Status(true, "registry is reachable"));
  clock.Advance(absl::Seconds(5));
  monitor.RunOnce();
  report = monitor.Report();
  EXPECT_TRUE(report.healthy());
  EXPECT_EQ(report.Find("registry")->message, "registry is reachable");
  EXPECT_EQ(report.Find("registry")->checked_at, clock.Now());
  EXPECT_EQ(report.Find("nope"), nullptr);
}

TEST(HealthMonitorTest, OptionalComponentsAppearOnlyWhileTheyHaveSomethingToSay) {
  FakeClock clock;
  auto brake = std::make_unique<ScriptedCheck>("catalog_sync", /*optional=*/true);
  ScriptedCheck* brake_ptr = brake.get();
  std::vector<std::unique_ptr<ComponentCheck>> checks;
  checks.push_back(std::move(brake));
  HealthMonitor monitor({}, std::move(checks), clock);
  EXPECT_TRUE(monitor.Report().components.empty());
  monitor.RunOnce();
  EXPECT_TRUE(monitor.Report().components.empty());
  EXPECT_TRUE(monitor.Report().healthy());

  brake_ptr->SetNext(Status(true, "catalog sync safety brake is active", /*warning=*/true));
  monitor.RunOnce();
  HealthReport report = monitor.Report();
  ASSERT_EQ(report.components.size(), 1u);
  EXPECT_TRUE(report.components[0].warning);
  EXPECT_TRUE(report.healthy());  // a warning does not make Portunus unhealthy

  brake_ptr->SetNext(std::nullopt);
  monitor.RunOnce();
  EXPECT_TRUE(monitor.Report().components.empty());
}

TEST(HealthMonitorTest, AHungCheckIsReportedAfterItsTimeoutAndRecovers) {
  FakeClock clock;
  auto db = std::make_unique<ScriptedCheck>("database");
  ScriptedCheck* db_ptr = db.get();
  db_ptr->SetNext(Status(true, "database is up-to-date"));
  db_ptr->BlockNextRun();
  std::vector<std::unique_ptr<ComponentCheck>> checks;
  checks.push_back(std::move(db));
  // A long interval: only the first run happens during the test.
  HealthMonitor monitor({absl::Hours(1), absl::Seconds(3), nullptr}, std::move(checks), clock);
  monitor.Start();
  db_ptr->entered().WaitForNotification();

  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(monitor.Report().components[0].message, "database has not been checked yet");
  clock.Advance(absl::Seconds(2));
  HealthReport late = monitor.Report();
  EXPECT_FALSE(late.healthy());
  EXPECT_EQ(late.components[0].message, "database check did not finish within 3s");

  db_ptr->release().Notify();
  monitor.Stop();
  EXPECT_EQ(monitor.Report().components[0].message, "database is up-to-date");
  EXPECT_EQ(db_ptr->runs(), 1);
}

TEST(HealthMonitorTest, ExportsComponentGauges) {
  FakeClock clock;
  prometheus::Registry registry;
  auto db = std::make_unique<ScriptedCheck>("database");
  auto brake = std::make_unique<ScriptedCheck>("catalog_sync", true);
  ScriptedCheck* db_ptr = db.get();
  ScriptedCheck* brake_ptr = brake.get();
  std::vector<std::unique_ptr<ComponentCheck>> checks;
  checks.push_back(std::move(db));
  checks.push_back(std::move(brake));
  HealthMonitor monitor({absl::Seconds(5), absl::Seconds(3), &registry}, std::move(checks), clock);

  db_ptr->SetNext(Status(false, "cannot connect to database: refused"));
  brake_ptr->SetNext(Status(true, "catalog sync safety brake is active", true));
  monitor.RunOnce();
  EXPECT_EQ(Value(registry, "portunus_health_component_up", "database"), 0);
  EXPECT_EQ(Value(registry, "portunus_health_component_up", "catalog_sync"), 1);
  EXPECT_EQ(Value(registry, "portunus_health_component_warning", "catalog_sync"), 1);
  EXPECT_EQ(Value(registry, "portunus_health_component_warning", "database"), 0);
  EXPECT_EQ(Value(registry, "portunus_health_check_duration_seconds", "database"), 1);
  EXPECT_EQ(Value(registry, "portunus_health_last_check_timestamp_seconds", "database"),
            absl::ToDoubleSeconds(clock.Now() - absl::UnixEpoch()));

  db_ptr->SetNext(Status(true, "database is up-to-date"));
  brake_ptr->SetNext(std::nullopt);
  monitor.RunOnce();
  EXPECT_EQ(Value(registry, "portunus_health_component_up", "database"), 1);
  EXPECT_EQ(Value(registry, "portunus_health_component_warning", "catalog_sync"), 0);
  EXPECT_EQ(Value(registry, "portunus_health_check_duration_seconds", "database"), 2);
}

}  // namespace
}  // namespace portunus::health
