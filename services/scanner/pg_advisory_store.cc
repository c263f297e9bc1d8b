#include "services/scanner/pg_advisory_store.h"

#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/scanner/pg_util.h"

namespace portunus::scanner {
namespace {

using json = nlohmann::json;

const char* EventName(RangeEvent::Kind k) {
  switch (k) {
    case RangeEvent::Kind::kIntroduced:
      return "introduced";
    case RangeEvent::Kind::kFixed:
      return "fixed";
    case RangeEvent::Kind::kLastAffected:
      return "last_affected";
    case RangeEvent::Kind::kLimit:
      return "limit";
  }
  return "introduced";
}

std::string RangesJson(const std::vector<AffectedRange>& ranges) {
  json out = json::array();
  for (const AffectedRange& r : ranges) {
    json events = json::array();
    for (const RangeEvent& e : r) events.push_back(json::array({EventName(e.kind), e.version}));
    out.push_back(std::move(events));
  }
  return out.dump();
}

std::vector<AffectedRange> ParseRanges(const std::string& text) {
  std::vector<AffectedRange> out;
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return out;
  for (const json& r : doc) {
    AffectedRange range;
    for (const json& e : r) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string()) continue;
      RangeEvent ev;
      const std::string kind = e[0].get<std::string>();
      ev.kind = kind == "fixed" ? RangeEvent::Kind::kFixed
                : kind == "last_affected" ? RangeEvent::Kind::kLastAffected
                : kind == "limit" ? RangeEvent::Kind::kLimit
                                  : RangeEvent::Kind::kIntroduced;
      ev.version = e[1].get<std::string>();
      range.push_back(std::move(ev));
    }
    out.push_back(std::move(range));
  }
  return out;
}

VersionScheme SchemeFromName(const std::string& name) {
  for (VersionScheme s : {VersionScheme::kDpkg, VersionScheme::kApk, VersionScheme::kRpm,
                          VersionScheme::kSemver, VersionScheme::kGeneric}) {
    if (VersionSchemeName(s) == name) return s;
  }
  return VersionScheme::kGeneric;
}

// Writes the source row, the vulnerabilities (merged: known values are never blanked) and the
// affected entries, refreshes the source's counts and bumps the generation.
absl::StatusOr<int64_t> Write(pqxx::work& w, const FeedSource& source, const FeedData& data) {
  w.exec_params(
      "INSERT INTO scanner.feed_sources (name, format, location, digest, etag, updated_at, "
      "last_error, last_attempt_at) VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::timestamptz, '', "
      "NULLIF($7, '')::timestamptz) ON CONFLICT (name) DO UPDATE SET format = EXCLUDED.format, "
      "location = EXCLUDED.location, digest = EXCLUDED.digest, etag = EXCLUDED.etag, "
      "updated_at = EXCLUDED.updated_at, last_error = '', last_attempt_at = EXCLUDED.last_attempt_at",
      source.name, std::string(FeedFormatName(source.format)), source.location, source.digest,
      source.etag, pg::Timestamp(source.updated), pg::Timestamp(source.last_attempt));

  // Several documents may describe the same vulnerability: merge before loading.
  std::map<std::string, const Vulnerability*> vulns;
  for (const Vulnerability& v : data.vulnerabilities) {
    auto [it, inserted] = vulns.emplace(v.id, &v);
    if (!inserted && v.modified > it->second->modified) it->second = &v;
  }
  w.exec("CREATE TEMP TABLE vuln_in (LIKE scanner.vulnerabilities) ON COMMIT DROP");
  {
    pqxx::stream_to copy(w, "vuln_in",
                         std::vector<std::string>{"id", "summary", "description", "severity", "cvss_vector",
                                                  "aliases", "links", "published_at", "modified_at"});
    for (const auto& [id, v] : vulns) {
      const std::string published = pg::Timestamp(v->published);
      const std::string modified = pg::Timestamp(v->modified);
      copy << std::make_tuple(v->id, v->summary, v->description, static_cast<int>(v->severity),
                              v->cvss_vector, pg::TextArray(v->aliases), pg::TextArray(v->links),
                              published.empty() ? nullptr : &published,
                              modified.empty() ? nullptr : &modified);
    }
    copy.complete();
  }
  w.exec(
      "INSERT INTO scanner.vulnerabilities AS v SELECT * FROM vuln_in ON CONFLICT (id) DO UPDATE SET "
      "summary = CASE WHEN EXCLUDED.summary <> '' THEN EXCLUDED.summary ELSE v.summary END, "
      "description = CASE WHEN EXCLUDED.description <> '' THEN EXCLUDED.description ELSE v.description END, "
      "severity = CASE WHEN EXCLUDED.severity <> 0 THEN EXCLUDED.severity ELSE v.severity END, "
      "cvss_vector = CASE WHEN EXCLUDED.cvss_vector <> '' THEN EXCLUDED.cvss_vector ELSE v.cvss_vector END, "
      "aliases = CASE WHEN cardinality(EXCLUDED.aliases) > 0 THEN EXCLUDED.aliases ELSE v.aliases END, "
      "links = CASE WHEN cardinality(v.links) = 0 THEN EXCLUDED.links ELSE v.links END, "
      "published_at = COALESCE(EXCLUDED.published_at, v.published_at), "
      "modified_at = COALESCE(EXCLUDED.modified_at, v.modified_at)");
  {
    pqxx::stream_to copy(w, "scanner.affected",
                         std::vector<std::string>{"source", "vuln_id", "ecosystem", "package", "scheme",
                                                  "ranges", "versions", "severity"});
    for (const Affected& a : data.affected) {
      copy << std::make_tuple(source.name, a.vuln_id, a.ecosystem, a.package,
                              std::string(VersionSchemeName(a.scheme)), RangesJson(a.ranges),
                              pg::TextArray(a.versions), static_cast<int>(a.severity));
    }
    copy.complete();
  }
  w.exec_params(
      "UPDATE scanner.feed_sources SET affected = (SELECT count(*) FROM scanner.affected WHERE source = $1), "
      "vulnerabilities = (SELECT count(DISTINCT vuln_id) FROM scanner.affected WHERE source = $1) "
      "WHERE name = $1",
      source.name);
  return w.exec1("UPDATE scanner.feed_state SET generation = generation + 1, updated_at = now() "
                 "WHERE id = 1 RETURNING generation")[0]
      .as<int64_t>();
}

