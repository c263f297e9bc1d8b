#include "services/catalog/pg_catalog_store.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/status_macros.h"

namespace portunus::catalog {
namespace {

// ----- value conversions -----

// Timestamps travel as RFC 3339 text ("" = NULL) and come back as epoch microseconds.
std::string Ts(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  if (t == absl::InfiniteFuture()) return "infinity";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

// NULL for NULL and for +/-infinity.
constexpr char kMicros[] =
    "(CASE WHEN isfinite(%s) THEN (extract(epoch from %s) * 1000000)::bigint END)";
std::string Micros(const std::string& column) {
  return absl::StrReplaceAll(kMicros, {{"%s", column}});
}

absl::Time TimeAt(const pqxx::field& f) {
  if (f.is_null()) return absl::InfinitePast();
  return absl::FromUnixMicros(f.as<int64_t>());
}

// A PostgreSQL array literal of text values (any container of strings). Every element is
// quoted, so "NULL", "" and separators stay text. Values must not hold NUL bytes (no text
// can; the notification parser replaces them).
template <typename Strings>
std::string TextArray(const Strings& values) {
  std::string out = "{";
  for (const std::string& v : values) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char c : v) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string LikePattern(const std::string& needle) {
  return absl::StrCat("%", absl::StrReplaceAll(needle, {{"\\", "\\\\"}, {"%", "\\%"}, {"_", "\\_"}}),
                      "%");
}

nlohmann::json PlatformsJson(const std::vector<Platform>& ps) {
  nlohmann::json a = nlohmann::json::array();
  for (const Platform& p : ps) {
    a.push_back({{"os", p.os}, {"architecture", p.architecture}, {"variant", p.variant},
                 {"digest", p.digest}});
  }
  return a;
}

nlohmann::json LayersJson(const std::vector<Layer>& ls) {
  nlohmann::json a = nlohmann::json::array();
  for (const Layer& l : ls) a.push_back({{"digest", l.digest}, {"size", l.size}, {"media_type", l.media_type}});
  return a;
}

std::string Str(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

void ParseManifestColumns(const std::string& platforms, const std::string& layers,
                          const std::string& children, ManifestInfo* m) {
  nlohmann::json p = nlohmann::json::parse(platforms, nullptr, false);
  if (p.is_array()) {
    for (const auto& e : p) {
      m->platforms.push_back(Platform{Str(e, "os"), Str(e, "architecture"), Str(e, "variant"),
                                      Str(e, "digest")});
    }
  }
  nlohmann::json l = nlohmann::json::parse(layers, nullptr, false);
  if (l.is_array()) {
    for (const auto& e : l) {
      m->layers.push_back(Layer{Str(e, "digest"), e.value("size", int64_t{0}), Str(e, "media_type")});
    }
  }
  nlohmann::json c = nlohmann::json::parse(children, nullptr, false);
  if (c.is_array()) {
    for (const auto& e : c) {
      if (e.is_string()) m->children.push_back(e.get<std::string>());
    }
  }
}

// Columns of a manifest row `m` in the order ReadManifest expects.
std::string ManifestColumns(const std::string& m) {
  return absl::StrCat(m, ".digest, ", m, ".media_type, ", m, ".size, ", m, ".config_digest, ",
                      Micros(m + ".image_created"), ", ", m, ".platforms::text, ", m,
                      ".layers::text, ", m, ".children::text");
}

ManifestInfo ReadManifest(const pqxx::row& r, int at) {
  ManifestInfo m;
  if (r[at].is_null()) return m;
  m.digest = r[at].as<std::string>();
  m.media_type = r[at + 1].as<std::string>();
  m.size = r[at + 2].as<int64_t>();
  m.config_digest = r[at + 3].as<std::string>();
  m.image_created = TimeAt(r[at + 4]);
  ParseManifestColumns(r[at + 5].as<std::string>(), r[at + 6].as<std::string>(),
                       r[at + 7].as<std::string>(), &m);
  return m;
}

const std::string& RepositoryColumns() {
  static const std::string* const kCols = new std::string(absl::StrCat(
      "r.id, r.name, r.namespace, r.namespace_id, ", Micros("r.created_at"), ", ",
      Micros("r.updated_at"),
      ", (SELECT count(*) FROM catalog.tags c WHERE c.repository_id = r.id)",
      ", (SELECT coalesce(string_agg(DISTINCT c.digest, ',' ORDER BY c.digest), '')"
      " FROM catalog.tags c WHERE c.repository_id = r.id)"));
  return *kCols;
}

RepositoryRecord ReadRepository(const pqxx::row& r) {
  RepositoryRecord rec;
  rec.id = r[0].as<int64_t>();
  rec.full_name = r[1].as<std::string>();
  rec.namespace_name = r[2].as<std::string>();
  rec.namespace_id = r[3].as<int64_t>();
  rec.created_at = TimeAt(r[4]);
  rec.updated_at = TimeAt(r[5]);
  rec.tags_count = r[6].as<int64_t>();
  rec.digests = absl::StrSplit(r[7].as<std::string>(), ',', absl::SkipEmpty());
  return rec;
}

const std::string& TagColumns() {
  static const std::string* const kCols = new std::string(absl::StrCat(
      "t.id, t.repository_id, r.name, r.namespace, t.name, t.digest, t.author, ",
      Micros("t.created_at"), ", ", Micros("t.updated_at"), ", ", Micros("t.pulled_at"), ", ",
      ManifestColumns("m")));
  return *kCols;
}

constexpr char kTagJoins[] =
    " FROM catalog.tags t JOIN catalog.repositories r ON r.id = t.repository_id"
    " LEFT JOIN catalog.manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest";

TagRecord ReadTag(const pqxx::row& r) {
  TagRecord t;
  t.id = r[0].as<int64_t>();
  t.repository_id = r[1].as<int64_t>();
  t.repository = r[2].as<std::string>();
  t.namespace_name = r[3].as<std::string>();
  t.name = r[4].as<std::string>();
  t.digest = r[5].as<std::string>();
  t.author = r[6].as<std::string>();
  t.created_at = TimeAt(r[7]);
  t.updated_at = TimeAt(r[8]);
  t.pulled_at = TimeAt(r[9]);
  t.manifest = ReadManifest(r, 10);
  return t;
}

absl::StatusOr<std::string> OrderBy(const PageRequest& page, const std::map<std::string, std::string>& allowed,
                                    const std::string& default_column, const std::string& tiebreak) {
  std::string column = default_column;
  if (!page.sort_attr.empty()) {
    auto it = allowed.find(page.sort_attr);
    if (it == allowed.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : allowed) names.push_back(k);
      return absl::InvalidArgumentError(absl::StrCat("sort_attr: must be one of ",
                                                     absl::StrJoin(names, ", ")));
    }
    column = it->second;
  }
  return absl::StrCat(" ORDER BY ", column, page.descending ? " DESC" : " ASC", ", ", tiebreak,
                      page.descending ? " DESC" : " ASC");
}

std::string LimitOffset(const PageRequest& page) {
  if (page.all) return "";
  return absl::StrCat(" LIMIT ", page.per_page, " OFFSET ", page.Offset());
}

// ----- the writer -----

class PgCatalogWriter final : public CatalogWriter {
 public:
  explicit PgCatalogWriter(pqxx::transaction_base& w) : w_(w) {}

  absl::StatusOr<std::optional<int64_t>> FindRepository(const std::string& repository) override {
    pqxx::result r = w_.exec_params("SELECT id FROM catalog.repositories WHERE name = $1", repository);
    if (r.empty()) return std::optional<int64_t>();
    return std::optional<int64_t>(r[0][0].as<int64_t>());
  }

  absl::StatusOr<std::optional<ManifestInfo>> FindManifest(const std::string& repository,
                                                           const std::string& digest) override {
    // Looked up for every push event applied: prepared.
    static const std::string* const kSql = new std::string(absl::StrCat(
        "SELECT ", ManifestColumns("m"),
        " FROM catalog.manifests m JOIN catalog.repositories r ON r.id = m.repository_id"
        " WHERE r.name = $1 AND m.digest = $2"));
    pqxx::result r = ExecPrepared(w_, "catalog_find_manifest", *kSql, repository, digest);
    if (r.empty()) return std::optional<ManifestInfo>();
    return std::optional<ManifestInfo>(ReadManifest(r[0], 0));
  }

  absl::StatusOr<TagWrite> PutTag(const PutTagRequest& q) override {
    // The repository row is locked first: writers of one repository (events, sync, deletes)
    // are serialized, so the checks below stay true until commit.
    pqxx::result repo = w_.exec_params(
        "SELECT id FROM catalog.repositories WHERE name = $1 FOR UPDATE", q.repository);
    int64_t repo_id;
    if (repo.empty()) {
      if (q.expected_version.has_value() && *q.expected_version > 0) return TagWrite::kSkippedNewer;
      pqxx::result created = w_.exec_params(
          "INSERT INTO catalog.repositories (name, namespace, namespace_id, created_at, updated_at)"
          " VALUES ($1, $2, $3, $4::timestamptz, $4::timestamptz)"
          " ON CONFLICT (name) DO NOTHING RETURNING id",
          q.repository, q.namespace_name, q.namespace_id, Ts(q.at));
      if (created.empty()) {
        created = w_.exec_params(
            "SELECT id FROM catalog.repositories WHERE name = $1 FOR UPDATE", q.repository);
      }
      repo_id = created[0][0].as<int64_t>();
    } else {
      repo_id = repo[0][0].as<int64_t>();
    }
    pqxx::result tag = w_.exec_params(
        "SELECT digest, version FROM catalog.tags WHERE repository_id = $1 AND name = $2 FOR UPDATE",
        repo_id, q.tag);
    if (q.expected_version.has_value()) {
      const int64_t current = tag.empty() ? 0 : tag[0][1].as<int64_t>();
      if (current != *q.expected_version) return TagWrite::kSkippedNewer;
    }
    const ManifestInfo& m = q.manifest;
    pqxx::result inserted = w_.exec_params(
        "INSERT INTO catalog.manifests (repository_id, digest, media_type, size, config_digest,"
        " image_created, platforms, layers, children)"
        " VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::timestamptz, $7::jsonb, $8::jsonb, $9::jsonb)"
        " ON CONFLICT (repository_id, digest) DO NOTHING RETURNING 1",
        repo_id, m.digest, m.media_type, m.size, m.config_digest, Ts(m.image_created),
        PlatformsJson(m.platforms).dump(), LayersJson(m.layers).dump(),
        nlohmann::json(m.children).dump());
    if (!inserted.empty()) {
      w_.exec_params(
          "INSERT INTO catalog.manifest_feed (repository, digest, media_type, tag) VALUES ($1, $2, $3, $4)",
          q.repository, m.digest, m.media_type, q.tag);
    }
    if (!tag.empty() && tag[0][0].as<std::string>() == m.digest) return TagWrite::kUnchanged;
    if (!tag.empty()) {
      w_.exec_params(
          "UPDATE catalog.tags SET digest = $3, author = $4, updated_at = $5::timestamptz,"
          " version = nextval('catalog.tag_versions') WHERE repository_id = $1 AND name = $2",
          repo_id, q.tag, m.digest, q.author, Ts(q.at));
    } else {
      w_.exec_params(
          "INSERT INTO catalog.tags (repository_id, name, digest, author, created_at, updated_at)"
          " VALUES ($1, $2, $3, $4, $5::timestamptz, $5::timestamptz)",
          repo_id, q.tag, m.digest, q.author, Ts(q.at));
    }
    w_.exec_params(
        "UPDATE catalog.repositories SET updated_at = GREATEST(updated_at, $2::timestamptz)"
        " WHERE id = $1",
        repo_id, Ts(q.at));
    return tag.empty() ? TagWrite::kAdded : TagWrite::kUpdated;
  }

  absl::StatusOr<bool> DeleteTag(const std::string& repository, const std::string& tag,
                                 std::optional<int64_t> expected_version) override {
    pqxx::result r = w_.exec_params(
        "DELETE FROM catalog.tags t USING catalog.repositories r"
        " WHERE r.id = t.repository_id AND r.name = $1 AND t.name = $2"
        " AND ($3::text = '' OR t.version = NULLIF($3::text, '')::bigint) RETURNING t.repository_id",
        repository, tag, expected_version.has_value() ? absl::StrCat(*expected_version) : "");
    if (r.empty()) return false;
    w_.exec_params("UPDATE catalog.repositories SET updated_at = now() WHERE id = $1",
                   r[0][0].as<int64_t>());
    return true;
  }

  absl::StatusOr<std::vector<std::string>> TagsWithDigest(const std::string& repository,
                                                          const std::string& digest) override {
    pqxx::result r = w_.exec_params(
        "SELECT t.name FROM catalog.tags t JOIN catalog.repositories r ON r.id = t.repository_id"
        " WHERE r.name = $1 AND t.digest = $2 ORDER BY t.name",
        repository, digest);
    std::vector<std::string> out;
    for (const pqxx::row& row : r) out.push_back(row[0].as<std::string>());
    return out;
  }

  absl::StatusOr<bool> RemoveRepositoryIfEmpty(const std::string& repository) override {
    pqxx::result r = w_.exec_params(
        "DELETE FROM catalog.repositories r WHERE name = $1"
        " AND NOT EXISTS (SELECT 1 FROM catalog.tags t WHERE t.repository_id = r.id) RETURNING id",
        repository);
    return !r.empty();
  }

  absl::StatusOr<bool> RemoveRepository(const std::string& repository) override {
    pqxx::result r = w_.exec_params(
        "DELETE FROM catalog.repositories WHERE name = $1 RETURNING id", repository);
    return !r.empty();
  }

  absl::StatusOr<int> RecordPull(const std::string& repository, const std::string& tag,
                                 const std::string& digest, absl::Time at,
                                 absl::Duration min_interval) override {
    pqxx::result r = w_.exec_params(
        "UPDATE catalog.tags t SET pulled_at = $4::timestamptz FROM catalog.repositories r"
        " WHERE r.id = t.repository_id AND r.name = $1"
        " AND (CASE WHEN $2::text <> '' THEN t.name = $2::text ELSE t.digest = $3::text END)"
        " AND (t.pulled_at IS NULL"
        "      OR t.pulled_at <= $4::timestamptz - make_interval(secs => $5::double precision))",
        repository, tag, digest, Ts(at), absl::ToDoubleSeconds(min_interval));
    return static_cast<int>(r.affected_rows());
  }

  absl::Status RecordPutBacks(const std::string& repository, const std::string& digest,
                              const std::vector<std::string>& tags,
                              absl::Time expires_at) override {
    for (const std::string& tag : tags) {
      w_.exec_params(
          "INSERT INTO catalog.put_backs (repository, tag, digest, expires_at)"
          " VALUES ($1, $2, $3, $4::timestamptz) ON CONFLICT (repository, tag)"
          " DO UPDATE SET digest = EXCLUDED.digest, expires_at = EXCLUDED.expires_at",
          repository, tag, digest, Ts(expires_at));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<bool> PutBackPending(const std::string& repository, const std::string& tag,
                                      const std::string& digest, absl::Time now) override {
    pqxx::result r = w_.exec_params(
        "SELECT 1 FROM catalog.put_backs WHERE repository = $1 AND tag = $2"
        " AND ($3::text = '' OR digest = $3::text) AND expires_at > $4::timestamptz",
        repository, tag, digest, Ts(now));
    return !r.empty();
  }

  absl::Status ClearPutBacks(const std::string& repository, const std::vector<std::string>& tags,
                             absl::Time now) override {
    for (const std::string& tag : tags) {
      w_.exec_params("DELETE FROM catalog.put_backs WHERE repository = $1 AND tag = $2",
                     repository, tag);
    }
    w_.exec_params("DELETE FROM catalog.put_backs WHERE expires_at <= $1::timestamptz", Ts(now));
    return absl::OkStatus();
  }

 private:
  pqxx::transaction_base& w_;
};

// ----- events -----

const std::string& EventColumns() {
  static const std::string* const kCols = new std::string(absl::StrCat(
      "id, event_id, status, action, repository, tag, digest, media_type, actor, ",
      Micros("event_time"), ", payload, attempts, last_error, ", Micros("received_at"), ", ",
      Micros("next_attempt_at"), ", ", Micros("processed_at")));
  return *kCols;
}

StoredEvent ReadEvent(const pqxx::row& r) {
  StoredEvent e;
  e.id = r[0].as<int64_t>();
  e.event.event_id = r[1].as<std::string>();
  ParseEventStatus(r[2].as<std::string>(), &e.event.status);
  e.event.action = r[3].as<std::string>();
  e.event.repository = r[4].as<std::string>();
  e.event.tag = r[5].as<std::string>();
  e.event.digest = r[6].as<std::string>();
  e.event.media_type = r[7].as<std::string>();
  e.event.actor = r[8].as<std::string>();
  e.event.event_time = TimeAt(r[9]);
  e.event.payload = r[10].as<std::string>();
  e.attempts = r[11].as<int>();
  e.last_error = r[12].as<std::string>();
  if (e.event.status == EventStatus::kRejected) e.event.reject_reason = e.last_error;
  e.received_at = TimeAt(r[13]);
  e.next_attempt_at = TimeAt(r[14]);
  // New events are due at -infinity (NULL here): due since they arrived.
  if (e.next_attempt_at == absl::InfinitePast()) e.next_attempt_at = e.received_at;
  e.processed_at = TimeAt(r[15]);
  return e;
}

// ----- sync reports -----

const char* KindName(SyncChange::Kind k) {
  switch (k) {
    case SyncChange::Kind::kAdd:
      return "add";
    case SyncChange::Kind::kUpdate:
      return "update";
    case SyncChange::Kind::kDelete:
      return "delete";
  }
  return "add";
}

}  // namespace

std::string SyncReportToJson(const SyncReport& r) {
  nlohmann::json failures = nlohmann::json::array();
  for (const SyncFailure& f : r.failures) failures.push_back({{"repository", f.repository}, {"error", f.error}});
  nlohmann::json changes = nlohmann::json::array();
  for (const SyncChange& c : r.changes) {
    changes.push_back({{"kind", KindName(c.kind)}, {"repository", c.repository}, {"tag", c.tag},
                       {"old_digest", c.old_digest}, {"new_digest", c.new_digest}});
  }
  nlohmann::json j = {
      {"id", r.id},
      {"state", SyncStateName(r.state)},
      {"trigger", r.trigger},
      {"strategy", r.strategy},
      {"dry_run", r.dry_run},
      {"force", r.force},
      {"started_at", Ts(r.started_at)},
      {"finished_at", Ts(r.finished_at)},
      {"repositories", r.repositories},
      {"tags", r.tags},
      {"added", r.added},
      {"updated", r.updated},
      {"deleted", r.deleted},
      {"repositories_deleted", r.repositories_deleted},
      {"failures", failures},
      {"brake",
       {{"engaged", r.brake.engaged},
        {"would_delete", r.brake.would_delete},
        {"known_tags", r.brake.known_tags},
        {"max_delete_percent", r.brake.max_delete_percent},
        {"reason", r.brake.reason}}},
      {"changes", changes},
      {"changes_truncated", r.changes_truncated},
      {"error", r.error},
      {"replica", r.replica}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

SyncReport SyncReportFromJson(const std::string& json) {
  SyncReport r;
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object()) return r;
  auto time = [&](const char* k) {
    absl::Time t;
    std::string err;
    return absl::ParseTime(absl::RFC3339_full, Str(j, k), &t, &err) ? t : absl::InfinitePast();
  };
  r.id = j.value("id", int64_t{0});
  for (SyncState s : {SyncState::kRunning, SyncState::kSucceeded, SyncState::kPartial,
                      SyncState::kBraked, SyncState::kFailed}) {
    if (Str(j, "state") == SyncStateName(s)) r.state = s;
  }
  r.trigger = Str(j, "trigger");
  r.strategy = Str(j, "strategy");
  r.dry_run = j.value("dry_run", false);
  r.force = j.value("force", false);
  r.started_at = time("started_at");
  r.finished_at = time("finished_at");
  r.repositories = j.value("repositories", int64_t{0});
  r.tags = j.value("tags", int64_t{0});
  r.added = j.value("added", int64_t{0});
  r.updated = j.value("updated", int64_t{0});
  r.deleted = j.value("deleted", int64_t{0});
  r.repositories_deleted = j.value("repositories_deleted", int64_t{0});
  if (j.contains("failures") && j["failures"].is_array()) {
    for (const auto& f : j["failures"]) r.failures.push_back({Str(f, "repository"), Str(f, "error")});
  }
  if (j.contains("brake") && j["brake"].is_object()) {
    const auto& b = j["brake"];
    r.brake.engaged = b.value("engaged", false);
    r.brake.would_delete = b.value("would_delete", int64_t{0});
    r.brake.known_tags = b.value("known_tags", int64_t{0});
    r.brake.max_delete_percent = b.value("max_delete_percent", 0.0);
    r.brake.reason = Str(b, "reason");
  }
  if (j.contains("changes") && j["changes"].is_array()) {
    for (const auto& c : j["changes"]) {
      SyncChange ch;
      const std::string kind = Str(c, "kind");
      ch.kind = kind == "delete" ? SyncChange::Kind::kDelete
                                 : (kind == "update" ? SyncChange::Kind::kUpdate : SyncChange::Kind::kAdd);
      ch.repository = Str(c, "repository");
      ch.tag = Str(c, "tag");
      ch.old_digest = Str(c, "old_digest");
      ch.new_digest = Str(c, "new_digest");
      r.changes.push_back(std::move(ch));
    }
  }
  r.changes_truncated = j.value("changes_truncated", false);
  r.error = Str(j, "error");
  r.replica = Str(j, "replica");
  return r;
}

// ----- PgCatalogStore -----

absl::Status PgCatalogStore::Write(const std::function<absl::Status(CatalogWriter&)>& fn) {
  return pool_.Transact([&](pqxx::work& w) {
    PgCatalogWriter writer(w);
    return fn(writer);
  });
}

absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>> PgCatalogStore::ListRepositories(
    const RepositoryQuery& q) {
  PORTUNUS_ASSIGN_OR_RETURN(
      std::string order,
      OrderBy(q.page,
              {{"name", "r.name"}, {"full_name", "r.name"}, {"id", "r.id"},
               {"updated_at", "r.updated_at"}, {"created_at", "r.created_at"},
               {"tags_count", "(SELECT count(*) FROM catalog.tags c WHERE c.repository_id = r.id)"}},
              "r.name", "r.id"));
  const std::string where =
      " FROM catalog.repositories r"
      " WHERE ($1::boolean OR r.namespace = ANY($2::text[]))"
      " AND ($3::bigint = 0 OR r.namespace_id = $3::bigint) AND ($4::text = '' OR r.name ILIKE $5)";
  using Result = std::pair<std::vector<RepositoryRecord>, int64_t>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    const std::string names = TextArray(q.filter.names);
    const std::string like = LikePattern(q.name_contains);
    Result out;
    out.second = w.exec_params1(absl::StrCat("SELECT count(*)", where), q.filter.all, names,
                                q.namespace_id, q.name_contains, like)[0]
                     .as<int64_t>();
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT ", RepositoryColumns(), where, order, LimitOffset(q.page)),
        q.filter.all, names, q.namespace_id, q.name_contains, like);
    for (const pqxx::row& r : rows) out.first.push_back(ReadRepository(r));
    return out;
  });
}

absl::StatusOr<RepositoryRecord> PgCatalogStore::GetRepository(int64_t id) {
  return pool_.TransactValue<RepositoryRecord>([&](pqxx::work& w) -> absl::StatusOr<RepositoryRecord> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", RepositoryColumns(), " FROM catalog.repositories r WHERE r.id = $1"), id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("repository ", id, " not found"));
    return ReadRepository(r[0]);
  });
}

absl::StatusOr<RepositoryRecord> PgCatalogStore::GetRepositoryByName(const std::string& name) {
  return pool_.TransactValue<RepositoryRecord>([&](pqxx::work& w) -> absl::StatusOr<RepositoryRecord> {
    pqxx::result r = w.exec_params(
        absl::StrCat("SELECT ", RepositoryColumns(), " FROM catalog.repositories r WHERE r.name = $1"),
        name);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("repository ", name, " not found"));
    return ReadRepository(r[0]);
  });
}

absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> PgCatalogStore::ListTags(
    int64_t repository_id, const NamespaceFilter& filter, const PageRequest& page) {
  PORTUNUS_ASSIGN_OR_RETURN(
      std::string order,
      OrderBy(page,
              {{"name", "t.name"}, {"id", "t.id"}, {"updated_at", "t.updated_at"},
               {"created_at", "t.created_at"}, {"pulled_at", "t.pulled_at"},
               {"size", "m.size"}, {"repository", "r.name"}},
              repository_id > 0 ? "t.name" : "t.id", "t.id"));
  const std::string where = absl::StrCat(
      kTagJoins,
      " WHERE ($1::bigint = 0 OR t.repository_id = $1::bigint)"
      " AND ($2::boolean OR r.namespace = ANY($3::text[]))");
  using Result = std::pair<std::vector<TagRecord>, int64_t>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    const std::string names = TextArray(filter.names);
    Result out;
    out.second = w.exec_params1(absl::StrCat("SELECT count(*)", where), repository_id, filter.all,
                                names)[0]
                     .as<int64_t>();
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT ", TagColumns(), where, order, LimitOffset(page)), repository_id,
        filter.all, names);
    for (const pqxx::row& r : rows) out.first.push_back(ReadTag(r));
    return out;
  });
}

