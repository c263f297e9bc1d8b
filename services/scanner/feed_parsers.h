// Parsers for the vulnerability feeds the scanner imports: OSV records (osv.dev schema), the
// Debian security tracker's JSON (security-tracker.debian.org/tracker/data/json), and Alpine's
// secdb (secdb.alpinelinux.org/<release>/<repo>.json). Pure functions over bounded input; every
// problem is a kInvalidArgument naming what is wrong.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/scanner/advisory.h"

namespace portunus::scanner {

enum class FeedFormat { kAuto, kOsv, kDebianTracker, kAlpineSecdb };

// "auto", "osv", "debian", "alpine"; and back (false for anything else).
absl::string_view FeedFormatName(FeedFormat f);
bool ParseFeedFormat(absl::string_view name, FeedFormat* f);

inline constexpr size_t kMaxOsvRecordSize = 16 * 1024 * 1024;
inline constexpr size_t kMaxAlpineSecdbSize = 64 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 64;

// The format of a JSON document from its first key: OSV records start with "id",
// "schema_version", "modified", ... (or are an array of records), Alpine secdb files with
// "apkurl", "archs", "distroversion", ...; anything else that is a JSON object is taken for the
// Debian tracker (whose keys are package names). kInvalidArgument when `head` (the first bytes
// of the document) is not the start of a JSON object or array.
absl::StatusOr<FeedFormat> DetectFeedFormat(absl::string_view head);

// Parses one OSV record, or a JSON array of records, into `out` (appending). Affected packages
// of ecosystems the scanner cannot key (EcosystemForOsv returns "") and GIT ranges are counted
// in out->skipped; a withdrawn record only lands in out->withdrawn. Severity: the CVSS v3 vector's
// base score, else a textual severity (database_specific.severity, an "Ubuntu" severity entry);
// per package: the affected entry's own severity or ecosystem_specific urgency.
// `source` is recorded on every affected entry.
absl::Status ParseOsv(absl::string_view json, const std::string& source, FeedData* out);

// Parses the Debian security tracker's JSON, streamed: {package: {issue id: {description,
// releases: {codename: {status, fixed_version, urgency}}}}}. Per release: "resolved" with a
// fixed version is fixed in that version (fixed_version "0": never affected, skipped); "open" is
// affected and unfixed; "undetermined" and unknown releases are skipped. Urgency gives the
// severity (unimportant = Negligible, "not yet assigned" = Unknown).
absl::StatusOr<FeedData> ParseDebianTracker(std::istream& in, const std::string& source);

// Parses one Alpine secdb file: {distroversion, reponame, packages: [{pkg: {name, secfixes:
// {fixed version: [ids]}}}]}. The fix key "0" means the package was never affected (skipped).
// Sets *source_suffix to "<distroversion>/<reponame>" ("v3.18/main").
absl::StatusOr<FeedData> ParseAlpineSecdb(absl::string_view json, const std::string& source,
                                          std::string* source_suffix);

}  // namespace portunus::scanner
