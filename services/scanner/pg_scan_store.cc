#include "services/scanner/pg_scan_store.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/scanner/pg_util.h"

namespace portunus::scanner {
namespace {

using json = nlohmann::json;

constexpr char kPending[] = "state IN ('queued', 'running')";

std::string PackagesJson(const std::vector<Package>& packages) {
  json out = json::array();
  for (const Package& p : packages) {
    out.push_back({{"f", std::string(PackageFormatName(p.format))}, {"n", p.name}, {"v", p.version},
                   {"a", p.arch}, {"sn", p.source_name}, {"sv", p.source_version}});
  }
  return out.dump();
}

std::vector<Package> ParsePackages(const std::string& text) {
  std::vector<Package> out;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  for (const json& j : doc) {
    Package p;
    ParsePackageFormat(j.value("f", "dpkg"), &p.format);
    p.name = j.value("n", "");
    p.version = j.value("v", "");
    p.arch = j.value("a", "");
    p.source_name = j.value("sn", "");
    p.source_version = j.value("sv", "");
    out.push_back(std::move(p));
  }
  return out;
}

std::string OsJson(const OsRelease& os) {
  return json{{"id", os.id}, {"id_like", os.id_like}, {"version_id", os.version_id},
              {"version_codename", os.version_codename}, {"name", os.name}, {"pretty_name", os.pretty_name}}
      .dump();
}

OsRelease ParseOs(const std::string& text) {
  OsRelease os;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return os;
  os.id = j.value("id", "");
  if (j.contains("id_like") && j["id_like"].is_array()) {
    for (const json& x : j["id_like"]) {
      if (x.is_string()) os.id_like.push_back(x.get<std::string>());
    }
  }
  os.version_id = j.value("version_id", "");
  os.version_codename = j.value("version_codename", "");
  os.name = j.value("name", "");
  os.pretty_name = j.value("pretty_name", "");
  return os;
}

std::string ManifestColumns() {
  return absl::StrCat("digest, media_type, repository, children, platform, layers, os::text, ecosystem, "
                      "packages::text, databases, ", pg::MicrosOf("inventoried_at"));
}

ManifestRecord ReadManifest(const pqxx::row& r) {
  ManifestRecord m;
  m.digest = r[0].as<std::string>();
  m.media_type = r[1].as<std::string>();
  m.repository = r[2].as<std::string>();
  m.children = pg::ReadTextArray(r[3]);
  m.platform = r[4].as<std::string>();
  m.layers = pg::ReadTextArray(r[5]);
  m.os = ParseOs(r[6].as<std::string>());
  m.ecosystem = r[7].as<std::string>();
  m.packages = ParsePackages(r[8].as<std::string>());
  m.databases = pg::ReadTextArray(r[9]);
  m.inventoried_at = pg::ReadMicros(r[10]);
  return m;
}

std::string SummaryColumns() {
  return absl::StrCat("manifest_digest, status, error, counts, package_count, ecosystem, os_name, "
                      "scanner_version, feed_generation, feed_versions, ",
                      pg::MicrosOf("scanned_at"), ", ", pg::MicrosOf("matched_at"));
}

ScanSummary ReadSummary(const pqxx::row& r) {
  ScanSummary s;
  s.digest = r[0].as<std::string>();
  const std::string status = r[1].as<std::string>();
  s.status = status == "done" ? ScanStatus::kDone : status == "failed" ? ScanStatus::kFailed : ScanStatus::kWorking;
  s.error = r[2].as<std::string>();
  std::vector<int64_t> counts = pg::ReadIntArray(r[3]);
  for (size_t i = 0; i < counts.size() && i < s.counts.size(); ++i) s.counts[i] = counts[i];
  s.package_count = r[4].as<int64_t>();
  s.ecosystem = r[5].as<std::string>();
  s.os_name = r[6].as<std::string>();
  s.scanner_version = r[7].as<std::string>();
  s.feed_generation = r[8].as<int64_t>();
  s.feed_versions = r[9].as<std::string>();
  s.scanned_at = pg::ReadMicros(r[10]);
  s.matched_at = pg::ReadMicros(r[11]);
  return s;
}

constexpr char kFindingColumns[] =
    "vuln_id, severity, package, installed_version, fixed_version, source_package, format, arch";

Finding ReadFinding(const pqxx::row& r) {
  Finding f;
  f.vuln_id = r[0].as<std::string>();
  f.severity = static_cast<Severity>(r[1].as<int>());
  f.package = r[2].as<std::string>();
  f.installed_version = r[3].as<std::string>();
  f.fixed_version = r[4].as<std::string>();
  f.source_package = r[5].as<std::string>();
  ParsePackageFormat(r[6].as<std::string>(), &f.format);
  f.arch = r[7].as<std::string>();
  return f;
}

std::string SeverityArray(const std::vector<Severity>& severities) {
  std::vector<std::string> parts;
  for (Severity s : severities) parts.push_back(absl::StrCat(static_cast<int>(s)));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

}  // namespace

// ---- queue ----

absl::StatusOr<int64_t> PgScanStore::EnqueueScan(const std::string& repository, const std::string& digest,
                                                 bool force, absl::Time not_before) {
  if (repository.empty() || digest.empty()) {
    return absl::InvalidArgumentError("a scan needs a repository and a manifest digest");
  }
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    pqxx::result r = w.exec_params(
        absl::StrCat("WITH ins AS (INSERT INTO scanner.scan_jobs (kind, repository, digest, force, not_before) "
                     "VALUES ('scan', $1, $2, $3, GREATEST(now(), COALESCE(NULLIF($4, '')::timestamptz, now()))) "
                     "ON CONFLICT (kind, digest) WHERE ", kPending, " DO NOTHING RETURNING id) "
                     "SELECT id FROM ins UNION ALL SELECT id FROM scanner.scan_jobs "
                     "WHERE kind = 'scan' AND digest = $2 AND ", kPending, " LIMIT 1"),
        repository, digest, force, pg::Timestamp(not_before));
    if (r.empty()) return absl::AbortedError("scan job changed concurrently; retry");
    w.exec_params(
        "INSERT INTO scanner.results (manifest_digest, status) VALUES ($1, 'working') "
        "ON CONFLICT (manifest_digest) DO UPDATE SET status = 'working', error = ''",
        digest);
    return r[0][0].as<int64_t>();
  });
}

