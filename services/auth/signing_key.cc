#include "services/auth/signing_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/auth/scope.h"
#include "services/auth/token_crypto.h"

namespace portunus::auth {
namespace {

constexpr int kEs256Half = 32;  // bytes of r and of s

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using SigPtr = std::unique_ptr<ECDSA_SIG, SigFree>;

// The last OpenSSL error as text, and the error queue cleared.
std::string OpenSslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

BioPtr MemBio(absl::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

const char* DigestName(JwtAlgorithm a) {
  switch (a) {
    case JwtAlgorithm::kRS384:
      return "SHA384";
    case JwtAlgorithm::kRS512:
      return "SHA512";
    default:
      return "SHA256";
  }
}

// RFC 4648 base32 without padding.
std::string Base32(absl::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

absl::StatusOr<std::string> SpkiDer(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return absl::InternalError("encoding the public key: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string LibtrustKid(absl::string_view spki_der) {
  const std::string encoded = Base32(Sha256(spki_der).substr(0, 30));  // 240 bits: 48 chars
  std::vector<std::string> groups;
  for (size_t i = 0; i < encoded.size(); i += 4) groups.push_back(encoded.substr(i, 4));
  return absl::StrJoin(groups, ":");
}

absl::StatusOr<std::string> BnParam(EVP_PKEY* pkey, const char* param, int pad_to) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) {
    return absl::InternalError(absl::StrCat("reading ", param, ": ", OpenSslError()));
  }
  BnPtr bn(raw);
  const int n = pad_to > 0 ? pad_to : BN_num_bytes(bn.get());
  std::string out(static_cast<size_t>(n), '\0');
  if (pad_to > 0) {
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), n) != n) {
      return absl::InternalError(absl::StrCat("encoding ", param));
    }
  } else {
    BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

// RFC 7638: SHA-256 over the required JWK members in lexicographic order, no whitespace.
absl::StatusOr<std::string> JwkThumbprint(EVP_PKEY* pkey, bool is_ec) {
  std::string json;
  if (is_ec) {
    absl::StatusOr<std::string> x = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kEs256Half);
    absl::StatusOr<std::string> y = BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kEs256Half);
    if (!x.ok()) return x.status();
    if (!y.ok()) return y.status();
    json = absl::StrCat(R"({"crv":"P-256","kty":"EC","x":")", Base64UrlEncode(*x), R"(","y":")",
                        Base64UrlEncode(*y), R"("})");
  } else {
    absl::StatusOr<std::string> n = BnParam(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
    absl::StatusOr<std::string> e = BnParam(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n.ok()) return n.status();
    if (!e.ok()) return e.status();
    json = absl::StrCat(R"({"e":")", Base64UrlEncode(*e), R"(","kty":"RSA","n":")",
                        Base64UrlEncode(*n), R"("})");
  }
  return Base64UrlEncode(Sha256(json));
}

absl::Time Asn1ToTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTM(tm, absl::UTCTimeZone());
}

std::string SubjectText(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  return BioContents(bio.get());
}

}  // namespace

absl::string_view JwtAlgorithmName(JwtAlgorithm algorithm) {
  switch (algorithm) {
    case JwtAlgorithm::kRS256:
      return "RS256";
    case JwtAlgorithm::kRS384:
      return "RS384";
    case JwtAlgorithm::kRS512:
      return "RS512";
    case JwtAlgorithm::kES256:
      return "ES256";
  }
  return "RS256";
}

absl::StatusOr<JwtAlgorithm> ParseJwtAlgorithm(absl::string_view name) {
  for (JwtAlgorithm a :
       {JwtAlgorithm::kRS256, JwtAlgorithm::kRS384, JwtAlgorithm::kRS512, JwtAlgorithm::kES256}) {
    if (name == JwtAlgorithmName(a)) return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported token algorithm ", QuoteForError(name),
                   ": use RS256, RS384, RS512 or ES256"));
}

absl::StatusOr<KidFormat> ParseKidFormat(absl::string_view name) {
  if (name == "libtrust") return KidFormat::kLibtrust;
  if (name == "jwk-thumbprint") return KidFormat::kJwkThumbprint;
  return absl::InvalidArgumentError("kid format must be libtrust or jwk-thumbprint");
}

