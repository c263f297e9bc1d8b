#include "services/auth/key_ring.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

constexpr absl::Duration kExpiryWarning = absl::Hours(24 * 30);

absl::StatusOr<std::shared_ptr<const SigningKey>> LoadKey(const KeyFiles& files,
                                                          const SigningKeyOptions& options) {
  absl::StatusOr<std::string> key_pem = KeyDirectory::ReadFile(files.key_path);
  if (!key_pem.ok()) return key_pem.status();
  absl::StatusOr<std::string> cert_pem = KeyDirectory::ReadFile(files.cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  return SigningKey::FromPem(files.name, *key_pem, *cert_pem, options);
}

}  // namespace

const SigningKey* KeySet::FindByKid(absl::string_view kid) const {
  for (const auto& k : keys) {
    if (k->libtrust_kid() == kid || k->jwk_thumbprint() == kid) return k.get();
  }
  return nullptr;
}

KeyRing::KeyRing(std::string dir, SigningKeyOptions options, const Clock& clock)
    : directory_(std::move(dir)), options_(options), clock_(clock) {}

absl::Status KeyRing::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  const std::string stamp = directory_.ChangeStamp();
  const auto fail = [&](absl::Status status) {
    absl::MutexLock lock(&mu_);
    last_stamp_ = stamp;
    last_error_ = std::string(status.message());
    return status;
  };
  absl::StatusOr<std::vector<KeyFiles>> files = directory_.List();
  if (!files.ok()) return fail(files.status());
  if (files->empty()) {
    return fail(absl::NotFoundError(
        absl::StrCat("no signing keys in ", directory_.path(),
                     ": create one with `portunusctl keys generate`")));
  }
  absl::StatusOr<std::string> active_name = directory_.ReadActive();
  if (!active_name.ok()) return fail(active_name.status());
  if (active_name->empty()) {
    *active_name = files->back().name;
    LogWarn("no active signing key recorded: using the newest key",
            {{"dir", directory_.path()}, {"key", *active_name}});
  }

  auto set = std::make_shared<KeySet>();
  for (const KeyFiles& f : *files) {
    absl::StatusOr<std::shared_ptr<const SigningKey>> key = LoadKey(f, options_);
    if (!key.ok()) {
      if (f.name == *active_name) return fail(key.status());
      LogWarn("skipping a signing key that does not load",
              {{"key", f.name}, {"error", key.status()}});
      continue;
    }
    if (f.name == *active_name) set->active = *key;
    set->keys.push_back(*std::move(key));
  }
  if (set->active == nullptr) {
    return fail(absl::NotFoundError(absl::StrCat("the active signing key ", *active_name,
                                                 " is not in ", directory_.path())));
  }
  const absl::Time now = clock_.Now();
  const SigningKey& active = *set->active;
  if (active.not_after() < now) {
    LogError("the active signing key's certificate has expired: registries that verify x5c "
             "will refuse its tokens; run `portunusctl keys rotate`",
             {{"key", active.name()}, {"not_after", absl::FormatTime(active.not_after())}});
  } else if (active.not_after() < now + kExpiryWarning) {
    LogWarn("the active signing key's certificate expires soon; run `portunusctl keys rotate`",
            {{"key", active.name()}, {"not_after", absl::FormatTime(active.not_after())}});
  }
  LogInfo("signing keys loaded", {{"dir", directory_.path()},
                                  {"active", active.name()},
                                  {"algorithm", JwtAlgorithmName(active.algorithm())},
                                  {"kid", active.kid()},
                                  {"trusted", set->keys.size()}});
  absl::MutexLock lock(&mu_);
  current_ = std::move(set);
  last_stamp_ = stamp;
  last_error_.clear();
  return absl::OkStatus();
}

absl::Status KeyRing::ReloadIfChanged() {
  const std::string stamp = directory_.ChangeStamp();
  {
    absl::MutexLock lock(&mu_);
    if (stamp == last_stamp_) return absl::OkStatus();
  }
  return Reload();
}

std::shared_ptr<const KeySet> KeyRing::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::string KeyRing::NotReadyReason() const {
  absl::MutexLock lock(&mu_);
  if (current_ != nullptr) return "";
  return last_error_;
}

}  // namespace portunus::auth