absl::StatusOr<TagRecord> PgCatalogStore::GetTag(int64_t id) {
  return pool_.TransactValue<TagRecord>([&](pqxx::work& w) -> absl::StatusOr<TagRecord> {
    pqxx::result r =
        w.exec_params(absl::StrCat("SELECT ", TagColumns(), kTagJoins, " WHERE t.id = $1"), id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("tag ", id, " not found"));
    return ReadTag(r[0]);
  });
}

absl::StatusOr<ManifestInfo> PgCatalogStore::GetManifest(const std::string& repository,
                                                         const std::string& digest) {
  return pool_.TransactValue<ManifestInfo>([&](pqxx::work& w) -> absl::StatusOr<ManifestInfo> {
    PgCatalogWriter reader(w);
    PORTUNUS_ASSIGN_OR_RETURN(std::optional<ManifestInfo> m, reader.FindManifest(repository, digest));
    if (!m.has_value()) {
      return absl::NotFoundError(absl::StrCat("manifest ", digest, " of ", repository, " not found"));
    }
    return *m;
  });
}

absl::StatusOr<CatalogStore::FeedPage> PgCatalogStore::ListFeed(int64_t after_seq, int limit) {
  return pool_.TransactValue<FeedPage>([&](pqxx::work& w) -> absl::StatusOr<FeedPage> {
    FeedPage page;
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT seq, repository, digest, media_type, tag, ", Micros("created_at"),
                     " FROM catalog.manifest_feed WHERE seq > $1 ORDER BY seq LIMIT $2"),
        after_seq, limit);
    for (const pqxx::row& r : rows) {
      page.entries.push_back(FeedEntry{r[0].as<int64_t>(), r[1].as<std::string>(),
                                       r[2].as<std::string>(), r[3].as<std::string>(),
                                       r[4].as<std::string>(), TimeAt(r[5])});
    }
    pqxx::row bounds = w.exec1(
        "SELECT coalesce(min(seq), 0), (SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
        " FROM catalog.manifest_feed_seq_seq) FROM catalog.manifest_feed");
    page.oldest_seq = bounds[0].as<int64_t>();
    page.latest_seq = bounds[1].as<int64_t>();
    return page;
  });
}