FeedSource ReadSource(const pqxx::row& r) {
  FeedSource s;
  s.name = r[0].as<std::string>();
  ParseFeedFormat(r[1].as<std::string>(), &s.format);
  s.location = r[2].as<std::string>();
  s.digest = r[3].as<std::string>();
  s.etag = r[4].as<std::string>();
  s.updated = pg::ReadMicros(r[5]);
  s.vulnerabilities = r[6].as<int64_t>();
  s.affected = r[7].as<int64_t>();
  s.last_error = r[8].as<std::string>();
  s.last_attempt = pg::ReadMicros(r[9]);
  return s;
}

std::string SourceColumns() {
  return absl::StrCat("name, format, location, digest, etag, ", pg::MicrosOf("updated_at"),
                      ", vulnerabilities, affected, last_error, ", pg::MicrosOf("last_attempt_at"));
}

}  // namespace

absl::StatusOr<int64_t> PgAdvisoryStore::ReplaceSource(const FeedSource& source, const FeedData& data) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    w.exec_params("DELETE FROM scanner.affected WHERE source = $1", source.name);
    return Write(w, source, data);
  });
}

absl::StatusOr<int64_t> PgAdvisoryStore::UpsertRecords(const FeedSource& source, const FeedData& data) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    std::set<std::string> ids(data.withdrawn.begin(), data.withdrawn.end());
    for (const Vulnerability& v : data.vulnerabilities) ids.insert(v.id);
    w.exec_params("DELETE FROM scanner.affected WHERE source = $1 AND vuln_id = ANY($2::text[])",
                  source.name, pg::TextArray(std::vector<std::string>(ids.begin(), ids.end())));
    return Write(w, source, data);
  });
}

absl::Status PgAdvisoryStore::RecordFailure(const std::string& name, const std::string& location,
                                            const std::string& error, absl::Time at) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "INSERT INTO scanner.feed_sources (name, format, location, last_error, last_attempt_at) "
        "VALUES ($1, 'auto', $2, $3, NULLIF($4, '')::timestamptz) ON CONFLICT (name) DO UPDATE SET "
        "last_error = EXCLUDED.last_error, last_attempt_at = EXCLUDED.last_attempt_at",
        name, location, error.substr(0, 4000), pg::Timestamp(at));
    return absl::OkStatus();
  });
}

