// KeyRing: the signing keys the auth service holds, loaded from a KeyDirectory and re-read when
// it changes, so `portunusctl keys rotate` takes effect without restarting Portunus.
//
// A loaded KeySet has exactly one active key (the one that signs) and any number of other keys
// that are still trusted (their certificates stay in the registry's rootcertbundle, so tokens
// they signed remain valid until they expire). Readers take an immutable snapshot
// (`Current()`), so a reload never disturbs a signature in progress.
//
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/auth/key_directory.h"
#include "services/auth/signing_key.h"
#include "services/common/clock.h"

namespace portunus::auth {

struct KeySet {
  std::shared_ptr<const SigningKey> active;               // never null
  std::vector<std::shared_ptr<const SigningKey>> keys;    // every loaded key, active included

  // The key whose kid (in either format) is `kid`, or null.
  const SigningKey* FindByKid(absl::string_view kid) const;
};

class KeyRing {
 public:
  // Borrowed: the clock must outlive the ring.
  KeyRing(std::string dir, SigningKeyOptions options, const Clock& clock);

  // Reads the directory and publishes the new key set. The active key is the one named in
  // `active`, or, without that file, the newest key. Other keys that fail to load are skipped
  // with a warning. On error the previous key set stays in use and the error is returned:
  // kNotFound (no directory, no keys, or `active` names a missing key), kInvalidArgument (the
  // active key does not load: the message says why).
  absl::Status Reload();

  // Reload() when the directory changed since the last attempt; OK without work otherwise.
  absl::Status ReloadIfChanged();

  // The published key set, or null before the first successful load.
  std::shared_ptr<const KeySet> Current() const;

  // "" when a key set is loaded; otherwise why not, with the command that fixes it.
  std::string NotReadyReason() const;

  const std::string& dir() const { return directory_.path(); }

 private:
  KeyDirectory directory_;
  const SigningKeyOptions options_;
  const Clock& clock_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const KeySet> current_ ABSL_GUARDED_BY(mu_);
  std::string last_stamp_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_) = "signing keys not loaded yet";
  absl::Mutex reload_mu_;  // serializes reloads
};

}  // namespace portunus::auth