absl::StatusOr<std::vector<std::string>> PgCatalogStore::RepositoryNames() {
  using Result = std::vector<std::string>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    Result out;
    for (const pqxx::row& r : w.exec("SELECT name FROM catalog.repositories ORDER BY name")) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

absl::StatusOr<std::map<std::string, KnownTag>> PgCatalogStore::TagsOf(const std::string& repository) {
  using Result = std::map<std::string, KnownTag>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    Result out;
    pqxx::result rows = w.exec_params(
        "SELECT t.name, t.digest, t.version FROM catalog.tags t"
        " JOIN catalog.repositories r ON r.id = t.repository_id WHERE r.name = $1",
        repository);
    for (const pqxx::row& r : rows) {
      out[r[0].as<std::string>()] = KnownTag{r[1].as<std::string>(), r[2].as<int64_t>()};
    }
    return out;
  });
}

absl::StatusOr<int64_t> PgCatalogStore::CountTags() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT count(*) FROM catalog.tags")[0].as<int64_t>();
  });
}

absl::StatusOr<int64_t> PgCatalogStore::CurrentTagVersion() {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return w.exec1("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM catalog.tag_versions")[0]
        .as<int64_t>();
  });
}

absl::StatusOr<int64_t> PgCatalogStore::PruneFeed(absl::Time before) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    return static_cast<int64_t>(
        w.exec_params("DELETE FROM catalog.manifest_feed WHERE created_at < $1::timestamptz",
                      Ts(before))
            .affected_rows());
  });
}

