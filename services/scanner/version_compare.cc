#include "services/scanner/version_compare.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace portunus::scanner {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
int Sign(int v) { return v < 0 ? -1 : (v > 0 ? 1 : 0); }

// ---- dpkg ----

// dpkg's order(): digits 0 (never reached in practice), letters their value, '~' -1, other
// characters value + 256, end of string 0.
int DpkgOrder(int c) {
  if (IsDigit(static_cast<char>(c))) return 0;
  if (IsAlpha(static_cast<char>(c))) return c;
  if (c == '~') return -1;
  if (c) return c + 256;
  return 0;
}

}  // namespace

absl::string_view VersionSchemeName(VersionScheme scheme) {
  switch (scheme) {
    case VersionScheme::kDpkg:
      return "dpkg";
    case VersionScheme::kApk:
      return "apk";
    case VersionScheme::kRpm:
      return "rpm";
    case VersionScheme::kSemver:
      return "semver";
    case VersionScheme::kGeneric:
      return "generic";
  }
  return "generic";
}

int DpkgVerRevCmp(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  auto at = [](absl::string_view s, size_t k) -> int {
    return k < s.size() ? static_cast<unsigned char>(s[k]) : 0;
  };
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !IsDigit(a[i])) || (j < b.size() && !IsDigit(b[j]))) {
      const int ac = DpkgOrder(at(a, i));
      const int bc = DpkgOrder(at(b, j));
      if (ac != bc) return ac - bc;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    while (i < a.size() && j < b.size() && IsDigit(a[i]) && IsDigit(b[j])) {
      if (!first_diff) first_diff = a[i] - b[j];
      ++i;
      ++j;
    }
    if (i < a.size() && IsDigit(a[i])) return 1;
    if (j < b.size() && IsDigit(b[j])) return -1;
    if (first_diff) return first_diff;
  }
  return 0;
}

absl::StatusOr<DpkgVersion> ParseDpkgVersion(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  if (s.empty()) return absl::InvalidArgumentError("version string is empty");
  for (char c : s) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("version string has embedded spaces");
    }
  }
  DpkgVersion v;
  const size_t colon = s.find(':');
  if (colon != absl::string_view::npos) {
    absl::string_view epoch = s.substr(0, colon);
    if (epoch.empty()) return absl::InvalidArgumentError("epoch in version is empty");
    uint64_t e = 0;
    for (char c : epoch) {
      if (!IsDigit(c)) return absl::InvalidArgumentError("epoch in version is not number");
      e = e * 10 + static_cast<uint64_t>(c - '0');
      if (e > 2147483647u) return absl::InvalidArgumentError("epoch in version is too big");
    }
    v.epoch = static_cast<uint32_t>(e);
    s.remove_prefix(colon + 1);
    if (s.empty()) return absl::InvalidArgumentError("nothing after colon in version number");
  }
  const size_t hyphen = s.rfind('-');
  if (hyphen != absl::string_view::npos) {
    v.revision = std::string(s.substr(hyphen + 1));
    if (v.revision.empty()) return absl::InvalidArgumentError("revision number is empty");
    s = s.substr(0, hyphen);
  }
  if (s.empty()) return absl::InvalidArgumentError("version number is empty");
  v.upstream = std::string(s);
  return v;
}

int CompareDpkg(const DpkgVersion& a, const DpkgVersion& b) {
  if (a.epoch > b.epoch) return 1;
  if (a.epoch < b.epoch) return -1;
  const int rc = DpkgVerRevCmp(a.upstream, b.upstream);
  if (rc) return rc;
  return DpkgVerRevCmp(a.revision, b.revision);
}

int CompareDpkgVersions(absl::string_view a, absl::string_view b) {
  auto pa = ParseDpkgVersion(a);
  auto pb = ParseDpkgVersion(b);
  DpkgVersion va = pa.ok() ? *std::move(pa) : DpkgVersion{0, std::string(a), ""};
  DpkgVersion vb = pb.ok() ? *std::move(pb) : DpkgVersion{0, std::string(b), ""};
  return Sign(CompareDpkg(va, vb));
}