absl::StatusOr<int64_t> PgScanStore::EnqueueRescanAll() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    // Every manifest ever asked for, from where it was last asked for.
    pqxx::result r = w.exec(absl::StrCat(
        "WITH latest AS (SELECT DISTINCT ON (digest) repository, digest FROM scanner.scan_jobs "
        "WHERE kind = 'scan' ORDER BY digest, id DESC), "
        "ins AS (INSERT INTO scanner.scan_jobs (kind, repository, digest, force) "
        "SELECT 'scan', repository, digest, true FROM latest "
        "ON CONFLICT (kind, digest) WHERE ", kPending, " DO NOTHING RETURNING digest), "
        "upd AS (UPDATE scanner.results SET status = 'working', error = '' "
        "WHERE manifest_digest IN (SELECT digest FROM ins)) "
        "SELECT count(*) FROM ins"));
    return r[0][0].as<int64_t>();
  });
}

absl::StatusOr<int64_t> PgScanStore::EnqueueRematch() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    pqxx::result r = w.exec(absl::StrCat(
        "WITH ins AS (INSERT INTO scanner.scan_jobs (kind) VALUES ('rematch') "
        "ON CONFLICT (kind, digest) WHERE ", kPending, " DO NOTHING RETURNING id) "
        "SELECT id FROM ins UNION ALL SELECT id FROM scanner.scan_jobs WHERE kind = 'rematch' AND ",
        kPending, " LIMIT 1"));
    if (r.empty()) return absl::AbortedError("re-match job changed concurrently; retry");
    return r[0][0].as<int64_t>();
  });
}

absl::StatusOr<std::optional<ScanJob>> PgScanStore::ClaimJob(const std::string& worker, absl::Duration lease) {
  using Opt = std::optional<ScanJob>;
  return pool_.TransactValue<Opt>([&](pqxx::work& w) -> absl::StatusOr<Opt> {
    pqxx::result r = w.exec_params(
        "WITH next AS (SELECT id FROM scanner.scan_jobs WHERE (state = 'queued' AND not_before <= now()) "
        "OR (state = 'running' AND lease_until < now()) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE scanner.scan_jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = $1, "
        "started_at = now(), lease_until = now() + make_interval(secs => $2) FROM next "
        "WHERE j.id = next.id RETURNING j.id, j.kind, j.repository, j.digest, j.force, j.attempts",
        worker, absl::ToDoubleSeconds(lease));
    if (r.empty()) return Opt();
    ScanJob job;
    job.id = r[0][0].as<int64_t>();
    job.kind = r[0][1].as<std::string>() == "rematch" ? ScanJob::Kind::kRematch : ScanJob::Kind::kScan;
    job.repository = r[0][2].as<std::string>();
    job.digest = r[0][3].as<std::string>();
    job.force = r[0][4].as<bool>();
    job.attempts = r[0][5].as<int>();
    return Opt(std::move(job));
  });
}