// ----- PgEventStore -----

absl::StatusOr<std::vector<bool>> PgEventStore::Insert(const std::vector<NewEvent>& events) {
  if (events.empty()) return std::vector<bool>();
  // One statement, prepared once per connection, whatever the number of events: the columns
  // travel as eleven text arrays (no limit on rows, unlike one parameter per value). It runs
  // in autocommit, so storing a batch is one round trip to PostgreSQL instead of four (BEGIN,
  // INSERT, NOTIFY, COMMIT): a single statement is atomic, and its commit is as durable as a
  // transaction's. The NOTIFY that wakes the workers is in the statement: the `woke` query
  // calls pg_notify once when a pending event was inserted, and the always true condition on
  // it makes PostgreSQL run it (a WITH query nobody reads is not run). Rows are inserted in
  // the order given (their ids follow it: the workers apply a repository's events by id).
  static const std::string* const kSql = new std::string(absl::StrCat(
      "WITH new AS ("
      "  INSERT INTO catalog.events (event_id, status, action, repository, tag, digest,"
      "   media_type, actor, event_time, payload, last_error, next_attempt_at)"
      "  SELECT e.event_id, e.status, e.action, e.repository, e.tag, e.digest, e.media_type,"
      "   e.actor, NULLIF(e.event_time, '')::timestamptz, e.payload, e.last_error, '-infinity'"
      "  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
      "   $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY"
      "   AS e(event_id, status, action, repository, tag, digest, media_type, actor, event_time,"
      "   payload, last_error, n)"
      "  ORDER BY e.n"
      "  ON CONFLICT (event_id) DO NOTHING RETURNING event_id, status),"
      " woke AS (SELECT pg_notify('", kEventsChannel, "', '') FROM new"
      "  WHERE status = 'pending' LIMIT 1)"
      " SELECT event_id FROM new WHERE (SELECT count(*) FROM woke) >= 0"));
  std::vector<std::string> columns[11];
  for (const NewEvent& e : events) {
    columns[0].push_back(e.event_id);
    columns[1].push_back(EventStatusName(e.status));
    columns[2].push_back(e.action);
    columns[3].push_back(e.repository);
    columns[4].push_back(e.tag);
    columns[5].push_back(e.digest);
    columns[6].push_back(e.media_type);
    columns[7].push_back(e.actor);
    columns[8].push_back(Ts(e.event_time));
    columns[9].push_back(e.payload);
    columns[10].push_back(e.status == EventStatus::kRejected ? e.reject_reason : "");
  }
  std::set<std::string> inserted;
  PORTUNUS_RETURN_IF_ERROR(pool_.WithConnection([&](pqxx::connection& c) -> absl::Status {
    // WithConnection retries once on a fresh connection when this one was lost. If the
    // commit had gone through, the retry finds every id stored and reports none as new.
    inserted.clear();
    pqxx::nontransaction n(c);
    pqxx::result r = ExecPrepared(
        n, "catalog_insert_events", *kSql, TextArray(columns[0]), TextArray(columns[1]),
        TextArray(columns[2]), TextArray(columns[3]), TextArray(columns[4]),
        TextArray(columns[5]), TextArray(columns[6]), TextArray(columns[7]),
        TextArray(columns[8]), TextArray(columns[9]), TextArray(columns[10]));
    for (const pqxx::row& row : r) inserted.insert(row[0].as<std::string>());
    return absl::OkStatus();
  }));
  std::vector<bool> out;
  std::set<std::string> seen;
  for (const NewEvent& e : events) {
    // Within one batch an id counts as new once.
    out.push_back(inserted.count(e.event_id) != 0 && seen.insert(e.event_id).second);
  }
  return out;
}