// ---- apk ----
namespace {

enum ApkToken {
  kTokInitialDigit,
  kTokDigit,
  kTokLetter,
  kTokSuffix,
  kTokSuffixNo,
  kTokCommitHash,
  kTokRevisionNo,
  kTokEnd,
  kTokInvalid,
};

// Suffix values in apk-tools' order; kSufNone separates pre-release from post-release ones.
enum ApkSuffix {
  kSufInvalid,
  kSufAlpha,
  kSufBeta,
  kSufPre,
  kSufRc,
  kSufNone,
  kSufCvs,
  kSufSvn,
  kSufGit,
  kSufHg,
  kSufP,
};

int ApkSuffixValue(absl::string_view s) {
  if (s == "alpha") return kSufAlpha;
  if (s == "beta") return kSufBeta;
  if (s == "pre") return kSufPre;
  if (s == "rc") return kSufRc;
  if (s == "cvs") return kSufCvs;
  if (s == "svn") return kSufSvn;
  if (s == "git") return kSufGit;
  if (s == "hg") return kSufHg;
  if (s == "p") return kSufP;
  return kSufInvalid;
}

struct ApkTokenState {
  int token = kTokInitialDigit;
  int suffix = kSufInvalid;
  uint64_t number = 0;
  absl::string_view value;
};

void ApkParseDigits(ApkTokenState* t, absl::string_view* b) {
  size_t n = 0;
  uint64_t number = 0;
  while (n < b->size() && IsDigit((*b)[n])) {
    number = number * 10 + static_cast<uint64_t>((*b)[n] - '0');  // wraps like apk-tools
    ++n;
  }
  t->number = number;
  t->value = b->substr(0, n);
  b->remove_prefix(n);
  if (n == 0) t->token = kTokInvalid;
}

void ApkTokenFirst(ApkTokenState* t, absl::string_view* b) {
  t->token = kTokInitialDigit;
  ApkParseDigits(t, b);
}

void ApkTokenNext(ApkTokenState* t, absl::string_view* b) {
  if (b->empty()) {
    t->token = kTokEnd;
    return;
  }
  const char c = (*b)[0];
  if (IsLower(c)) {
    if (t->token > kTokDigit) {
      t->token = kTokInvalid;
      return;
    }
    t->value = b->substr(0, 1);
    t->token = kTokLetter;
    b->remove_prefix(1);
    return;
  }
  if (c == '.' || IsDigit(c)) {
    if (c == '.') {
      if (t->token > kTokDigit) {
        t->token = kTokInvalid;
        return;
      }
      b->remove_prefix(1);
    }
    switch (t->token) {
      case kTokInitialDigit:
      case kTokDigit:
        t->token = kTokDigit;
        break;
      case kTokSuffix:
        t->token = kTokSuffixNo;
        break;
      default:
        t->token = kTokInvalid;
        return;
    }
    ApkParseDigits(t, b);
    return;
  }
  if (c == '_') {
    if (t->token > kTokSuffixNo) {
      t->token = kTokInvalid;
      return;
    }
    b->remove_prefix(1);
    size_t n = 0;
    while (n < b->size() && IsLower((*b)[n])) ++n;
    t->value = b->substr(0, n);
    b->remove_prefix(n);
    t->suffix = ApkSuffixValue(t->value);
    t->token = t->suffix == kSufInvalid ? kTokInvalid : kTokSuffix;
    return;
  }
  if (c == '~') {
    if (t->token >= kTokCommitHash) {
      t->token = kTokInvalid;
      return;
    }
    b->remove_prefix(1);
    size_t n = 0;
    while (n < b->size() && IsLowerHex((*b)[n])) ++n;
    t->value = b->substr(0, n);
    b->remove_prefix(n);
    t->token = n == 0 ? kTokInvalid : kTokCommitHash;
    return;
  }
  if (c == '-') {
    if (t->token >= kTokRevisionNo || b->size() < 2 || (*b)[1] != 'r') {
      t->token = kTokInvalid;
      return;
    }
    b->remove_prefix(2);
    t->token = kTokRevisionNo;
    ApkParseDigits(t, b);
    return;
  }
  t->token = kTokInvalid;
}

// apk_blob_sort(): memcmp over the common length, then the shorter first.
int ApkBlobSort(absl::string_view a, absl::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return Sign(c);
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

int ApkTokenCmp(const ApkTokenState& ta, const ApkTokenState& tb) {
  uint64_t a = 0, b = 0;
  switch (ta.token) {
    case kTokDigit:
      // A component with a leading zero compares as a string (Gentoo's fractional rule).
      if ((!ta.value.empty() && ta.value[0] == '0') || (!tb.value.empty() && tb.value[0] == '0')) {
        return ApkBlobSort(ta.value, tb.value);
      }
      a = ta.number;
      b = tb.number;
      break;
    case kTokInitialDigit:
    case kTokSuffixNo:
    case kTokRevisionNo:
      a = ta.number;
      b = tb.number;
      break;
    case kTokLetter:
      a = static_cast<unsigned char>(ta.value[0]);
      b = static_cast<unsigned char>(tb.value[0]);
      break;
    case kTokSuffix:
      a = static_cast<uint64_t>(ta.suffix);
      b = static_cast<uint64_t>(tb.suffix);
      break;
    default:
      return ApkBlobSort(ta.value, tb.value);
  }
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

}  // namespace

bool IsValidApkVersion(absl::string_view version) {
  ApkTokenState t;
  absl::string_view b = version;
  for (ApkTokenFirst(&t, &b); t.token < kTokEnd; ApkTokenNext(&t, &b)) {
  }
  return t.token == kTokEnd;
}

int CompareApkVersions(absl::string_view a, absl::string_view b) {
  if (a.empty() || b.empty()) {
    if (a.empty() && b.empty()) return 0;
    return a.empty() ? -1 : 1;  // apk reports "any"; an absent version sorts first here
  }
  ApkTokenState ta, tb;
  for (ApkTokenFirst(&ta, &a), ApkTokenFirst(&tb, &b); ta.token == tb.token && ta.token < kTokEnd;
       ApkTokenNext(&ta, &a), ApkTokenNext(&tb, &b)) {
    const int r = ApkTokenCmp(ta, tb);
    if (r != 0) return r;
  }
  if (ta.token == tb.token) return 0;
  // The common prefix is equal: the longer version is greater, unless what follows is a
  // pre-release suffix.
  if (ta.token == kTokSuffix && ta.suffix < kSufNone) return -1;
  if (tb.token == kTokSuffix && tb.suffix < kSufNone) return 1;
  if (ta.token > tb.token) return -1;
  if (tb.token > ta.token) return 1;
  return 0;
}

// ---- rpm ----

int Rpmvercmp(absl::string_view a, absl::string_view b) {
  if (a == b) return 0;
  size_t i = 0, j = 0;
  const size_t na = a.size(), nb = b.size();
  auto skip = [](absl::string_view s, size_t k) {
    while (k < s.size() && !IsAlpha(s[k]) && !IsDigit(s[k]) && s[k] != '~' && s[k] != '^') ++k;
    return k;
  };
  while (i < na || j < nb) {
    i = skip(a, i);
    j = skip(b, j);
    const char ca = i < na ? a[i] : '\0';
    const char cb = j < nb ? b[j] : '\0';
    // '~' sorts before everything else, even the end of the string.
    if (ca == '~' || cb == '~') {
      if (ca != '~') return 1;
      if (cb != '~') return -1;
      ++i;
      ++j;
      continue;
    }
    // '^' sorts after the end of the string but before anything else.
    if (ca == '^' || cb == '^') {
      if (i >= na) return -1;
      if (j >= nb) return 1;
      if (ca != '^') return 1;
      if (cb != '^') return -1;
      ++i;
      ++j;
      continue;
    }
    if (!(i < na && j < nb)) break;
    size_t ei = i, ej = j;
    bool isnum;
    if (IsDigit(a[i])) {
      while (ei < na && IsDigit(a[ei])) ++ei;
      while (ej < nb && IsDigit(b[ej])) ++ej;
      isnum = true;
    } else {
      while (ei < na && IsAlpha(a[ei])) ++ei;
      while (ej < nb && IsAlpha(b[ej])) ++ej;
      isnum = false;
    }
    if (ei == i) return -1;  // cannot happen: a has a segment here
    // Segments of different types: numeric is newer than alpha.
    if (ej == j) return isnum ? 1 : -1;
    absl::string_view sa = a.substr(i, ei - i);
    absl::string_view sb = b.substr(j, ej - j);
    if (isnum) {
      while (!sa.empty() && sa[0] == '0') sa.remove_prefix(1);
      while (!sb.empty() && sb[0] == '0') sb.remove_prefix(1);
      if (sa.size() > sb.size()) return 1;
      if (sb.size() > sa.size()) return -1;
    }
    const int rc = sa.compare(sb);
    if (rc) return rc < 0 ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= na && j >= nb) return 0;
  return i >= na ? -1 : 1;
}

RpmEvr ParseRpmEvr(absl::string_view evr) {
  RpmEvr out;
  size_t s = 0;
  while (s < evr.size() && IsDigit(evr[s])) ++s;
  absl::string_view rest = evr;
  if (s < evr.size() && evr[s] == ':') {
    out.epoch = std::string(evr.substr(0, s));
    rest = evr.substr(s + 1);
  }
  const size_t dash = rest.rfind('-');
  if (dash != absl::string_view::npos) {
    out.version = std::string(rest.substr(0, dash));
    out.release = std::string(rest.substr(dash + 1));
    out.has_release = true;
  } else {
    out.version = std::string(rest);
  }
  return out;
}

int CompareRpmEvr(const RpmEvr& a, const RpmEvr& b) {
  int rc = Rpmvercmp(a.epoch.empty() ? "0" : a.epoch, b.epoch.empty() ? "0" : b.epoch);
  if (rc) return rc;
  rc = Rpmvercmp(a.version, b.version);
  if (rc) return rc;
  if (a.has_release && b.has_release) return Rpmvercmp(a.release, b.release);
  return 0;
}

int CompareRpmVersions(absl::string_view a, absl::string_view b) {
  return CompareRpmEvr(ParseRpmEvr(a), ParseRpmEvr(b));
}

// ---- semver ----
namespace {

struct Semver {
  uint64_t core[3] = {0, 0, 0};
  std::vector<absl::string_view> pre;
};

bool ParseNumber(absl::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return absl::SimpleAtoi(s, out);
}

bool ParseSemver(absl::string_view s, Semver* v) {
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  const size_t plus = s.find('+');
  if (plus != absl::string_view::npos) s = s.substr(0, plus);
  const size_t dash = s.find('-');
  absl::string_view core = s.substr(0, dash);
  if (dash != absl::string_view::npos) {
    absl::string_view pre = s.substr(dash + 1);
    if (pre.empty()) return false;
    for (absl::string_view id : absl::StrSplit(pre, '.')) {
      if (id.empty()) return false;
      v->pre.push_back(id);
    }
  }
  std::vector<absl::string_view> parts = absl::StrSplit(core, '.');
  if (parts.empty() || parts.size() > 3) return false;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!ParseNumber(parts[k], &v->core[k])) return false;
  }
  return true;
}

int CompareIdentifiers(absl::string_view a, absl::string_view b) {
  uint64_t na = 0, nb = 0;
  const bool a_num = ParseNumber(a, &na);
  const bool b_num = ParseNumber(b, &nb);
  if (a_num && b_num) return na < nb ? -1 : (na > nb ? 1 : 0);
  if (a_num) return -1;  // numeric identifiers have lower precedence
  if (b_num) return 1;
  return Sign(a.compare(b));
}

}  // namespace