absl::Status PgScanStore::FinishJob(int64_t id) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result r = w.exec_params(
        "UPDATE scanner.scan_jobs SET state = 'done', finished_at = now(), lease_until = NULL, "
        "last_error = '' WHERE id = $1 RETURNING id",
        id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("no scan job ", id));
    return absl::OkStatus();
  });
}

absl::Status PgScanStore::FailJob(int64_t id, const std::string& error, std::optional<absl::Time> retry_at) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result r =
        retry_at.has_value()
            ? w.exec_params("UPDATE scanner.scan_jobs SET state = 'queued', not_before = $2::timestamptz, "
                            "last_error = $3, locked_by = '', lease_until = NULL WHERE id = $1 RETURNING id",
                            id, pg::Timestamp(*retry_at), error.substr(0, 4000))
            : w.exec_params("UPDATE scanner.scan_jobs SET state = 'failed', finished_at = now(), "
                            "last_error = $2, lease_until = NULL WHERE id = $1 RETURNING id",
                            id, error.substr(0, 4000));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("no scan job ", id));
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> PgScanStore::PendingJobs() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1(absl::StrCat("SELECT count(*) FROM scanner.scan_jobs WHERE ", kPending))[0].as<int64_t>();
  });
}

// ---- layers ----

absl::StatusOr<LayerContent> PgScanStore::GetLayer(const std::string& digest) {
  return pool_.TransactValue<LayerContent>([&](pqxx::work& w) -> absl::StatusOr<LayerContent> {
    pqxx::result head = w.exec_params(
        "SELECT compressed_bytes, uncompressed_bytes, entry_count FROM scanner.layers WHERE digest = $1", digest);
    if (head.empty()) return absl::NotFoundError(absl::StrCat("layer ", digest, " was not read yet"));
    LayerContent c;
    c.compressed_bytes = head[0][0].as<int64_t>();
    c.uncompressed_bytes = head[0][1].as<int64_t>();
    c.entry_count = head[0][2].as<int64_t>();
    for (const pqxx::row& r : w.exec_params(
             "SELECT type, path, data FROM scanner.layer_entries WHERE layer_digest = $1 ORDER BY seq", digest)) {
      LayerEntry e;
      ParseLayerEntryType(r[0].as<std::string>(), &e.type);
      e.path = r[1].as<std::string>();
      e.data = pqxx::binarystring(r[2]).str();
      c.entries.push_back(std::move(e));
    }
    return c;
  });
}

absl::Status PgScanStore::PutLayer(const std::string& digest, const LayerContent& content) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result r = w.exec_params(
        "INSERT INTO scanner.layers (digest, compressed_bytes, uncompressed_bytes, entry_count) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING RETURNING digest",
        digest, content.compressed_bytes, content.uncompressed_bytes, content.entry_count);
    if (r.empty()) return absl::OkStatus();  // another scan stored the same layer first
    int seq = 0;
    for (const LayerEntry& e : content.entries) {
      w.exec_params("INSERT INTO scanner.layer_entries (layer_digest, seq, type, path, data) "
                    "VALUES ($1, $2, $3, $4, $5)",
                    digest, seq++, std::string(LayerEntryTypeName(e.type)), e.path,
                    pqxx::binarystring(e.data.data(), e.data.size()));
    }
    return absl::OkStatus();
  });
}

// ---- manifests ----

absl::StatusOr<ManifestRecord> PgScanStore::GetManifest(const std::string& digest) {
  return pool_.TransactValue<ManifestRecord>([&](pqxx::work& w) -> absl::StatusOr<ManifestRecord> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", ManifestColumns(), " FROM scanner.manifests WHERE digest = $1"), digest);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("manifest ", digest, " has no inventory"));
    return ReadManifest(r[0]);
  });
}