const std::string& PgEventStore::ClaimSql() {
  // The oldest due event whose repository has no earlier pending event; rows other workers
  // hold are skipped. Held until commit, so an event is applied by one worker only.
  // The candidates are the first pending event of each repository, found by one index probe
  // per repository (a loose index scan). Asking "is there an earlier pending event of this
  // repository?" of every pending event instead cost a probe per event passed over: with a
  // backlog in one repository whose first event another worker held, each look at the queue
  // walked the whole backlog (32 ms for 8,000 events) and, repeated by idle workers on every
  // notification, starved ingest of CPU during bursts.
  // The candidates are then tried in id order, each by its primary key and locked inside the
  // LATERAL subquery, until one is due and free: a nested loop by construction. Joining them
  // to the events table instead left the join to the planner, and during a burst the
  // table's statistics lag far behind it (79 pending rows estimated, 14,000 there): it chose a
  // hash join over a bitmap scan of every due pending event, 38 ms a claim, so the workers
  // fell behind the more events arrived.
  static const std::string* const kSql = new std::string(absl::StrCat(
      "WITH RECURSIVE heads(head_repository, head_id) AS ("
      "  (SELECT repository, id FROM catalog.events WHERE status = 'pending'"
      "   ORDER BY repository, id LIMIT 1)"
      "  UNION ALL"
      "  SELECT n.repository, n.id FROM heads h CROSS JOIN LATERAL"
      "   (SELECT repository, id FROM catalog.events WHERE status = 'pending'"
      "    AND repository > h.head_repository ORDER BY repository, id LIMIT 1) n)"
      " SELECT e.* FROM (SELECT head_id FROM heads ORDER BY head_id) h CROSS JOIN LATERAL"
      "  (SELECT ",
      EventColumns(),
      " FROM catalog.events WHERE id = h.head_id"
      "   AND status = 'pending' AND next_attempt_at <= $1::timestamptz"
      "   FOR UPDATE SKIP LOCKED) e"
      " ORDER BY h.head_id LIMIT 1"));
  return *kSql;
}

absl::StatusOr<ProcessOutcome> PgEventStore::ProcessNext(
    absl::Time now, const RetryPolicy& policy, const ApplyEventFn& apply,
    const std::function<bool(const absl::Status&)>& permanent) {
  return pool_.TransactValue<ProcessOutcome>([&](pqxx::work& w) -> absl::StatusOr<ProcessOutcome> {
    ProcessOutcome out;
    pqxx::result claimed = ExecPrepared(w, "catalog_claim_event", ClaimSql(), Ts(now));
    if (claimed.empty()) return out;
    StoredEvent event = ReadEvent(claimed[0]);
    out.processed = true;
    out.id = event.id;
    // A savepoint: a failed apply rolls back its catalog changes but keeps the claim, so the
    // attempt can be recorded in this same transaction. (Managed by hand: libpqxx 6.4's
    // subtransaction starts lazily and exec_params does not start it.)
    w.exec("SAVEPOINT apply_event");
    PgCatalogWriter writer(w);
    try {
      out.status = apply(event, writer);
    } catch (const pqxx::broken_connection&) {
      throw;  // the whole transaction is gone: the event stays pending
    } catch (...) {
      out.status = StatusFromCurrentException("applying event");
    }
    w.exec(out.status.ok() ? "RELEASE SAVEPOINT apply_event" : "ROLLBACK TO SAVEPOINT apply_event");
    const int attempts = event.attempts + 1;
    if (out.status.ok()) {
      out.new_status = EventStatus::kDone;
      ExecPrepared(w, "catalog_event_done",
                   "UPDATE catalog.events SET status = 'done', attempts = $2, last_error = '',"
                   " processed_at = $3::timestamptz WHERE id = $1",
                   event.id, attempts, Ts(now));
      return out;
    }
    const bool give_up = attempts >= policy.max_attempts || (permanent && permanent(out.status));
    out.new_status = give_up ? EventStatus::kFailed : EventStatus::kPending;
    std::string error(out.status.message());
    if (error.size() > 2000) error.resize(2000);
    w.exec_params(
        "UPDATE catalog.events SET status = $2, attempts = $3, last_error = $4,"
        " next_attempt_at = $5::timestamptz, processed_at = NULLIF($6::text, '')::timestamptz"
        " WHERE id = $1",
        event.id, give_up ? "failed" : "pending", attempts, error,
        Ts(now + RetryBackoff(policy, attempts)), give_up ? Ts(now) : "");
    return out;
  });
}

