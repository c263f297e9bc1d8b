#include "services/health/cluster_status.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace portunus::health {

ClusterStatus BuildClusterStatus(HealthReport report, std::vector<ReplicaView> replicas,
                                 const absl::Status& registry_sync,
                                 const std::vector<std::string>& expected_services,
                                 absl::Time now) {
  ClusterStatus out;
  for (const ComponentStatus& c : report.components) {
    if (!c.success) out.issues.push_back({true, c.message});
  }
  for (const ComponentStatus& c : report.components) {
    if (c.success && c.warning) out.issues.push_back({false, c.message});
  }
  if (!registry_sync.ok()) {
    out.issues.push_back(
        {false, absl::StrCat("replica registry cannot share heartbeats with other health "
                             "replicas: ",
                             registry_sync.message())});
  }

  std::map<std::string, int> ready;  // service -> ready replicas
  std::map<std::string, int> known;  // service -> replicas not stopped
  for (const ReplicaView& v : replicas) {
    if (v.state == ReplicaState::kStopped) continue;
    ++known[v.record.service];
    if (v.state == ReplicaState::kReady) ++ready[v.record.service];
  }
  for (const ReplicaView& v : replicas) {
    if (v.state != ReplicaState::kStale && v.state != ReplicaState::kNotReady) continue;
    const std::string where =
        v.record.hostname.empty() ? std::string() : absl::StrCat(" on ", v.record.hostname);
    out.issues.push_back(
        {ready[v.record.service] == 0,
         absl::StrCat(v.record.service, " replica ", v.record.id, where, ": ", v.health)});
  }
  for (const std::string& service : expected_services) {
    if (known[service] == 0) {
      out.issues.push_back({true, absl::StrCat("no replica of ", service, " is running")});
    }
  }
  out.replicas = std::move(replicas);
  out.report = std::move(report);
  out.generated_at = now;
  return out;
}

}  // namespace portunus::health