absl::Status PgScanStore::PutManifest(const ManifestRecord& m) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO scanner.manifests (digest, media_type, repository, children, platform, layers, os, "
        "ecosystem, packages, databases, inventoried_at) VALUES ($1, $2, $3, $4::text[], $5, $6::text[], "
        "$7::jsonb, $8, $9::jsonb, $10::text[], NULLIF($11, '')::timestamptz) ON CONFLICT (digest) DO UPDATE SET "
        "media_type = EXCLUDED.media_type, repository = EXCLUDED.repository, children = EXCLUDED.children, "
        "platform = EXCLUDED.platform, layers = EXCLUDED.layers, os = EXCLUDED.os, ecosystem = EXCLUDED.ecosystem, "
        "packages = EXCLUDED.packages, databases = EXCLUDED.databases, inventoried_at = EXCLUDED.inventoried_at",
        m.digest, m.media_type, m.repository, pg::TextArray(m.children), m.platform, pg::TextArray(m.layers),
        OsJson(m.os), m.ecosystem, PackagesJson(m.packages), pg::TextArray(m.databases),
        pg::Timestamp(m.inventoried_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ManifestRecord>> PgScanStore::ListImageManifests(const std::string& after, int64_t limit) {
  using List = std::vector<ManifestRecord>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    List out;
    for (const pqxx::row& r : w.exec_params(
             absl::StrCat("SELECT ", ManifestColumns(), " FROM scanner.manifests WHERE digest > $1 "
                          "AND cardinality(children) = 0 ORDER BY digest LIMIT $2"),
             after, limit)) {
      out.push_back(ReadManifest(r));
    }
    return out;
  });
}

absl::StatusOr<std::vector<std::string>> PgScanStore::IndexesContaining(const std::string& child) {
  using List = std::vector<std::string>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    List out;
    for (const pqxx::row& r : w.exec_params(
             "SELECT digest FROM scanner.manifests WHERE children @> ARRAY[$1]::text[] ORDER BY digest", child)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

// ---- results ----

absl::Status PgScanStore::PutResult(const ScanSummary& s, const std::vector<Finding>& findings) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    std::vector<std::string> counts;
    for (int64_t c : s.counts) counts.push_back(absl::StrCat(c));
    w.exec_params(
        "INSERT INTO scanner.results (manifest_digest, status, error, counts, package_count, ecosystem, os_name, "
        "scanner_version, feed_generation, feed_versions, has_findings, scanned_at, matched_at) "
        "VALUES ($1, 'done', '', $2::bigint[], $3, $4, $5, $6, $7, $8, true, NULLIF($9, '')::timestamptz, "
        "NULLIF($10, '')::timestamptz) ON CONFLICT (manifest_digest) DO UPDATE SET status = 'done', error = '', "
        "counts = EXCLUDED.counts, package_count = EXCLUDED.package_count, ecosystem = EXCLUDED.ecosystem, "
        "os_name = EXCLUDED.os_name, scanner_version = EXCLUDED.scanner_version, "
        "feed_generation = EXCLUDED.feed_generation, feed_versions = EXCLUDED.feed_versions, has_findings = true, "
        "scanned_at = EXCLUDED.scanned_at, matched_at = EXCLUDED.matched_at",
        s.digest, absl::StrCat("{", absl::StrJoin(counts, ","), "}"), s.package_count, s.ecosystem, s.os_name,
        s.scanner_version, s.feed_generation, s.feed_versions, pg::Timestamp(s.scanned_at),
        pg::Timestamp(s.matched_at));
    w.exec_params("DELETE FROM scanner.result_vulns WHERE manifest_digest = $1", s.digest);
    pqxx::stream_to copy(w, "scanner.result_vulns",
                         std::vector<std::string>{"manifest_digest", "vuln_id", "severity", "package",
                                                  "installed_version", "fixed_version", "source_package",
                                                  "format", "arch"});
    for (const Finding& f : findings) {
      copy << std::make_tuple(s.digest, f.vuln_id, static_cast<int>(f.severity), f.package, f.installed_version,
                              f.fixed_version, f.source_package, std::string(PackageFormatName(f.format)), f.arch);
    }
    copy.complete();
    return absl::OkStatus();
  });
}

