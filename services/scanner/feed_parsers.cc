#include "services/scanner/feed_parsers.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/scanner/distro.h"

namespace portunus::scanner {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxLinks = 64;
constexpr size_t kMaxAffected = 20000000;

// Rejects documents nested deeper than kMaxJsonDepth before any parser sees them.
absl::Status CheckDepth(absl::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) {
        return absl::InvalidArgumentError(
            absl::StrCat("JSON is nested deeper than ", kMaxJsonDepth, " levels"));
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<json> ParseJson(absl::string_view text, absl::string_view what) {
  absl::Status depth = CheckDepth(text);
  if (!depth.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", depth.message()));
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid JSON: ", e.what()));
  }
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != ':') {
      return false;
    }
  }
  return true;
}

std::string Str(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::Time ParseTimestamp(const std::string& s) {
  absl::Time t;
  std::string err;
  if (s.empty() || !absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return absl::InfinitePast();
  return t;
}

// Severity from an OSV "severity" array: the CVSS v3 vector's score, or a textual rating.
Severity SeverityFromOsvArray(const json& arr, std::string* vector_out) {
  Severity best = Severity::kUnknown;
  if (!arr.is_array()) return best;
  for (const json& s : arr) {
    const std::string type = Str(s, "type");
    const std::string score = Str(s, "score");
    if (type == "CVSS_V3") {
      if (std::optional<double> v = CvssV3BaseScore(score)) {
        if (vector_out) *vector_out = score;
        return SeverityFromCvss(*v);
      }
    } else if (type == "Ubuntu" || type == "Debian") {
      Severity parsed;
      if (ParseSeverity(score, &parsed)) best = parsed;
    }
  }
  return best;
}

Severity SeverityFromObject(const json& obj, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    Severity s;
    std::string text = Str(obj, k);
    absl::StripTrailingAsciiWhitespace(&text);
    while (!text.empty() && text.back() == '*') text.pop_back();  // Debian's "low**"
    if (ParseSeverity(text, &s)) return s;
  }
  return Severity::kUnknown;
}

void AddCanonicalLinks(Vulnerability* v, absl::string_view tracker_prefix) {
  if (!tracker_prefix.empty()) v->links.push_back(absl::StrCat(tracker_prefix, v->id));
  if (absl::StartsWith(v->id, "CVE-")) {
    v->links.push_back(absl::StrCat("https://nvd.nist.gov/vuln/detail/", v->id));
  }
}

absl::Status ParseOsvRecord(const json& rec, const std::string& source, FeedData* out) {
  if (!rec.is_object()) return absl::InvalidArgumentError("OSV record is not a JSON object");
  Vulnerability v;
  v.id = Str(rec, "id");
  if (!IsValidId(v.id)) {
    return absl::InvalidArgumentError(absl::StrCat("OSV record has an invalid id \"",
                                                   v.id.substr(0, 64), "\""));
  }
  if (rec.contains("withdrawn") && !rec["withdrawn"].is_null()) {
    out->withdrawn.push_back(v.id);
    return absl::OkStatus();
  }
  v.summary = Str(rec, "summary");
  v.description = Str(rec, "details");
  v.published = ParseTimestamp(Str(rec, "published"));
  v.modified = ParseTimestamp(Str(rec, "modified"));
  if (rec.contains("aliases") && rec["aliases"].is_array()) {
    for (const json& a : rec["aliases"]) {
      if (a.is_string() && IsValidId(a.get<std::string>())) v.aliases.push_back(a.get<std::string>());
    }
  }
  if (rec.contains("references") && rec["references"].is_array()) {
    for (const json& r : rec["references"]) {
      const std::string url = Str(r, "url");
      if (!url.empty() && url.size() < 2048 && v.links.size() < kMaxLinks) v.links.push_back(url);
    }
  }
  if (v.links.empty()) v.links.push_back(absl::StrCat("https://osv.dev/vulnerability/", v.id));
  v.severity = SeverityFromOsvArray(rec.value("severity", json()), &v.cvss_vector);
  if (v.severity == Severity::kUnknown && rec.contains("database_specific")) {
    v.severity = SeverityFromObject(rec["database_specific"], {"severity"});
  }
  if (rec.contains("affected")) {
    const json& affected = rec["affected"];
    if (!affected.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("OSV record ", v.id, ": affected is not an array"));
    }
    for (const json& a : affected) {
      const json pkg = a.is_object() ? a.value("package", json()) : json();
      const std::string ecosystem = Str(pkg, "ecosystem");
      const std::string name = Str(pkg, "name");
      if (ecosystem.empty() || name.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("OSV record ", v.id, ": affected entry without package ecosystem and name"));
      }
      const std::string key = EcosystemForOsv(ecosystem);
      if (key.empty()) {
        ++out->skipped;
        continue;
      }
      Severity sev = SeverityFromOsvArray(a.value("severity", json()), nullptr);
      if (sev == Severity::kUnknown && a.contains("ecosystem_specific")) {
        sev = SeverityFromObject(a["ecosystem_specific"], {"urgency", "severity"});
      }
      if (sev == Severity::kUnknown && a.contains("database_specific")) {
        sev = SeverityFromObject(a["database_specific"], {"urgency", "severity"});
      }
      std::vector<std::string> versions;
      if (a.contains("versions") && a["versions"].is_array()) {
        for (const json& ver : a["versions"]) {
          if (ver.is_string()) versions.push_back(ver.get<std::string>());
        }
      }
      // One Affected per range type, since each type orders versions its own way.
      std::map<VersionScheme, std::vector<AffectedRange>> by_scheme;
      bool had_ranges = false;
      if (a.contains("ranges") && a["ranges"].is_array()) {
        for (const json& r : a["ranges"]) {
          const std::string type = Str(r, "type");
          had_ranges = true;
          VersionScheme scheme;
          if (type == "ECOSYSTEM") {
            scheme = SchemeForEcosystem(key, VersionScheme::kGeneric);
          } else if (type == "SEMVER") {
            scheme = VersionScheme::kSemver;
          } else {
            ++out->skipped;  // GIT ranges need the repository's history
            continue;
          }
          AffectedRange range;
          if (!r.contains("events") || !r["events"].is_array()) {
            return absl::InvalidArgumentError(absl::StrCat("OSV record ", v.id, ": range without events"));
          }
          for (const json& e : r["events"]) {
            if (!e.is_object() || e.size() != 1 || !e.begin().value().is_string()) {
              return absl::InvalidArgumentError(absl::StrCat("OSV record ", v.id, ": malformed range event"));
            }
            const std::string& kind = e.begin().key();
            RangeEvent ev;
            ev.version = e.begin().value().get<std::string>();
            if (kind == "introduced") {
              ev.kind = RangeEvent::Kind::kIntroduced;
            } else if (kind == "fixed") {
              ev.kind = RangeEvent::Kind::kFixed;
            } else if (kind == "last_affected") {
              ev.kind = RangeEvent::Kind::kLastAffected;
            } else if (kind == "limit") {
              ev.kind = RangeEvent::Kind::kLimit;
            } else {
              return absl::InvalidArgumentError(
                  absl::StrCat("OSV record ", v.id, ": unknown range event \"", kind, "\""));
            }
            range.push_back(std::move(ev));
          }
          by_scheme[scheme].push_back(std::move(range));
        }
      }
      if (by_scheme.empty() && had_ranges && versions.empty()) continue;  // only GIT ranges
      if (by_scheme.empty()) by_scheme[SchemeForEcosystem(key, VersionScheme::kGeneric)];
      for (auto& [scheme, ranges] : by_scheme) {
        if (out->affected.size() >= kMaxAffected) {
          return absl::InvalidArgumentError("feed has too many affected packages");
        }
        Affected af;
        af.vuln_id = v.id;
        af.source = source;
        af.ecosystem = key;
        af.package = name;
        af.scheme = scheme;
        af.ranges = std::move(ranges);
        af.versions = versions;
        af.severity = sev;
        out->affected.push_back(std::move(af));
      }
    }
  }
  out->vulnerabilities.push_back(std::move(v));
  return absl::OkStatus();
}

