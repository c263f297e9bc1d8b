// TestTokenSigner: signs Docker registry bearer tokens (RS256 JWTs with a libtrust `kid`) with a
// throwaway RSA key whose self-signed certificate it writes to a bundle file, so adapter tests
// can run the real registry with token auth before (or without) the auth service. The
// TestTokenSource built on it grants exactly the requested scopes to `portunus`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/registry_client.h"

namespace portunus::testing {

class TestTokenSigner {
 public:
  // Generates the key and writes `<dir>/bundle.crt`.
  static absl::StatusOr<std::unique_ptr<TestTokenSigner>> Create(const std::string& dir,
                                                                 std::string issuer);
  ~TestTokenSigner();

  const std::string& bundle_path() const { return bundle_path_; }
  const std::string& issuer() const { return issuer_; }
  const std::string& kid() const { return kid_; }

  // A signed token for `subject`, audience `service`, granting `scopes` (Docker scope strings)
  // from `now` for `lifetime`.
  std::string Sign(const std::string& subject, const std::string& service,
                   const std::vector<std::string>& scopes, absl::Time now,
                   absl::Duration lifetime) const;

 private:
  TestTokenSigner() = default;
  void* key_ = nullptr;  // EVP_PKEY*
  std::string bundle_path_;
  std::string issuer_;
  std::string kid_;
};

// A RegistryTokenSource backed by a TestTokenSigner. Thread-safe; counts fetches and can fail.
class TestTokenSource final : public RegistryTokenSource {
 public:
  TestTokenSource(const TestTokenSigner& signer, const Clock& clock,
                  absl::Duration lifetime = absl::Minutes(5))
      : signer_(signer), clock_(clock), lifetime_(lifetime) {}
  absl::StatusOr<RegistryToken> Fetch(const std::string& service,
                                      const std::vector<std::string>& scopes) override;
  int fetches() const;
  void FailNextCall(absl::Status status);
  // Hands out syntactically valid tokens the registry rejects (wrong issuer) while set.
  void set_issue_bad_tokens(bool bad);

 private:
  const TestTokenSigner& signer_;
  const Clock& clock_;
  const absl::Duration lifetime_;
  mutable absl::Mutex mu_;
  int fetches_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  bool bad_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace portunus::testing
