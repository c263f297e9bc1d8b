#include "services/auth/authenticator.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/auth/secret_digest.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

// Longer inputs are refused before any lookup (no real username or secret is this long).
constexpr size_t kMaxUsername = 255;
constexpr size_t kMaxSecret = 4096;

absl::Status InvalidCredentials() { return absl::UnauthenticatedError("invalid credentials"); }
absl::Status Malformed() { return absl::UnauthenticatedError("malformed authorization header"); }

// Splits "user:secret" at the first ':' (passwords may contain ':').
bool SplitUserSecret(absl::string_view text, std::string* user, std::string* secret) {
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return false;
  *user = std::string(text.substr(0, colon));
  *secret = std::string(text.substr(colon + 1));
  return true;
}

}  // namespace

Authenticator::Authenticator(Options options, CredentialStore& store, PasswordHasher& hasher,
                             CredentialCache& cache, Clock& clock)
    : options_(std::move(options)),
      store_(store),
      hasher_(hasher),
      cache_(cache),
      clock_(clock),
      compare_key_(RandomBytes(32)),
      internal_digest_(HmacSha256(compare_key_, options_.internal_secret)) {}

absl::StatusOr<Authenticator::Parsed> Authenticator::Parse(const Credentials& c) const {
  Parsed p{Parsed::Form::kAnonymous, "", ""};
  if (!c.authorization.empty()) {
    const absl::string_view header = absl::StripAsciiWhitespace(c.authorization);
    const size_t space = header.find(' ');
    if (space == absl::string_view::npos) return Malformed();
    const std::string scheme = absl::AsciiStrToLower(header.substr(0, space));
    const absl::string_view value = absl::StripAsciiWhitespace(header.substr(space + 1));
    if (value.size() > 2 * kMaxSecret) return Malformed();
    if (scheme == "basic") {
      std::optional<std::string> decoded = Base64Decode(value);
      if (!decoded.has_value() || !SplitUserSecret(*decoded, &p.user, &p.secret)) return Malformed();
      p.form = Parsed::Form::kPasswordOrToken;
    } else if (scheme == "bearer") {
      if (value.empty()) return Malformed();
      p.secret = std::string(value);
      p.form = Parsed::Form::kBearer;
    } else {
      return absl::UnauthenticatedError("unsupported authorization scheme");
    }
  } else if (!c.portus_auth.empty()) {
    if (!SplitUserSecret(c.portus_auth, &p.user, &p.secret)) return Malformed();
    p.form = Parsed::Form::kTokenOnly;
  } else if (!c.username.empty() || !c.secret.empty()) {
    p.user = c.username;
    p.secret = c.secret;
    p.form = Parsed::Form::kPasswordOrToken;
  } else {
    return p;
  }
  if (p.form != Parsed::Form::kBearer && (p.user.empty() || p.user.size() > kMaxUsername)) {
    return InvalidCredentials();
  }
  if (p.secret.empty() || p.secret.size() > kMaxSecret) return InvalidCredentials();
  return p;
}

std::string Authenticator::CacheKey(const Parsed& p) const {
  switch (p.form) {
    case Parsed::Form::kBearer:
      return cache_.KeyFor("bearer", "", p.secret);
    case Parsed::Form::kTokenOnly:
      return cache_.KeyFor("token", p.user, p.secret);
    default:
      return cache_.KeyFor("basic", p.user, p.secret);
  }
}

std::optional<absl::StatusOr<Principal>> Authenticator::FastPath(const Parsed& p,
                                                                 const std::string& key) {
  if (p.form == Parsed::Form::kAnonymous) return absl::StatusOr<Principal>(Principal::Anonymous());
  if (p.form != Parsed::Form::kBearer && p.user == kInternalPrincipalName) {
    // Never a database account: the shared secret or nothing. HMAC both sides so the comparison
    // takes the same time whatever the lengths.
    if (!options_.internal_secret.empty() && p.form == Parsed::Form::kPasswordOrToken &&
        ConstantTimeEquals(HmacSha256(compare_key_, p.secret), internal_digest_)) {
      return absl::StatusOr<Principal>(Principal::Internal());
    }
    return absl::StatusOr<Principal>(InvalidCredentials());
  }
  if (std::optional<Principal> hit = cache_.Lookup(key)) return absl::StatusOr<Principal>(*hit);
  return std::nullopt;
}

