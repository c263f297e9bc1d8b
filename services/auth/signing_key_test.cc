#include "services/auth/signing_key.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/jwt_signer.h"
#include "services/auth/token_claims.h"
#include "services/auth/token_crypto.h"

namespace portunus::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

// Runs a shell command; returns its stdout (and whether it exited 0).
std::string RunShell(const std::string& command, bool* ok = nullptr) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    if (ok) *ok = false;
    return "";
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int rc = ::pclose(pipe);
  if (ok) *ok = rc == 0;
  return out;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "portunus-keys-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

struct TestKey {
  GeneratedKeyPem pem;
  std::shared_ptr<const SigningKey> key;
};

TestKey MakeKey(JwtAlgorithm alg, SigningKeyOptions options = {}) {
  absl::StatusOr<GeneratedKeyPem> pem =
      GenerateSigningKey(alg, 2048, absl::Hours(24 * 365), "token-signer", absl::Now());
  EXPECT_TRUE(pem.ok()) << pem.status();
  if (!options.algorithm.has_value()) options.algorithm = alg;
  absl::StatusOr<std::shared_ptr<const SigningKey>> key =
      SigningKey::FromPem("test", pem->key_pem, pem->cert_pem, options);
  EXPECT_TRUE(key.ok()) << key.status();
  return TestKey{*pem, key.ok() ? *key : nullptr};
}

TokenClaims SampleClaims() {
  TokenClaims c;
  c.issuer = "portunus-test";
  c.subject = "alice";
  c.audience = "registry.test";
  c.issued_at = absl::Now();
  c.not_before = c.issued_at - absl::Seconds(10);
  c.expires_at = c.issued_at + absl::Minutes(15);
  c.jwt_id = "0123456789abcdef0123456789abcdef";
  c.access = {ResourceScope{"repository", "team/app", {"pull", "push"}}};
  return c;
}

TEST(TokenClaimsTest, EncodesAudienceAsAStringAndOmitsAnonymousSubject) {
  TokenClaims c = SampleClaims();
  c.issued_at = kNow;
  c.not_before = kNow - absl::Seconds(10);
  c.expires_at = kNow + absl::Seconds(900);
  EXPECT_EQ(EncodeClaimsJson(c),
            R"({"iss":"portunus-test","sub":"alice","aud":"registry.test","exp":1700000900,)"
            R"("nbf":1699999990,"iat":1700000000,"jti":"0123456789abcdef0123456789abcdef",)"
            R"("access":[{"type":"repository","name":"team/app","actions":["pull","push"]}]})");
  c.subject.clear();
  c.access.clear();
  EXPECT_THAT(EncodeClaimsJson(c), testing::Not(HasSubstr("\"sub\"")));
  EXPECT_THAT(EncodeClaimsJson(c), HasSubstr(R"("access":[]})"));
  c.issuer = std::string("a\"b\\c\n\0d", 8);
  EXPECT_TRUE(nlohmann::json::accept(EncodeClaimsJson(c)));
}

TEST(SigningKeyTest, SignsAndVerifiesEveryAlgorithm) {
  for (JwtAlgorithm alg :
       {JwtAlgorithm::kRS256, JwtAlgorithm::kRS384, JwtAlgorithm::kRS512, JwtAlgorithm::kES256}) {
    TestKey k = MakeKey(alg);
    ASSERT_NE(k.key, nullptr);
    EXPECT_EQ(k.key->algorithm(), alg);
    absl::StatusOr<std::string> token = SignJwt(*k.key, SampleClaims());
    ASSERT_TRUE(token.ok()) << token.status();
    KeySet set{k.key, {k.key}};
    absl::StatusOr<DecodedJwt> decoded = DecodeAndVerifyJwt(*token, set);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->header["alg"], std::string(JwtAlgorithmName(alg)));
    EXPECT_EQ(decoded->header["typ"], "JWT");
    EXPECT_EQ(decoded->header["kid"], k.key->libtrust_kid());
    ASSERT_EQ(decoded->header["x5c"].size(), 1u);
    EXPECT_EQ(decoded->claims["aud"], "registry.test");

    // Flip one signature bit: refused.
    std::string tampered = *token;
    const size_t last = tampered.size() - 2;
    tampered[last] = tampered[last] == 'A' ? 'B' : 'A';
    EXPECT_EQ(DecodeAndVerifyJwt(tampered, set).status().code(),
              absl::StatusCode::kUnauthenticated);
    // Change the payload: refused.
    std::vector<std::string> parts = absl::StrSplit(*token, '.');
    TokenClaims more = SampleClaims();
    more.access[0].actions.push_back("delete");
    const std::string forged = absl::StrCat(parts[0], ".", Base64UrlEncode(EncodeClaimsJson(more)),
                                            ".", parts[2]);
    EXPECT_EQ(DecodeAndVerifyJwt(forged, set).status().code(), absl::StatusCode::kUnauthenticated);
  }
}

