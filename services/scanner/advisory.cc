#include "services/scanner/advisory.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {

absl::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kUnknown:
      return "Unknown";
    case Severity::kNegligible:
      return "Negligible";
    case Severity::kLow:
      return "Low";
    case Severity::kMedium:
      return "Medium";
    case Severity::kHigh:
      return "High";
    case Severity::kCritical:
      return "Critical";
  }
  return "Unknown";
}

bool ParseSeverity(absl::string_view text, Severity* s) {
  const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (t == "unknown") {
    *s = Severity::kUnknown;
  } else if (t == "negligible" || t == "unimportant" || t == "none") {
    *s = Severity::kNegligible;
  } else if (t == "low") {
    *s = Severity::kLow;
  } else if (t == "medium" || t == "moderate") {
    *s = Severity::kMedium;
  } else if (t == "high" || t == "important") {
    *s = Severity::kHigh;
  } else if (t == "critical") {
    *s = Severity::kCritical;
  } else {
    return false;
  }
  return true;
}

namespace {

// CVSS v3.1 Roundup: the smallest number with one decimal that is >= x, computed on integers
// to avoid floating point surprises (specification appendix A).
double Roundup(double x) {
  const long long i = std::llround(x * 100000);
  if (i % 10000 == 0) return static_cast<double>(i) / 100000.0;
  return static_cast<double>(i / 10000 + 1) / 10.0;
}

}  // namespace

std::optional<double> CvssV3BaseScore(absl::string_view vector) {
  std::vector<absl::string_view> parts = absl::StrSplit(vector, '/');
  if (parts.empty() || (parts[0] != "CVSS:3.0" && parts[0] != "CVSS:3.1")) return std::nullopt;
  std::map<absl::string_view, absl::string_view> m;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t colon = parts[i].find(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    m[parts[i].substr(0, colon)] = parts[i].substr(colon + 1);
  }
  auto get = [&](absl::string_view k) -> absl::string_view {
    auto it = m.find(k);
    return it == m.end() ? absl::string_view() : it->second;
  };
  const absl::string_view av = get("AV"), ac = get("AC"), pr = get("PR"), ui = get("UI"),
                          sc = get("S"), c = get("C"), in = get("I"), a = get("A");
  const bool changed = sc == "C";
  if (sc != "C" && sc != "U") return std::nullopt;
  double vav, vac, vpr, vui;
  if (av == "N") vav = 0.85; else if (av == "A") vav = 0.62; else if (av == "L") vav = 0.55;
  else if (av == "P") vav = 0.2; else return std::nullopt;
  if (ac == "L") vac = 0.77; else if (ac == "H") vac = 0.44; else return std::nullopt;
  if (pr == "N") vpr = 0.85; else if (pr == "L") vpr = changed ? 0.68 : 0.62;
  else if (pr == "H") vpr = changed ? 0.5 : 0.27; else return std::nullopt;
  if (ui == "N") vui = 0.85; else if (ui == "R") vui = 0.62; else return std::nullopt;
  auto cia = [](absl::string_view v, double* out) {
    if (v == "H") *out = 0.56; else if (v == "L") *out = 0.22; else if (v == "N") *out = 0;
    else return false;
    return true;
  };
  double vc, vi, va;
  if (!cia(c, &vc) || !cia(in, &vi) || !cia(a, &va)) return std::nullopt;
  const double iss = 1 - (1 - vc) * (1 - vi) * (1 - va);
  const double impact =
      changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  const double exploitability = 8.22 * vav * vac * vpr * vui;
  if (impact <= 0) return 0.0;
  return changed ? Roundup(std::min(1.08 * (impact + exploitability), 10.0))
                 : Roundup(std::min(impact + exploitability, 10.0));
}

Severity SeverityFromCvss(double score) {
  if (score >= 9.0) return Severity::kCritical;
  if (score >= 7.0) return Severity::kHigh;
  if (score >= 4.0) return Severity::kMedium;
  if (score > 0.0) return Severity::kLow;
  return Severity::kNegligible;
}

namespace {

bool IsZeroIntroduced(const RangeEvent& e) {
  return e.kind == RangeEvent::Kind::kIntroduced && (e.version == "0" || e.version.empty());
}

}  // namespace

AffectedVerdict EvaluateAffected(const Affected& a, absl::string_view version) {
  AffectedVerdict verdict;
  for (const std::string& v : a.versions) {
    if (CompareVersions(a.scheme, v, version) == 0) verdict.affected = true;
  }
  if (a.ranges.empty() && a.versions.empty()) {
    verdict.affected = true;  // no bounds at all: every version, nothing fixes it
    return verdict;
  }
  for (const AffectedRange& range : a.ranges) {
    std::vector<const RangeEvent*> events;
    for (const RangeEvent& e : range) events.push_back(&e);
    std::stable_sort(events.begin(), events.end(), [&](const RangeEvent* x, const RangeEvent* y) {
      const bool zx = IsZeroIntroduced(*x), zy = IsZeroIntroduced(*y);
      if (zx || zy) return zx && !zy;
      return CompareVersions(a.scheme, x->version, y->version) < 0;
    });
    bool affected = false;
    bool limited = false;
    for (const RangeEvent* e : events) {
      const int cmp = IsZeroIntroduced(*e) ? 1 : CompareVersions(a.scheme, version, e->version);
      switch (e->kind) {
        case RangeEvent::Kind::kIntroduced:
          if (cmp >= 0) affected = true;
          break;
        case RangeEvent::Kind::kFixed:
          if (cmp >= 0) affected = false;
          break;
        case RangeEvent::Kind::kLastAffected:
          if (cmp > 0) affected = false;
          break;
        case RangeEvent::Kind::kLimit:
          if (cmp >= 0) limited = true;
          break;
      }
    }
    if (!affected || limited) continue;
    verdict.affected = true;
    // The fix is the first fixed event above the installed version.
    for (const RangeEvent* e : events) {
      if (e->kind == RangeEvent::Kind::kFixed && CompareVersions(a.scheme, version, e->version) < 0) {
        if (verdict.fixed_version.empty() ||
            CompareVersions(a.scheme, e->version, verdict.fixed_version) < 0) {
          verdict.fixed_version = e->version;
        }
        break;
      }
    }
  }
  return verdict;
}

}  // namespace portunus::scanner