int CompareSemver(absl::string_view a, absl::string_view b) {
  Semver va, vb;
  if (!ParseSemver(a, &va) || !ParseSemver(b, &vb)) return Rpmvercmp(a, b);
  for (int k = 0; k < 3; ++k) {
    if (va.core[k] != vb.core[k]) return va.core[k] < vb.core[k] ? -1 : 1;
  }
  if (va.pre.empty() || vb.pre.empty()) {
    if (va.pre.empty() && vb.pre.empty()) return 0;
    return va.pre.empty() ? 1 : -1;  // a pre-release is lower than the release
  }
  const size_t n = std::min(va.pre.size(), vb.pre.size());
  for (size_t k = 0; k < n; ++k) {
    const int c = CompareIdentifiers(va.pre[k], vb.pre[k]);
    if (c) return c;
  }
  if (va.pre.size() == vb.pre.size()) return 0;
  return va.pre.size() < vb.pre.size() ? -1 : 1;
}

int CompareVersions(VersionScheme scheme, absl::string_view a, absl::string_view b) {
  switch (scheme) {
    case VersionScheme::kDpkg:
      return CompareDpkgVersions(a, b);
    case VersionScheme::kApk:
      return CompareApkVersions(a, b);
    case VersionScheme::kRpm:
      return CompareRpmVersions(a, b);
    case VersionScheme::kSemver:
      return CompareSemver(a, b);
    case VersionScheme::kGeneric:
      return Rpmvercmp(a, b);
  }
  return Rpmvercmp(a, b);
}

}  // namespace portunus::scanner