TEST(SigningKeyTest, Es256SignaturesAreRaw64Bytes) {
  TestKey k = MakeKey(JwtAlgorithm::kES256);
  ASSERT_NE(k.key, nullptr);
  for (int i = 0; i < 50; ++i) {  // r or s with leading zero bytes must still pad to 32
    absl::StatusOr<std::string> sig = k.key->Sign(absl::StrCat("input-", i));
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), 64u);
    EXPECT_TRUE(k.key->Verify(absl::StrCat("input-", i), *sig).ok());
  }
}

TEST(SigningKeyTest, LibtrustKidHasTwelveGroupsOfFour) {
  TestKey k = MakeKey(JwtAlgorithm::kRS256);
  ASSERT_NE(k.key, nullptr);
  EXPECT_THAT(k.key->libtrust_kid(), MatchesRegex("([A-Z2-7]{4}:){11}[A-Z2-7]{4}"));
  EXPECT_THAT(k.key->jwk_thumbprint(), MatchesRegex("[A-Za-z0-9_-]{43}"));
}

// The recipe from ENVIRONMENT.md §4, which matched the registry's own computation.
TEST(SigningKeyTest, LibtrustKidMatchesTheShellRecipe) {
  TempDir dir;
  for (JwtAlgorithm alg : {JwtAlgorithm::kRS256, JwtAlgorithm::kES256}) {
    TestKey k = MakeKey(alg);
    ASSERT_NE(k.key, nullptr);
    const std::string crt = dir.Write("k.crt", k.pem.cert_pem);
    bool ok = false;
    const std::string kid = RunShell(
        "openssl x509 -in " + crt +
            " -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary "
            "| head -c 30 | base32 | tr -d '=' | sed 's/.\\{4\\}/&:/g; s/:$//'",
        &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(absl::StripAsciiWhitespace(kid), k.key->libtrust_kid());
  }
}

TEST(SigningKeyTest, JwkThumbprintFormatIsSelectable) {
  SigningKeyOptions options;
  options.kid_format = KidFormat::kJwkThumbprint;
  options.include_x5c = false;
  TestKey k = MakeKey(JwtAlgorithm::kES256, options);
  ASSERT_NE(k.key, nullptr);
  EXPECT_EQ(k.key->kid(), k.key->jwk_thumbprint());
  std::string header;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(k.key->encoded_header(), &header));
  EXPECT_EQ(header, absl::StrCat(R"({"typ":"JWT","alg":"ES256","kid":")", k.key->jwk_thumbprint(),
                                 R"("})"));
}