absl::StatusOr<std::shared_ptr<const SigningKey>> SigningKey::FromPem(
    std::string name, absl::string_view key_pem, absl::string_view cert_pem,
    const SigningKeyOptions& options) {
  const auto invalid = [&name](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("signing key ", name, ": ", why));
  };
  ERR_clear_error();
  BioPtr key_bio = MemBio(key_pem);
  PkeyPtr pkey(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return invalid("the private key is not a readable PEM key: " + OpenSslError());

  std::vector<X509Ptr> chain;
  BioPtr cert_bio = MemBio(cert_pem);
  while (X509* c = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    chain.emplace_back(c);
  }
  ERR_clear_error();  // the loop ends on an expected "no start line"
  if (chain.empty()) return invalid("the certificate file holds no PEM certificate");
  if (EVP_PKEY_eq(X509_get0_pubkey(chain[0].get()), pkey.get()) != 1) {
    return invalid("the first certificate is not for this private key");
  }

  auto key = std::shared_ptr<SigningKey>(new SigningKey());
  key->name_ = std::move(name);
  const bool is_rsa = EVP_PKEY_is_a(pkey.get(), "RSA") == 1;
  const bool is_ec = EVP_PKEY_is_a(pkey.get(), "EC") == 1;
  if (is_rsa) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < 2048) return invalid(absl::StrCat("RSA keys need at least 2048 bits, got ", bits));
    key->description_ = absl::StrCat("RSA ", bits);
    key->algorithm_ = options.algorithm.value_or(JwtAlgorithm::kRS256);
    if (key->algorithm_ == JwtAlgorithm::kES256) return invalid("ES256 needs an EC P-256 key, not RSA");
  } else if (is_ec) {
    char curve[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                       &len) != 1 ||
        std::string(curve) != "prime256v1") {
      return invalid(absl::StrCat("EC keys must use the P-256 curve, got ", curve[0] ? curve : "?"));
    }
    key->description_ = "EC P-256";
    key->algorithm_ = options.algorithm.value_or(JwtAlgorithm::kES256);
    if (key->algorithm_ != JwtAlgorithm::kES256) {
      return invalid(absl::StrCat(JwtAlgorithmName(key->algorithm_), " needs an RSA key, not EC"));
    }
  } else {
    return invalid("only RSA and EC P-256 keys can sign registry tokens");
  }

  absl::StatusOr<std::string> spki = SpkiDer(pkey.get());
  if (!spki.ok()) return spki.status();
  key->libtrust_kid_ = LibtrustKid(*spki);
  absl::StatusOr<std::string> thumb = JwkThumbprint(pkey.get(), is_ec);
  if (!thumb.ok()) return thumb.status();
  key->jwk_thumbprint_ = *thumb;
  key->kid_ = options.kid_format == KidFormat::kLibtrust ? key->libtrust_kid_ : key->jwk_thumbprint_;

  std::vector<std::string> x5c;
  BioPtr pem_out(BIO_new(BIO_s_mem()));
  for (const X509Ptr& c : chain) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(c.get(), &der);
    if (len <= 0) return absl::InternalError("encoding a certificate: " + OpenSslError());
    x5c.push_back(Base64Encode(absl::string_view(reinterpret_cast<char*>(der), len)));
    OPENSSL_free(der);
    PEM_write_bio_X509(pem_out.get(), c.get());
  }
  key->certificate_pem_ = BioContents(pem_out.get());
  key->subject_ = SubjectText(chain[0].get());
  key->not_before_ = Asn1ToTime(X509_get0_notBefore(chain[0].get()));
  key->not_after_ = Asn1ToTime(X509_get0_notAfter(chain[0].get()));

  std::string header = absl::StrCat(R"({"typ":"JWT","alg":")", JwtAlgorithmName(key->algorithm_),
                                    R"(","kid":")", key->kid_, "\"");
  if (options.include_x5c) {
    absl::StrAppend(&header, R"(,"x5c":[")", absl::StrJoin(x5c, "\",\""), "\"]");
  }
  header.push_back('}');
  key->encoded_header_ = Base64UrlEncode(header);

  key->md_ = EVP_MD_fetch(nullptr, DigestName(key->algorithm_), nullptr);
  if (key->md_ == nullptr) return absl::InternalError("fetching the digest: " + OpenSslError());
  key->pkey_ = pkey.release();
  return std::shared_ptr<const SigningKey>(std::move(key));
}

