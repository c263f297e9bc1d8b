#include "services/common/testing/test_token_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace portunus::testing {
namespace {

std::string Base64Url(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string Base64Url(const std::string& s) {
  return Base64Url(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// libtrust key id: base32 (no padding) of the first 240 bits of SHA-256(DER SPKI), in 12 groups
// of 4 characters joined by ':' (../shared/ENVIRONMENT.md §4).
std::string LibtrustKid(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  unsigned char hash[32];
  unsigned int hn = 0;
  EVP_Digest(der, static_cast<size_t>(len), hash, &hn, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  int buffer = 0, bits = 0;
  for (int i = 0; i < 30; ++i) {
    buffer = (buffer << 8) | hash[i];
    bits += 8;
    while (bits >= 5) {
      b32.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  std::string kid;
  for (size_t i = 0; i < b32.size(); i += 4) {
    if (!kid.empty()) kid.push_back(':');
    kid += b32.substr(i, 4);
  }
  return kid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestTokenSigner>> TestTokenSigner::Create(const std::string& dir,
                                                                          std::string issuer) {
  std::unique_ptr<TestTokenSigner> s(new TestTokenSigner());
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) return absl::InternalError("RSA key generation failed");
  s->key_ = key;
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("portunus-test-signer"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  s->bundle_path_ = dir + "/bundle.crt";
  FILE* f = std::fopen(s->bundle_path_.c_str(), "w");
  if (f == nullptr) {
    X509_free(cert);
    return absl::InternalError(absl::StrCat("cannot write ", s->bundle_path_));
  }
  PEM_write_X509(f, cert);
  std::fclose(f);
  X509_free(cert);
  s->issuer_ = std::move(issuer);
  s->kid_ = LibtrustKid(key);
  return s;
}

TestTokenSigner::~TestTokenSigner() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

std::string TestTokenSigner::Sign(const std::string& subject, const std::string& service,
                                  const std::vector<std::string>& scopes, absl::Time now,
                                  absl::Duration lifetime) const {
  nlohmann::json access = nlohmann::json::array();
  for (const std::string& scope : scopes) {
    // type:name:actions, the name may contain ':' (host:port/...).
    const size_t first = scope.find(':');
    const size_t last = scope.rfind(':');
    if (first == std::string::npos || first == last) continue;
    std::vector<std::string> actions = absl::StrSplit(scope.substr(last + 1), ',', absl::SkipEmpty());
    access.push_back({{"type", scope.substr(0, first)},
                      {"name", scope.substr(first + 1, last - first - 1)},
                      {"actions", actions}});
  }
  const int64_t t = absl::ToUnixSeconds(now);
  nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", kid_}};
  nlohmann::json claims = {{"iss", issuer_},
                           {"sub", subject},
                           {"aud", service},
                           {"exp", t + absl::ToInt64Seconds(lifetime)},
                           {"nbf", t - 10},
                           {"iat", t},
                           {"jti", absl::StrCat("test-", t, "-", scopes.size())},
                           {"access", access}};
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(claims.dump()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(key_));
  size_t sig_len = 0;
  EVP_DigestSign(ctx, nullptr, &sig_len,
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  std::string sig(sig_len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(&sig[0]), &sig_len,
                 reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(sig_len);
  return absl::StrCat(signing_input, ".", Base64Url(sig));
}

absl::StatusOr<RegistryToken> TestTokenSource::Fetch(const std::string& service,
                                                     const std::vector<std::string>& scopes) {
  bool bad = false;
  {
    absl::MutexLock lock(&mu_);
    ++fetches_;
    if (!fail_next_.ok()) {
      absl::Status s = fail_next_;
      fail_next_ = absl::OkStatus();
      return s;
    }
    bad = bad_;
  }
  // The JWT carries real time (the registry checks it); the expiry reported to the client is on
  // the test's clock, so tests can expire cached tokens by advancing a FakeClock.
  const absl::Time now = clock_.Now();
  if (bad) return RegistryToken{"not.a-valid.token", now + lifetime_};
  return RegistryToken{signer_.Sign("portunus", service, scopes, absl::Now(), lifetime_),
                       now + lifetime_};
}

int TestTokenSource::fetches() const {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

void TestTokenSource::FailNextCall(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

void TestTokenSource::set_issue_bad_tokens(bool bad) {
  absl::MutexLock lock(&mu_);
  bad_ = bad;
}

}  // namespace portunus::testing
