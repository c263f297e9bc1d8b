// A token signing key: a private key and its X.509 certificate chain (PEM), loaded with OpenSSL 3
// and prepared for signing Docker registry JWTs (distribution docs/spec/auth/jwt.md).
//
// The JWS header every token carries is fixed per key, so it is built once here:
//   {"typ":"JWT","alg":"RS256","kid":"<kid>","x5c":["<base64 DER>", ...]}
// `kid` is either the libtrust fingerprint Distribution 2.x looks keys up by (base32 of the first
// 240 bits of SHA-256 over the DER SubjectPublicKeyInfo, in 12 groups of 4 joined by ':') or the
// RFC 7638 JWK thumbprint Distribution 3 uses. `x5c` lets a registry verify the key from its
// rootcertbundle without knowing the kid format.
//
// Algorithms: RS256/RS384/RS512 (RSA of at least 2048 bits, PKCS#1 v1.5) and ES256 (P-256, JWS
// signature as raw r||s of 64 bytes, not DER). Registry 2.8 rejects PS256, so it is not offered.
//
// SigningKey is immutable and thread-safe: any number of threads may Sign concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_st EVP_MD;

namespace portunus::auth {

enum class JwtAlgorithm { kRS256, kRS384, kRS512, kES256 };

// "RS256", ...
absl::string_view JwtAlgorithmName(JwtAlgorithm algorithm);
// Parses "RS256", "RS384", "RS512", "ES256" (case-sensitive, as in JWS). kInvalidArgument else.
absl::StatusOr<JwtAlgorithm> ParseJwtAlgorithm(absl::string_view name);

enum class KidFormat { kLibtrust, kJwkThumbprint };
// "libtrust" or "jwk-thumbprint"; kInvalidArgument else.
absl::StatusOr<KidFormat> ParseKidFormat(absl::string_view name);

struct SigningKeyOptions {
  // The JWS algorithm; unset: RS256 for RSA keys, ES256 for P-256 keys.
  std::optional<JwtAlgorithm> algorithm;
  KidFormat kid_format = KidFormat::kLibtrust;
  bool include_x5c = true;  // put the certificate chain in the header
};

class SigningKey {
 public:
  // Loads a key pair. `key_pem` is a PEM private key (PKCS#8, or traditional RSA/EC);
  // `cert_pem` holds one or more PEM certificates, the first one for this key.
  // kInvalidArgument naming `name` when a PEM does not parse, the certificate does not belong to
  // the key, the key is RSA below 2048 bits or EC on another curve than P-256, or the algorithm
  // does not fit the key type.
  static absl::StatusOr<std::shared_ptr<const SigningKey>> FromPem(std::string name,
                                                                    absl::string_view key_pem,
                                                                    absl::string_view cert_pem,
                                                                    const SigningKeyOptions& options);
  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  const std::string& name() const { return name_; }
  JwtAlgorithm algorithm() const { return algorithm_; }
  // The kid in the configured format, and both formats.
  const std::string& kid() const { return kid_; }
  const std::string& libtrust_kid() const { return libtrust_kid_; }
  const std::string& jwk_thumbprint() const { return jwk_thumbprint_; }
  // The certificate chain as PEM (what the registry's rootcertbundle needs).
  const std::string& certificate_pem() const { return certificate_pem_; }
  // "RSA 2048" or "EC P-256".
  const std::string& description() const { return description_; }
  const std::string& subject() const { return subject_; }
  absl::Time not_before() const { return not_before_; }
  absl::Time not_after() const { return not_after_; }
  // base64url of the JWS header JSON.
  const std::string& encoded_header() const { return encoded_header_; }

  // The JWS signature of `signing_input` ("<header>.<payload>"), raw bytes (r||s for ES256).
  // kInternal when OpenSSL fails.
  absl::StatusOr<std::string> Sign(absl::string_view signing_input) const;

  // OK when `signature` is a valid JWS signature of `signing_input` by this key;
  // kUnauthenticated otherwise.
  absl::Status Verify(absl::string_view signing_input, absl::string_view signature) const;

 private:
  SigningKey() = default;

  std::string name_;
  JwtAlgorithm algorithm_ = JwtAlgorithm::kRS256;
  EVP_PKEY* pkey_ = nullptr;
  EVP_MD* md_ = nullptr;  // fetched once: the digest of the algorithm
  std::string kid_, libtrust_kid_, jwk_thumbprint_;
  std::string certificate_pem_;
  std::string description_, subject_;
  absl::Time not_before_, not_after_;
  std::string encoded_header_;
};

// A newly generated key pair with a self-signed certificate, as PEM.
struct GeneratedKeyPem {
  std::string key_pem;   // PKCS#8
  std::string cert_pem;  // one certificate
};

// Generates a key for `algorithm` (RSA of `rsa_bits` for RS*, P-256 for ES256) and a self-signed
// certificate (CN `common_name`) valid from `now` - 1 h to `now` + `validity`.
// kInvalidArgument for rsa_bits outside 2048..8192; kInternal when OpenSSL fails.
absl::StatusOr<GeneratedKeyPem> GenerateSigningKey(JwtAlgorithm algorithm, int rsa_bits,
                                                   absl::Duration validity,
                                                   const std::string& common_name, absl::Time now);

}  // namespace portunus::auth