// Cross-language check: PyJWT (Debian's python3-jwt, under /usr/bin/python3) verifies every
// algorithm's tokens with the certificate's public key, and computes both kid formats itself.
TEST(SigningKeyTest, PyJwtVerifiesTokensAndAgreesOnKids) {
  const char* python = "/usr/bin/python3";
  ASSERT_EQ(::access(python, X_OK), 0) << "needs /usr/bin/python3 with python3-jwt";
  TempDir dir;
  const std::string script = dir.Write("verify.py", R"PY(
import base64, hashlib, json, sys, jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
pub = cert.public_key()
token, alg = open(sys.argv[2]).read().strip(), sys.argv[3]
claims = jwt.decode(token, pub, algorithms=[alg], audience="registry.test", issuer="portunus-test")
header = jwt.get_unverified_header(token)
der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
libtrust = ":".join(s[i:i+4] for i in range(0, len(s), 4))
b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
if isinstance(pub, rsa.RSAPublicKey):
    n = pub.public_numbers()
    ib = lambda i: i.to_bytes((i.bit_length() + 7) // 8, "big")
    jwk = {"e": b64(ib(n.e)), "kty": "RSA", "n": b64(ib(n.n))}
else:
    n = pub.public_numbers()
    jwk = {"crv": "P-256", "kty": "EC", "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}
thumb = b64(hashlib.sha256(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()).digest())
x5c_ok = base64.b64decode(header["x5c"][0]) == cert.public_bytes(serialization.Encoding.DER)
print(json.dumps({"sub": claims["sub"], "access": claims["access"], "kid": header["kid"],
                  "libtrust": libtrust, "thumbprint": thumb, "x5c_ok": x5c_ok,
                  "aud_is_str": isinstance(claims["aud"], str)}))
)PY");
  for (JwtAlgorithm alg :
       {JwtAlgorithm::kRS256, JwtAlgorithm::kRS384, JwtAlgorithm::kRS512, JwtAlgorithm::kES256}) {
    TestKey k = MakeKey(alg);
    ASSERT_NE(k.key, nullptr);
    absl::StatusOr<std::string> token = SignJwt(*k.key, SampleClaims());
    ASSERT_TRUE(token.ok());
    const std::string crt = dir.Write("k.crt", k.pem.cert_pem);
    const std::string tok = dir.Write("token", *token);
    bool ok = false;
    const std::string out = RunShell(absl::StrCat(python, " ", script, " ", crt, " ", tok, " ",
                                             JwtAlgorithmName(alg), " 2>&1"),
                                &ok);
    ASSERT_TRUE(ok) << JwtAlgorithmName(alg) << ": " << out;
    nlohmann::json r = nlohmann::json::parse(out, nullptr, false);
    ASSERT_TRUE(r.is_object()) << out;
    EXPECT_EQ(r["sub"], "alice");
    EXPECT_EQ(r["access"][0]["actions"], nlohmann::json({"pull", "push"}));
    EXPECT_EQ(r["kid"], k.key->libtrust_kid());
    EXPECT_EQ(r["libtrust"], k.key->libtrust_kid());
    EXPECT_EQ(r["thumbprint"], k.key->jwk_thumbprint());
    EXPECT_EQ(r["x5c_ok"], true);
    EXPECT_EQ(r["aud_is_str"], true);
  }
}

TEST(SigningKeyTest, RejectsKeysThatCannotSignRegistryTokens) {
  TestKey rsa = MakeKey(JwtAlgorithm::kRS256);
  TestKey ec = MakeKey(JwtAlgorithm::kES256);
  ASSERT_NE(rsa.key, nullptr);
  ASSERT_NE(ec.key, nullptr);
  const auto load = [](const std::string& key, const std::string& cert,
                       std::optional<JwtAlgorithm> alg = std::nullopt) {
    SigningKeyOptions o;
    o.algorithm = alg;
    return SigningKey::FromPem("k1", key, cert, o).status();
  };
  // Certificate of another key.
  absl::Status s = load(rsa.pem.key_pem, ec.pem.cert_pem);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("signing key k1: the first certificate is not for this"));
  // Algorithm that does not fit the key.
  EXPECT_EQ(load(rsa.pem.key_pem, rsa.pem.cert_pem, JwtAlgorithm::kES256).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(load(ec.pem.key_pem, ec.pem.cert_pem, JwtAlgorithm::kRS256).code(),
            absl::StatusCode::kInvalidArgument);
  // Without an explicit algorithm the key type decides.
  SigningKeyOptions automatic;
  EXPECT_EQ((*SigningKey::FromPem("a", ec.pem.key_pem, ec.pem.cert_pem, automatic))->algorithm(),
            JwtAlgorithm::kES256);
  EXPECT_EQ((*SigningKey::FromPem("b", rsa.pem.key_pem, rsa.pem.cert_pem, automatic))->algorithm(),
            JwtAlgorithm::kRS256);
  // Garbage.
  EXPECT_EQ(load("not a key", rsa.pem.cert_pem).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(load(rsa.pem.key_pem, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(load(std::string("\0\0\0", 3), std::string(10000, '-')).code(),
            absl::StatusCode::kInvalidArgument);

  // Weak RSA and other curves, made with the openssl tool.
  TempDir dir;
  bool ok = false;
  RunShell("cd " + dir.path() +
          " && openssl genrsa -out weak.key 1024 2>/dev/null && openssl req -new -x509 -key "
          "weak.key -out weak.crt -days 1 -subj /CN=weak 2>/dev/null && openssl ecparam -name "
          "secp384r1 -genkey -noout -out p384.key && openssl req -new -x509 -key p384.key -out "
          "p384.crt -days 1 -subj /CN=p384 2>/dev/null",
      &ok);
  ASSERT_TRUE(ok);
  const auto file = [&](const char* n) { return *KeyDirectory::ReadFile(dir.path() + "/" + n); };
  s = load(file("weak.key"), file("weak.crt"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at least 2048 bits"));
  s = load(file("p384.key"), file("p384.crt"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("P-256"));
}

TEST(SigningKeyTest, KeysFromTheOpensslToolLoad) {
  // The ENVIRONMENT.md recipe: traditional-format keys and `openssl req -x509` certificates.
  TempDir dir;
  bool ok = false;
  RunShell("cd " + dir.path() +
          " && openssl genrsa -traditional -out rsa.key 2048 2>/dev/null && openssl req -new -x509 "
          "-key rsa.key -out rsa.crt -days 365 -subj /CN=token-signer 2>/dev/null && openssl "
          "ecparam -name prime256v1 -genkey -noout -out ec.key && openssl req -new -x509 -key "
          "ec.key -out ec.crt -days 365 -subj /CN=token-signer-ec 2>/dev/null",
      &ok);
  ASSERT_TRUE(ok);
  const auto file = [&](const char* n) { return *KeyDirectory::ReadFile(dir.path() + "/" + n); };
  absl::StatusOr<std::shared_ptr<const SigningKey>> rsa =
      SigningKey::FromPem("rsa", file("rsa.key"), file("rsa.crt"), {});
  ASSERT_TRUE(rsa.ok()) << rsa.status();
  EXPECT_EQ((*rsa)->description(), "RSA 2048");
  EXPECT_EQ((*rsa)->subject(), "CN=token-signer");
  absl::StatusOr<std::shared_ptr<const SigningKey>> ec =
      SigningKey::FromPem("ec", file("ec.key"), file("ec.crt"), {});
  ASSERT_TRUE(ec.ok()) << ec.status();
  EXPECT_EQ((*ec)->description(), "EC P-256");
  EXPECT_GT((*ec)->not_after(), absl::Now() + absl::Hours(24 * 360));
}

TEST(GenerateSigningKeyTest, RejectsOddRsaSizes) {
  EXPECT_EQ(GenerateSigningKey(JwtAlgorithm::kRS256, 1024, absl::Hours(1), "x", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateSigningKey(JwtAlgorithm::kRS256, 100000, absl::Hours(1), "x", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GenerateSigningKeyTest, CertificateIsSelfSignedAndValidFromAnHourAgo) {
  absl::StatusOr<GeneratedKeyPem> pem =
      GenerateSigningKey(JwtAlgorithm::kES256, 0, absl::Hours(48), "portunus token signer", kNow);
  ASSERT_TRUE(pem.ok());
  absl::StatusOr<std::shared_ptr<const SigningKey>> key =
      SigningKey::FromPem("g", pem->key_pem, pem->cert_pem, {});
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ((*key)->subject(), "CN=portunus token signer");
  EXPECT_EQ((*key)->not_before(), kNow - absl::Hours(1));
  EXPECT_EQ((*key)->not_after(), kNow + absl::Hours(48));
  TempDir dir;
  const std::string crt = dir.Write("g.crt", pem->cert_pem);
  bool ok = false;
  const std::string out = RunShell("openssl verify -CAfile " + crt + " -attime 1700000000 " + crt, &ok);
  EXPECT_TRUE(ok) << out;
}

}  // namespace
}  // namespace portunus::auth