absl::Status PgScanStore::PutFailure(const std::string& digest, const std::string& error, absl::Time at) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO scanner.results (manifest_digest, status, error, scanned_at) "
        "VALUES ($1, 'failed', $2, NULLIF($3, '')::timestamptz) ON CONFLICT (manifest_digest) DO UPDATE SET "
        "status = 'failed', error = EXCLUDED.error, scanned_at = EXCLUDED.scanned_at",
        digest, error.substr(0, 4000), pg::Timestamp(at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<Finding>> PgScanStore::GetFindings(const std::string& digest) {
  using List = std::vector<Finding>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    pqxx::result has = w.exec_params(
        "SELECT has_findings FROM scanner.results WHERE manifest_digest = $1", digest);
    if (has.empty() || !has[0][0].as<bool>()) {
      return absl::NotFoundError(absl::StrCat("manifest ", digest, " has no scan result"));
    }
    List out;
    for (const pqxx::row& r : w.exec_params(
             absl::StrCat("SELECT ", kFindingColumns, " FROM scanner.result_vulns WHERE manifest_digest = $1 "
                          "ORDER BY severity DESC, vuln_id, package, arch, installed_version"),
             digest)) {
      out.push_back(ReadFinding(r));
    }
    return out;
  });
}

absl::StatusOr<ResultPage> PgScanStore::GetResults(const ResultPageRequest& req) {
  return pool_.TransactValue<ResultPage>([&](pqxx::work& w) -> absl::StatusOr<ResultPage> {
    pqxx::result head = w.exec_params(
        absl::StrCat("SELECT ", SummaryColumns(), " FROM scanner.results WHERE manifest_digest = $1"), req.digest);
    if (head.empty()) return absl::NotFoundError(absl::StrCat("manifest ", req.digest, " was never scanned"));
    ResultPage page;
    page.summary = ReadSummary(head[0]);
    const std::string filter =
        "manifest_digest = $1 AND severity >= $2 AND (cardinality($3::smallint[]) = 0 OR severity = ANY($3::smallint[]))";
    const std::string sevs = SeverityArray(req.severities);
    page.total = w.exec_params1(absl::StrCat("SELECT count(*) FROM scanner.result_vulns WHERE ", filter),
                                req.digest, static_cast<int>(req.min_severity), sevs)[0]
                     .as<int64_t>();
    for (const pqxx::row& r : w.exec_params(
             absl::StrCat("SELECT ", kFindingColumns, " FROM scanner.result_vulns WHERE ", filter,
                          " ORDER BY severity DESC, vuln_id, package, arch, installed_version LIMIT $4 OFFSET $5"),
             req.digest, static_cast<int>(req.min_severity), sevs, req.limit, req.offset)) {
      page.findings.push_back(ReadFinding(r));
    }
    return page;
  });
}

absl::StatusOr<std::vector<ScanSummary>> PgScanStore::GetSummaries(const std::vector<std::string>& digests) {
  using List = std::vector<ScanSummary>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    std::map<std::string, ScanSummary> found;
    for (const pqxx::row& r : w.exec_params(
             absl::StrCat("SELECT ", SummaryColumns(), " FROM scanner.results WHERE manifest_digest = ANY($1::text[])"),
             pg::TextArray(digests))) {
      ScanSummary s = ReadSummary(r);
      found[s.digest] = std::move(s);
    }
    List out;
    for (const std::string& d : digests) {
      auto it = found.find(d);
      if (it != found.end()) {
        out.push_back(it->second);
      } else {
        ScanSummary s;
        s.digest = d;
        out.push_back(std::move(s));
      }
    }
    return out;
  });
}

absl::Status PgScanStore::RecordRematchChanges(int64_t generation, const std::vector<RematchChange>& changes) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    for (const RematchChange& c : changes) {
      w.exec_params("INSERT INTO scanner.rematch_changes (generation, manifest_digest, gained) VALUES ($1, $2, $3::text[])",
                    generation, c.digest, pg::TextArray(c.gained));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<RematchChange>> PgScanStore::ListRematchChanges(int64_t generation) {
  using List = std::vector<RematchChange>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    List out;
    for (const pqxx::row& r : w.exec_params(
             "SELECT manifest_digest, gained FROM scanner.rematch_changes WHERE generation = $1 ORDER BY id",
             generation)) {
      out.push_back({r[0].as<std::string>(), pg::ReadTextArray(r[1])});
    }
    return out;
  });
}

}  // namespace portunus::scanner