SigningKey::~SigningKey() {
  EVP_PKEY_free(pkey_);
  EVP_MD_free(md_);
}

absl::StatusOr<std::string> SigningKey::Sign(absl::string_view signing_input) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md_, nullptr, pkey_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing with key ", name_, ": ", OpenSslError()));
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     signing_input.size()) != 1) {
    return absl::InternalError(absl::StrCat("signing with key ", name_, ": ", OpenSslError()));
  }
  sig.resize(len);
  if (algorithm_ != JwtAlgorithm::kES256) return sig;

  // JWS (RFC 7518 §3.4) wants r||s, each left-padded to 32 bytes; OpenSSL gives DER.
  const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
  SigPtr ecdsa(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!ecdsa) return absl::InternalError("decoding the ECDSA signature: " + OpenSslError());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(ecdsa.get(), &r, &s);
  std::string raw(2 * static_cast<size_t>(kEs256Half), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256Half) != kEs256Half ||
      BN_bn2binpad(s, out + kEs256Half, kEs256Half) != kEs256Half) {
    return absl::InternalError("encoding the ECDSA signature");
  }
  return raw;
}

absl::Status SigningKey::Verify(absl::string_view signing_input, absl::string_view signature) const {
  std::string sig(signature.data(), signature.size());
  if (algorithm_ == JwtAlgorithm::kES256) {
    if (signature.size() != 2 * static_cast<size_t>(kEs256Half)) {
      return absl::UnauthenticatedError("ES256 signatures are 64 bytes");
    }
    const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
    SigPtr ecdsa(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(raw, kEs256Half, nullptr);
    BIGNUM* s = BN_bin2bn(raw + kEs256Half, kEs256Half, nullptr);
    if (!ecdsa || r == nullptr || s == nullptr || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return absl::InternalError("building the ECDSA signature");
    }
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(ecdsa.get(), &der);
    if (len <= 0) return absl::InternalError("encoding the ECDSA signature");
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const int ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md_, nullptr, pkey_) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size()) == 1;
  ERR_clear_error();
  return ok ? absl::OkStatus() : absl::UnauthenticatedError("bad token signature");
}

absl::StatusOr<GeneratedKeyPem> GenerateSigningKey(JwtAlgorithm algorithm, int rsa_bits,
                                                   absl::Duration validity,
                                                   const std::string& common_name, absl::Time now) {
  ERR_clear_error();
  PkeyPtr pkey;
  if (algorithm == JwtAlgorithm::kES256) {
    pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  } else {
    if (rsa_bits < 2048 || rsa_bits > 8192) {
      return absl::InvalidArgumentError(
          absl::StrCat("RSA key size must be between 2048 and 8192 bits, got ", rsa_bits));
    }
    pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
  }
  if (!pkey) return absl::InternalError("generating the key: " + OpenSslError());

  X509Ptr cert(X509_new());
  unsigned char serial[16];
  SecureRandom random;
  const std::string serial_bytes = random.Bytes(sizeof(serial));
  std::copy(serial_bytes.begin(), serial_bytes.end(), serial);
  serial[0] &= 0x7f;  // a positive INTEGER
  BnPtr serial_bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  bool ok = cert && serial_bn && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get())) != nullptr &&
            ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(now - absl::Hours(1))) &&
            ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(now + validity)) &&
            X509_set_pubkey(cert.get(), pkey.get()) == 1;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ok = ok && X509_NAME_add_entry_by_txt(
                 subject, "CN", MBSTRING_UTF8,
                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1 &&
       X509_set_issuer_name(cert.get(), subject) == 1;
  // The extensions `openssl req -x509` adds, which registry 2.8 was verified with (both the kid
  // lookup and the x5c chain, whose self-signed certificate is its own root).
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,digitalSignature,keyCertSign"},
                            {NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = ok ? X509V3_EXT_conf_nid(nullptr, &v3, nid, value) : nullptr;
    ok = ok && ext != nullptr && X509_add_ext(cert.get(), ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(cert.get(), pkey.get(), EVP_sha256()) > 0;
  if (!ok) return absl::InternalError("creating the certificate: " + OpenSslError());

  GeneratedKeyPem out;
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1) {
    return absl::InternalError("writing PEM: " + OpenSslError());
  }
  out.key_pem = BioContents(key_bio.get());
  out.cert_pem = BioContents(cert_bio.get());
  return out;
}

}  // namespace portunus::auth