absl::StatusOr<std::optional<absl::Time>> PgEventStore::NextDue(absl::Time now) {
  using Result = std::optional<absl::Time>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    static const std::string* const kSql =
        new std::string(absl::StrCat("SELECT ", Micros("min(next_attempt_at)"),
                                     " FROM catalog.events WHERE status = 'pending'"
                                     " AND next_attempt_at > $1::timestamptz"));
    pqxx::result rows = ExecPrepared(w, "catalog_next_due", *kSql, Ts(now));
    const pqxx::row r = rows.at(0);
    if (r[0].is_null()) return Result();
    return Result(TimeAt(r[0]));
  });
}

absl::StatusOr<std::pair<std::vector<StoredEvent>, int64_t>> PgEventStore::List(
    const EventFilter& filter, const PageRequest& page) {
  std::set<std::string> statuses;
  for (EventStatus s : filter.statuses) statuses.insert(EventStatusName(s));
  if (statuses.empty()) statuses = {"pending", "failed", "rejected"};
  const std::string where =
      " FROM catalog.events WHERE status = ANY($1::text[]) AND ($2::text = '' OR repository = $2::text)";
  using Result = std::pair<std::vector<StoredEvent>, int64_t>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    Result out;
    const std::string array = TextArray(statuses);
    out.second = w.exec_params1(absl::StrCat("SELECT count(*)", where), array, filter.repository)[0]
                     .as<int64_t>();
    pqxx::result rows = w.exec_params(
        absl::StrCat("SELECT ", EventColumns(), where, " ORDER BY id DESC", LimitOffset(page)),
        array, filter.repository);
    for (const pqxx::row& r : rows) out.first.push_back(ReadEvent(r));
    return out;
  });
}

absl::StatusOr<StoredEvent> PgEventStore::Retry(int64_t id, absl::Time now) {
  return pool_.TransactValue<StoredEvent>([&](pqxx::work& w) -> absl::StatusOr<StoredEvent> {
    pqxx::result r = w.exec_params(
        absl::StrCat("UPDATE catalog.events SET status = 'pending', attempts = 0,"
                     " next_attempt_at = $2::timestamptz, processed_at = NULL"
                     " WHERE id = $1 AND status = 'failed' RETURNING ",
                     EventColumns()),
        id, Ts(now));
    if (r.empty()) {
      pqxx::result e = w.exec_params("SELECT status FROM catalog.events WHERE id = $1", id);
      if (e.empty()) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
      return absl::FailedPreconditionError(absl::StrCat(
          "event ", id, " is ", e[0][0].as<std::string>(), ", only failed events can be retried"));
    }
    w.exec(absl::StrCat("NOTIFY ", kEventsChannel));
    return ReadEvent(r[0]);
  });
}

absl::StatusOr<EventQueueStats> PgEventStore::Stats(absl::Time now) {
  return pool_.TransactValue<EventQueueStats>([&](pqxx::work& w) -> absl::StatusOr<EventQueueStats> {
    EventQueueStats st;
    pqxx::row p = w.exec_params1(
        absl::StrCat("SELECT count(*), count(*) FILTER (WHERE next_attempt_at <= $1::timestamptz), ",
                     Micros("min(received_at)"), " FROM catalog.events WHERE status = 'pending'"),
        Ts(now));
    st.pending = p[0].as<int64_t>();
    st.ready = p[1].as<int64_t>();
    st.oldest_pending_received = TimeAt(p[2]);
    for (const pqxx::row& r : w.exec("SELECT status, count(*) FROM catalog.events"
                                     " WHERE status IN ('failed', 'rejected') GROUP BY status")) {
      (r[0].as<std::string>() == "failed" ? st.failed : st.rejected) = r[1].as<int64_t>();
    }
    return st;
  });
}

absl::StatusOr<int64_t> PgEventStore::Prune(absl::Time done_before, absl::Time failed_before) {
  int64_t total = 0;
  // In chunks, so a large backlog never holds locks for long.
  for (;;) {
    absl::StatusOr<int64_t> n = pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
      return static_cast<int64_t>(
          w.exec_params(
               "DELETE FROM catalog.events WHERE id IN (SELECT id FROM catalog.events WHERE"
               " (status = 'done' AND processed_at < $1::timestamptz)"
               " OR (status IN ('failed', 'rejected') AND received_at < $2::timestamptz)"
               " LIMIT 5000)",
               Ts(done_before), Ts(failed_before))
              .affected_rows());
    });
    if (!n.ok()) return n.status();
    total += *n;
    if (*n < 5000) return total;
  }
}

// ----- PgSyncRunStore -----

namespace {

std::string StateOf(const SyncReport& r) { return SyncStateName(r.state); }

SyncReport ReadRun(const pqxx::row& row) {
  SyncReport r = SyncReportFromJson(row[1].as<std::string>());
  r.id = row[0].as<int64_t>();
  return r;
}

}  // namespace

absl::StatusOr<int64_t> PgSyncRunStore::Start(const SyncReport& report) {
  return pool_.TransactValue<int64_t>([&](pqxx::work& w) -> absl::StatusOr<int64_t> {
    SyncReport r = report;
    r.state = SyncState::kRunning;
    const int64_t id =
        w.exec_params1(
             "INSERT INTO catalog.sync_runs (state, trigger, strategy, dry_run, force, replica,"
             " started_at) VALUES ('running', $1, $2, $3, $4, $5, $6::timestamptz) RETURNING id",
             r.trigger, r.strategy, r.dry_run, r.force, r.replica, Ts(r.started_at))[0]
            .as<int64_t>();
    r.id = id;
    w.exec_params("UPDATE catalog.sync_runs SET report = $2::jsonb WHERE id = $1", id,
                  SyncReportToJson(r));
    // Keep the last 200 passes.
    w.exec("DELETE FROM catalog.sync_runs WHERE id < (SELECT min(id) FROM (SELECT id FROM"
           " catalog.sync_runs ORDER BY id DESC LIMIT 200) keep)");
    return id;
  });
}