// First non-blank character and, for an object, its first key.
struct Head {
  char first = 0;
  std::string first_key;
};

absl::StatusOr<Head> ReadHead(absl::string_view s) {
  Head h;
  size_t i = 0;
  if (s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 BOM
  while (i < s.size() && absl::ascii_isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size() || (s[i] != '{' && s[i] != '[')) {
    return absl::InvalidArgumentError("not a JSON object or array");
  }
  h.first = s[i++];
  if (h.first == '[') return h;
  while (i < s.size() && absl::ascii_isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i < s.size() && s[i] == '"') {
    const size_t end = s.find('"', i + 1);
    if (end != absl::string_view::npos) h.first_key = std::string(s.substr(i + 1, end - i - 1));
  }
  return h;
}

// ---- Debian security tracker (SAX) ----

class DebianTrackerSax : public nlohmann::json_sax<json> {
 public:
  explicit DebianTrackerSax(const std::string& source) : source_(source) {}

  bool null() override { return Scalar(""); }
  bool boolean(bool) override { return Scalar(""); }
  bool number_integer(number_integer_t) override { return Scalar(""); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(""); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(""); }
  bool binary(binary_t&) override { return Scalar(""); }
  bool string(string_t& val) override { return Scalar(val); }

  bool start_object(std::size_t) override {
    if (depth_ == 0 && seen_root_) return Fail("more than one JSON value");
    seen_root_ = true;
    if (++depth_ > kMaxJsonDepth) return Fail("JSON nested too deeply");
    if (depth_ == 5 && InReleases()) release_ = Release{};
    return true;
  }
  bool end_object() override {
    if (depth_ == 5 && InReleases()) {
      if (!EmitRelease()) return false;
    } else if (depth_ == 3) {
      EmitIssue();
    }
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return Fail("the tracker JSON must be an object of packages");
    if (++depth_ > kMaxJsonDepth) return Fail("JSON nested too deeply");
    ++array_depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    --array_depth_;
    return true;
  }
  bool key(string_t& val) override {
    if (depth_ < static_cast<int>(keys_.size())) keys_[depth_] = val;
    if (depth_ == 1) package_ = val;
    if (depth_ == 2) {
      issue_ = val;
      description_.clear();
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    error_ = absl::InvalidArgumentError(
        absl::StrCat("Debian tracker JSON is invalid at byte ", position, ": ", ex.what()));
    return false;
  }

  absl::Status error() const { return error_; }
  FeedData Take() {
    for (auto& [id, v] : vulns_) data_.vulnerabilities.push_back(std::move(v));
    return std::move(data_);
  }

 private:
  struct Release {
    std::string status, fixed_version, urgency;
  };

  bool Fail(absl::string_view why) {
    error_ = absl::InvalidArgumentError(absl::StrCat("Debian tracker JSON: ", why));
    return false;
  }
  bool InReleases() const { return depth_ >= 4 && keys_[3] == "releases" && array_depth_ == 0; }

  bool Scalar(const std::string& val) {
    if (depth_ == 0) return Fail("the tracker JSON must be an object of packages");
    if (array_depth_ > 0) return true;
    if (depth_ == 3 && keys_[3] == "description") description_ = val;
    if (depth_ == 5 && InReleases()) {
      const std::string& k = keys_[5];
      if (k == "status") release_.status = val;
      if (k == "fixed_version") release_.fixed_version = val;
      if (k == "urgency") release_.urgency = val;
    }
    return true;
  }

  bool EmitRelease() {
    const std::string& codename = keys_[4];
    const std::string number = DebianReleaseNumber(codename);
    if (number.empty() || !IsValidId(issue_) || package_.empty()) {
      ++data_.skipped;
      return true;
    }
    Affected a;
    a.vuln_id = issue_;
    a.source = source_;
    a.ecosystem = "debian:" + number;
    a.package = package_;
    a.scheme = VersionScheme::kDpkg;
    std::string urgency = release_.urgency;
    while (!urgency.empty() && urgency.back() == '*') urgency.pop_back();
    if (!ParseSeverity(urgency, &a.severity)) a.severity = Severity::kUnknown;
    if (release_.status == "resolved") {
      if (release_.fixed_version.empty() || release_.fixed_version == "0") {
        ++data_.skipped;  // not affected in this release
        return true;
      }
      a.ranges.push_back({{RangeEvent::Kind::kIntroduced, "0"},
                          {RangeEvent::Kind::kFixed, release_.fixed_version}});
    } else if (release_.status == "open") {
      a.ranges.push_back({{RangeEvent::Kind::kIntroduced, "0"}});
    } else {
      ++data_.skipped;  // undetermined: the tracker does not know yet
      return true;
    }
    if (data_.affected.size() >= kMaxAffected) return Fail("too many entries");
    data_.affected.push_back(std::move(a));
    return true;
  }

  void EmitIssue() {
    if (!IsValidId(issue_)) return;
    auto [it, inserted] = vulns_.try_emplace(issue_);
    Vulnerability& v = it->second;
    if (inserted) {
      v.id = issue_;
      AddCanonicalLinks(&v, "https://security-tracker.debian.org/tracker/");
    }
    if (v.description.empty() && !description_.empty()) {
      v.description = description_;
      v.summary = description_.substr(0, 200);
    }
  }

  const std::string source_;
  int depth_ = 0;
  int array_depth_ = 0;
  bool seen_root_ = false;
  std::vector<std::string> keys_ = std::vector<std::string>(kMaxJsonDepth + 2);
  std::string package_, issue_, description_;
  Release release_;
  std::map<std::string, Vulnerability> vulns_;
  FeedData data_;
  absl::Status error_;
};

}  // namespace

absl::string_view FeedFormatName(FeedFormat f) {
  switch (f) {
    case FeedFormat::kAuto:
      return "auto";
    case FeedFormat::kOsv:
      return "osv";
    case FeedFormat::kDebianTracker:
      return "debian";
    case FeedFormat::kAlpineSecdb:
      return "alpine";
  }
  return "auto";
}

bool ParseFeedFormat(absl::string_view name, FeedFormat* f) {
  for (FeedFormat x : {FeedFormat::kAuto, FeedFormat::kOsv, FeedFormat::kDebianTracker,
                       FeedFormat::kAlpineSecdb}) {
    if (FeedFormatName(x) == name) {
      *f = x;
      return true;
    }
  }
  return false;
}

absl::StatusOr<FeedFormat> DetectFeedFormat(absl::string_view head) {
  absl::StatusOr<Head> h = ReadHead(head);
  if (!h.ok()) return h.status();
  if (h->first == '[') return FeedFormat::kOsv;
  static const char* kOsvKeys[] = {"id", "schema_version", "modified", "published", "withdrawn",
                                   "aliases", "related", "summary", "details", "severity",
                                   "affected", "references", "credits", "database_specific"};
  for (const char* k : kOsvKeys) {
    if (h->first_key == k) return FeedFormat::kOsv;
  }
  static const char* kAlpineKeys[] = {"apkurl", "archs", "distroversion", "reponame", "urlprefix",
                                      "packages"};
  for (const char* k : kAlpineKeys) {
    if (h->first_key == k) return FeedFormat::kAlpineSecdb;
  }
  return FeedFormat::kDebianTracker;
}

absl::Status ParseOsv(absl::string_view text, const std::string& source, FeedData* out) {
  if (text.size() > kMaxOsvRecordSize) {
    return absl::InvalidArgumentError(absl::StrCat("OSV file is ", text.size(), " bytes, more than ",
                                                   kMaxOsvRecordSize, " allowed"));
  }
  absl::StatusOr<json> doc = ParseJson(text, "OSV file");
  if (!doc.ok()) return doc.status();
  if (doc->is_array()) {
    for (const json& rec : *doc) {
      absl::Status s = ParseOsvRecord(rec, source, out);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return ParseOsvRecord(*doc, source, out);
}

absl::StatusOr<FeedData> ParseDebianTracker(std::istream& in, const std::string& source) {
  DebianTrackerSax sax(source);
  bool ok = false;
  try {
    ok = json::sax_parse(in, &sax, json::input_format_t::json, /*strict=*/true);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("Debian tracker JSON is invalid: ", e.what()));
  }
  if (!ok) {
    absl::Status s = sax.error();
    return s.ok() ? absl::InvalidArgumentError("Debian tracker JSON is invalid") : s;
  }
  return sax.Take();
}

absl::StatusOr<FeedData> ParseAlpineSecdb(absl::string_view text, const std::string& source,
                                          std::string* source_suffix) {
  if (text.size() > kMaxAlpineSecdbSize) {
    return absl::InvalidArgumentError(absl::StrCat("Alpine secdb file is ", text.size(),
                                                   " bytes, more than ", kMaxAlpineSecdbSize,
                                                   " allowed"));
  }
  absl::StatusOr<json> doc = ParseJson(text, "Alpine secdb file");
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) return absl::InvalidArgumentError("Alpine secdb file is not a JSON object");
  const std::string distroversion = Str(*doc, "distroversion");
  const std::string reponame = Str(*doc, "reponame");
  const std::string key = EcosystemForOsv(absl::StrCat("Alpine:", distroversion));
  if (distroversion.empty() || key.empty()) {
    return absl::InvalidArgumentError("Alpine secdb file has no valid distroversion");
  }
  if (source_suffix) *source_suffix = absl::StrCat(distroversion, "/", reponame);
  auto pkgs = doc->find("packages");
  if (pkgs == doc->end() || !pkgs->is_array()) {
    return absl::InvalidArgumentError("Alpine secdb file has no packages array");
  }
  FeedData out;
  std::map<std::string, Vulnerability> vulns;
  for (const json& entry : *pkgs) {
    const json pkg = entry.is_object() ? entry.value("pkg", json()) : json();
    const std::string name = Str(pkg, "name");
    if (name.empty()) return absl::InvalidArgumentError("Alpine secdb: package entry without a name");
    const json secfixes = pkg.value("secfixes", json::object());
    if (!secfixes.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("Alpine secdb: package ", name, ": secfixes is not an object"));
    }
    for (auto it = secfixes.begin(); it != secfixes.end(); ++it) {
      const std::string& fixed = it.key();
      if (!it.value().is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Alpine secdb: package ", name, ": fix ", fixed, " is not a list"));
      }
      for (const json& ids : it.value()) {
        if (!ids.is_string()) continue;
        for (absl::string_view id : absl::StrSplit(ids.get<std::string>(), ' ', absl::SkipEmpty())) {
          if (!IsValidId(id) || !absl::ascii_isupper(static_cast<unsigned char>(id[0]))) continue;
          if (fixed == "0") {
            ++out.skipped;  // the package was never affected
            continue;
          }
          Affected a;
          a.vuln_id = std::string(id);
          a.source = source;
          a.ecosystem = key;
          a.package = name;
          a.scheme = VersionScheme::kApk;
          a.ranges.push_back({{RangeEvent::Kind::kIntroduced, "0"}, {RangeEvent::Kind::kFixed, fixed}});
          if (out.affected.size() >= kMaxAffected) {
            return absl::InvalidArgumentError("Alpine secdb has too many entries");
          }
          out.affected.push_back(std::move(a));
          auto [vit, inserted] = vulns.try_emplace(std::string(id));
          if (inserted) {
            vit->second.id = std::string(id);
            AddCanonicalLinks(&vit->second, "https://security.alpinelinux.org/vuln/");
          }
        }
      }
    }
  }
  for (auto& [id, v] : vulns) out.vulnerabilities.push_back(std::move(v));
  return out;
}

}  // namespace portunus::scanner
