#include "services/health/pg_replica_store.h"

#include "services/common/pg_pool.h"

namespace portunus::health {
namespace {

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

}  // namespace

absl::Status PgReplicaStore::Save(const std::vector<ReplicaRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    for (const ReplicaRecord& r : records) {
      // Two health replicas may hear the same replica: the newest heartbeat wins.
      w.exec_params(
          "INSERT INTO health.replicas (id, service, hostname, pid, address, version, started_at, "
          "last_heartbeat, ready, reason, stopped) VALUES ($1, $2, $3, $4, $5, $6, "
          "'epoch'::timestamptz + $7::bigint * interval '1 microsecond', "
          "'epoch'::timestamptz + $8::bigint * interval '1 microsecond', $9, $10, $11) "
          "ON CONFLICT (id) DO UPDATE SET service = EXCLUDED.service, "
          "hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, address = EXCLUDED.address, "
          "version = EXCLUDED.version, started_at = EXCLUDED.started_at, "
          "last_heartbeat = EXCLUDED.last_heartbeat, ready = EXCLUDED.ready, "
          "reason = EXCLUDED.reason, stopped = EXCLUDED.stopped "
          "WHERE health.replicas.last_heartbeat <= EXCLUDED.last_heartbeat",
          r.id, r.service, r.hostname, r.pid, r.address, r.version, Micros(r.started_at),
          Micros(r.last_heartbeat), r.ready, r.reason, r.stopped);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ReplicaRecord>> PgReplicaStore::List() {
  return pool_.TransactValue<std::vector<ReplicaRecord>>(
      [](pqxx::work& w) -> absl::StatusOr<std::vector<ReplicaRecord>> {
        std::vector<ReplicaRecord> out;
        for (const auto& row :
             w.exec("SELECT id, service, hostname, pid, address, version, "
                    "(extract(epoch FROM started_at) * 1e6)::bigint, "
                    "(extract(epoch FROM last_heartbeat) * 1e6)::bigint, ready, reason, stopped "
                    "FROM health.replicas ORDER BY service, id")) {
          ReplicaRecord r;
          r.id = row[0].as<std::string>();
          r.service = row[1].as<std::string>();
          r.hostname = row[2].as<std::string>();
          r.pid = row[3].as<int64_t>();
          r.address = row[4].as<std::string>();
          r.version = row[5].as<std::string>();
          r.started_at = absl::FromUnixMicros(row[6].as<int64_t>());
          r.last_heartbeat = absl::FromUnixMicros(row[7].as<int64_t>());
          r.ready = row[8].as<bool>();
          r.reason = row[9].as<std::string>();
          r.stopped = row[10].as<bool>();
          out.push_back(std::move(r));
        }
        return out;
      });
}

absl::StatusOr<int64_t> PgReplicaStore::DeleteBefore(absl::Time cutoff) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    const pqxx::result r = w.exec_params(
        "DELETE FROM health.replicas WHERE last_heartbeat < 'epoch'::timestamptz + $1::bigint * "
        "interval '1 microsecond'",
        Micros(cutoff));
    return static_cast<int64_t>(r.affected_rows());
  });
}

}  // namespace portunus::health