absl::StatusOr<AdvisoryIndex> PgAdvisoryStore::LoadIndex(const std::vector<std::string>& ecosystems) {
  return pool_.TransactValue<AdvisoryIndex>([&](pqxx::work& w) -> absl::StatusOr<AdvisoryIndex> {
    const bool all = ecosystems.empty();
    const std::string filter = pg::TextArray(ecosystems);
    AdvisoryIndex index;
    pqxx::result affected = w.exec_params(
        "SELECT vuln_id, source, ecosystem, package, scheme, ranges::text, versions, severity "
        "FROM scanner.affected WHERE $1 OR ecosystem = ANY($2::text[])",
        all, filter);
    for (const pqxx::row& r : affected) {
      Affected a;
      a.vuln_id = r[0].as<std::string>();
      a.source = r[1].as<std::string>();
      a.ecosystem = r[2].as<std::string>();
      a.package = r[3].as<std::string>();
      a.scheme = SchemeFromName(r[4].as<std::string>());
      a.ranges = ParseRanges(r[5].as<std::string>());
      a.versions = pg::ReadTextArray(r[6]);
      a.severity = static_cast<Severity>(r[7].as<int>());
      index.Add(std::move(a));
    }
    pqxx::result vulns = w.exec_params(
        "SELECT id, severity, aliases FROM scanner.vulnerabilities v WHERE EXISTS (SELECT 1 FROM "
        "scanner.affected a WHERE a.vuln_id = v.id AND ($1 OR a.ecosystem = ANY($2::text[])))",
        all, filter);
    for (const pqxx::row& r : vulns) {
      index.AddVulnerability(r[0].as<std::string>(), static_cast<Severity>(r[1].as<int>()),
                             pg::ReadTextArray(r[2]));
    }
    return index;
  });
}

absl::StatusOr<std::map<std::string, Vulnerability>> PgAdvisoryStore::GetVulnerabilities(
    const std::vector<std::string>& ids) {
  using Map = std::map<std::string, Vulnerability>;
  return pool_.TransactValue<Map>([&](pqxx::work& w) -> absl::StatusOr<Map> {
    Map out;
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT id, summary, description, severity, cvss_vector, aliases, links, ",
                     pg::MicrosOf("published_at"), ", ", pg::MicrosOf("modified_at"),
                     " FROM scanner.vulnerabilities WHERE id = ANY($1::text[])"),
        pg::TextArray(ids));
    for (const pqxx::row& r : rows) {
      Vulnerability v;
      v.id = r[0].as<std::string>();
      v.summary = r[1].as<std::string>();
      v.description = r[2].as<std::string>();
      v.severity = static_cast<Severity>(r[3].as<int>());
      v.cvss_vector = r[4].as<std::string>();
      v.aliases = pg::ReadTextArray(r[5]);
      v.links = pg::ReadTextArray(r[6]);
      v.published = pg::ReadMicros(r[7]);
      v.modified = pg::ReadMicros(r[8]);
      out[v.id] = std::move(v);
    }
    return out;
  });
}

absl::StatusOr<std::vector<FeedSource>> PgAdvisoryStore::ListSources() {
  using List = std::vector<FeedSource>;
  return pool_.TransactValue<List>([&](pqxx::work& w) -> absl::StatusOr<List> {
    List out;
    for (const pqxx::row& r :
         w.exec(absl::StrCat("SELECT ", SourceColumns(), " FROM scanner.feed_sources ORDER BY name"))) {
      out.push_back(ReadSource(r));
    }
    return out;
  });
}

absl::StatusOr<FeedSource> PgAdvisoryStore::GetSource(const std::string& name) {
  return pool_.TransactValue<FeedSource>([&](pqxx::work& w) -> absl::StatusOr<FeedSource> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", SourceColumns(), " FROM scanner.feed_sources WHERE name = $1"), name);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("no feed source named ", name));
    return ReadSource(r[0]);
  });
}

absl::StatusOr<int64_t> PgAdvisoryStore::Generation() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT generation FROM scanner.feed_state WHERE id = 1")[0].as<int64_t>();
  });
}

}  // namespace portunus::scanner