absl::Status PgSyncRunStore::Finish(const SyncReport& report) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    pqxx::result r = w.exec_params(
        "UPDATE catalog.sync_runs SET state = $2, finished_at = NULLIF($3, '')::timestamptz,"
        " report = $4::jsonb WHERE id = $1 RETURNING id",
        report.id, StateOf(report), Ts(report.finished_at), SyncReportToJson(report));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("sync run ", report.id, " not found"));
    return absl::OkStatus();
  });
}

absl::StatusOr<SyncReport> PgSyncRunStore::Get(int64_t id) {
  return pool_.TransactValue<SyncReport>([&](pqxx::work& w) -> absl::StatusOr<SyncReport> {
    pqxx::result r =
        w.exec_params("SELECT id, report::text FROM catalog.sync_runs WHERE id = $1", id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("sync run ", id, " not found"));
    return ReadRun(r[0]);
  });
}

absl::StatusOr<std::vector<SyncReport>> PgSyncRunStore::List(int limit) {
  using Result = std::vector<SyncReport>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    Result out;
    for (const pqxx::row& r : w.exec_params(
             "SELECT id, report::text FROM catalog.sync_runs ORDER BY id DESC LIMIT $1", limit)) {
      out.push_back(ReadRun(r));
    }
    return out;
  });
}

absl::StatusOr<std::optional<SyncReport>> PgSyncRunStore::LastApplied() {
  using Result = std::optional<SyncReport>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    pqxx::result r = w.exec(
        "SELECT id, report::text FROM catalog.sync_runs WHERE NOT dry_run AND state <> 'running'"
        " ORDER BY id DESC LIMIT 1");
    if (r.empty()) return Result();
    return Result(ReadRun(r[0]));
  });
}

absl::StatusOr<std::optional<SyncReport>> PgSyncRunStore::LastFinished() {
  using Result = std::optional<SyncReport>;
  return pool_.TransactValue<Result>([&](pqxx::work& w) -> absl::StatusOr<Result> {
    pqxx::result r = w.exec(
        "SELECT id, report::text FROM catalog.sync_runs WHERE state <> 'running'"
        " ORDER BY id DESC LIMIT 1");
    if (r.empty()) return Result();
    return Result(ReadRun(r[0]));
  });
}

absl::Status PgSyncRunStore::AbandonStale(absl::Time before) {
  return pool_.Transact([&](pqxx::work& w) -> absl::Status {
    w.exec_params(
        "UPDATE catalog.sync_runs SET state = 'failed', finished_at = now(),"
        " report = jsonb_set(jsonb_set(report, '{state}', '\"failed\"'), '{error}',"
        "   '\"abandoned: the replica running it stopped\"')"
        " WHERE state = 'running' AND started_at < $1::timestamptz",
        Ts(before));
    return absl::OkStatus();
  });
}

// ----- PgSyncLock -----

namespace {
// pg_try_advisory_lock key of catalog sync passes ("portsync" in ASCII).
constexpr int64_t kSyncLockKey = 0x706f727473796e63;
}  // namespace

PgSyncLock::~PgSyncLock() { Release(); }

absl::StatusOr<bool> PgSyncLock::TryAcquire() {
  absl::MutexLock lock(&mu_);
  try {
    if (conn_ == nullptr) conn_ = std::make_unique<pqxx::connection>(dsn_);
    pqxx::nontransaction n(*conn_);
    const bool got = n.exec_params1("SELECT pg_try_advisory_lock($1)", kSyncLockKey)[0].as<bool>();
    if (!got) conn_.reset();
    return got;
  } catch (...) {
    conn_.reset();
    absl::Status s = StatusFromCurrentException("sync lock");
    if (s.code() == absl::StatusCode::kInternal) return absl::UnavailableError(s.message());
    return s;
  }
}

void PgSyncLock::Release() {
  absl::MutexLock lock(&mu_);
  if (conn_ == nullptr) return;
  try {
    pqxx::nontransaction n(*conn_);
    n.exec_params("SELECT pg_advisory_unlock($1)", kSyncLockKey);
  } catch (const std::exception& e) {
    // Closing the connection below releases the lock anyway.
  }
  conn_.reset();
}

// ----- PgNotificationListener -----

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::function<void()>& fn)
      : pqxx::notification_receiver(c, kEventsChannel), fn_(fn) {}
  void operator()(const std::string&, int) override { fn_(); }

 private:
  const std::function<void()>& fn_;
};

}  // namespace

PgNotificationListener::PgNotificationListener(std::string dsn, std::function<void()> on_notify)
    : dsn_(std::move(dsn)), on_notify_(std::move(on_notify)) {}

PgNotificationListener::~PgNotificationListener() { Stop(); }

void PgNotificationListener::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void PgNotificationListener::Stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PgNotificationListener::Loop() {
  absl::Duration backoff = absl::Milliseconds(200);
  while (!stopping_.load()) {
    try {
      pqxx::connection conn(dsn_);
      Receiver receiver(conn, on_notify_);
      conn.get_notifs();  // issues the LISTEN
      listening_.store(true);
      backoff = absl::Milliseconds(200);
      on_notify_();  // catch up on anything sent while not listening
      while (!stopping_.load()) {
        conn.await_notification(0, 250000);  // wakes at least every 250 ms to check stopping_
      }
      listening_.store(false);
      return;
    } catch (const std::exception& e) {
      listening_.store(false);
      LogWarn("event listener disconnected, reconnecting",
              {{"error", e.what()}, {"retry_in", backoff}});
    }
    const absl::Time until = absl::Now() + backoff;
    while (!stopping_.load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(50));
    backoff = std::min(backoff * 2, absl::Seconds(30));
  }
}

}  // namespace portunus::catalog