std::optional<absl::StatusOr<Principal>> Authenticator::TryAuthenticateCached(
    const Credentials& credentials) {
  absl::StatusOr<Parsed> p = Parse(credentials);
  if (!p.ok()) return absl::StatusOr<Principal>(p.status());
  if (p->form == Parsed::Form::kAnonymous) return absl::StatusOr<Principal>(Principal::Anonymous());
  return FastPath(*p, CacheKey(*p));
}

absl::StatusOr<Principal> Authenticator::Authenticate(const Credentials& credentials) {
  absl::StatusOr<Parsed> p = Parse(credentials);
  if (!p.ok()) return p.status();
  if (p->form == Parsed::Form::kAnonymous) return Principal::Anonymous();
  const std::string key = CacheKey(*p);
  if (auto fast = FastPath(*p, key)) return *fast;
  const uint64_t epoch = cache_.epoch();
  absl::StatusOr<Principal> principal = SlowPath(*p);
  if (principal.ok()) cache_.Insert(key, *principal, epoch);
  return principal;
}

Principal Authenticator::PrincipalOf(const LoginRecord& r) {
  return r.bot ? Principal::Bot(r.id, r.username) : Principal::User(r.id, r.username, r.admin);
}

absl::StatusOr<Principal> Authenticator::Fail(const LoginRecord& record) {
  absl::StatusOr<bool> locked = store_.RecordLoginFailure(
      record.id, clock_.Now(), options_.max_failed_attempts, options_.lockout);
  if (!locked.ok()) {
    LogWarn("cannot record failed login", {{"user", record.username}, {"error", locked.status()}});
  } else if (*locked) {
    // This replica drops the account's cached credentials now; the others when the feed tells
    // them (the lock is announced by NOTIFY).
    cache_.ForgetUser(record.id);
    LogWarn("account locked after failed logins",
            {{"user", record.username}, {"attempts", options_.max_failed_attempts},
             {"lockout", options_.lockout}});
  }
  return InvalidCredentials();
}

absl::StatusOr<Principal> Authenticator::SlowPath(const Parsed& p) {
  const absl::Time now = clock_.Now();
  const auto usable = [now](const LoginRecord& r) {
    return r.enabled && !(r.locked_until.has_value() && *r.locked_until > now);
  };
  if (p.form == Parsed::Form::kBearer) {
    absl::StatusOr<std::optional<LoginRecord>> owner = store_.FindTokenOwner(Sha256(p.secret));
    if (!owner.ok()) return owner.status();
    if (!owner->has_value() || !usable(**owner)) return InvalidCredentials();
    return PrincipalOf(**owner);
  }

  const bool password_allowed = p.form == Parsed::Form::kPasswordOrToken;
  absl::StatusOr<std::optional<LoginRecord>> found = store_.FindLogin(p.user);
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    if (password_allowed) hasher_.VerifyDummy(p.secret);  // same time as a real check
    return InvalidCredentials();
  }
  const LoginRecord& record = **found;
  if (!usable(record)) {
    if (password_allowed) hasher_.VerifyDummy(p.secret);
    return InvalidCredentials();
  }
  bool ok = false;
  if (absl::StartsWith(p.secret, kApplicationTokenPrefix)) {
    absl::StatusOr<std::optional<LoginRecord>> owner = store_.FindTokenOwner(Sha256(p.secret));
    if (!owner.ok()) return owner.status();
    ok = owner->has_value() && (*owner)->id == record.id;
  }
  if (!ok && password_allowed) {
    if (!record.bot && record.password_hash.has_value()) {
      ok = hasher_.Verify(p.secret, *record.password_hash);
    } else {
      hasher_.VerifyDummy(p.secret);  // bots have no password: same time, same answer
    }
  }
  if (!ok) return Fail(record);
  if (record.failed_attempts > 0) {
    absl::Status s = store_.ResetLoginFailures(record.id);
    if (!s.ok()) LogWarn("cannot reset failed logins", {{"user", record.username}, {"error", s}});
  }
  return PrincipalOf(record);
}

}  // namespace portunus::auth
