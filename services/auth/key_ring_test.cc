#include "services/auth/key_ring.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/jwt_signer.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::auth {
namespace {

using ::testing::HasSubstr;

class KeyRingTest : public ::testing::Test {
 protected:
  KeyRingTest() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "portunus-ring-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dir_ = root_ + "/keys";
  }
  ~KeyRingTest() override { std::filesystem::remove_all(root_); }

  std::string AddKey(JwtAlgorithm alg, absl::Time at) {
    absl::StatusOr<GeneratedKeyPem> pem =
        GenerateSigningKey(alg, 2048, absl::Hours(24 * 365), "signer", clock_.Now());
    EXPECT_TRUE(pem.ok());
    absl::StatusOr<std::string> name = KeyDirectory(dir_).Add(*pem, alg, at);
    EXPECT_TRUE(name.ok()) << name.status();
    return name.ok() ? *name : "";
  }

  std::string root_, dir_;
  testing::FakeClock clock_{absl::Now()};
};

TEST_F(KeyRingTest, MissingOrEmptyDirectoryIsNotReadyAndSaysWhatToRun) {
  KeyRing ring(dir_, {}, clock_);
  EXPECT_EQ(ring.Current(), nullptr);
  EXPECT_EQ(ring.Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ring.NotReadyReason(), HasSubstr("does not exist"));
  std::filesystem::create_directories(dir_);
  EXPECT_EQ(ring.Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ring.NotReadyReason(), HasSubstr("portunusctl keys generate"));
  JwtSigner signer(ring);
  absl::StatusOr<std::string> token = signer.Sign(TokenClaims{});
  EXPECT_EQ(token.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(token.status().message(), HasSubstr("portunusctl keys generate"));
}

TEST_F(KeyRingTest, WritesKeysPrivatelyWithSortableNames) {
  const std::string name = AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000000));
  EXPECT_EQ(name, "20231114T221320.000Z-es256");
  EXPECT_EQ(AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000000)),
            "20231114T221320.000Z-es256-2");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/" + name + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(KeyRingTest, ActiveKeySignsAndOthersStayTrustedAcrossRotation) {
  KeyDirectory dir(dir_);
  const std::string first = AddKey(JwtAlgorithm::kRS256, absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(dir.SetActive(first).ok());
  KeyRing ring(dir_, {}, clock_);
  ASSERT_TRUE(ring.Reload().ok());
  EXPECT_EQ(ring.NotReadyReason(), "");
  EXPECT_EQ(ring.Current()->active->name(), first);

  JwtSigner signer(ring);
  absl::StatusOr<std::string> old_token = signer.Sign(TokenClaims{});
  ASSERT_TRUE(old_token.ok());

  // Staged: a new key exists but the active marker still names the first.
  const std::string second = AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000100));
  ASSERT_TRUE(ring.ReloadIfChanged().ok());
  EXPECT_EQ(ring.Current()->active->name(), first);
  EXPECT_EQ(ring.Current()->keys.size(), 2u);

  // Rotated: the second signs; tokens of the first still verify against the set.
  ASSERT_TRUE(dir.SetActive(second).ok());
  ASSERT_TRUE(ring.ReloadIfChanged().ok());
  EXPECT_EQ(ring.Current()->active->name(), second);
  absl::StatusOr<std::string> new_token = signer.Sign(TokenClaims{});
  ASSERT_TRUE(new_token.ok());
  absl::StatusOr<DecodedJwt> decoded = DecodeAndVerifyJwt(*new_token, *ring.Current());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->header["alg"], "ES256");
  EXPECT_TRUE(DecodeAndVerifyJwt(*old_token, *ring.Current()).ok());

  // Retired: the first leaves the set.
  EXPECT_EQ(dir.Retire(second).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(dir.Retire(first).ok());
  ASSERT_TRUE(ring.ReloadIfChanged().ok());
  EXPECT_EQ(ring.Current()->keys.size(), 1u);
  EXPECT_EQ(DecodeAndVerifyJwt(*old_token, *ring.Current()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/retired/" + first + ".key"));
}

TEST_F(KeyRingTest, WithoutActiveMarkerTheNewestKeySigns) {
  AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000000));
  const std::string newest = AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000500));
  KeyRing ring(dir_, {}, clock_);
  ASSERT_TRUE(ring.Reload().ok());
  EXPECT_EQ(ring.Current()->active->name(), newest);
}

TEST_F(KeyRingTest, BrokenActiveKeyKeepsThePreviousSetAndBrokenOthersAreSkipped) {
  KeyDirectory dir(dir_);
  const std::string good = AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(dir.SetActive(good).ok());
  KeyRing ring(dir_, {}, clock_);
  ASSERT_TRUE(ring.Reload().ok());

  std::ofstream(dir_ + "/junk.key") << "garbage";
  std::ofstream(dir_ + "/junk.crt") << "garbage";
  ASSERT_TRUE(ring.ReloadIfChanged().ok());
  EXPECT_EQ(ring.Current()->keys.size(), 1u);

  ASSERT_TRUE(dir.SetActive("junk").ok());
  absl::Status s = ring.ReloadIfChanged();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("signing key junk"));
  ASSERT_NE(ring.Current(), nullptr);
  EXPECT_EQ(ring.Current()->active->name(), good);  // still signing with the last good set

  EXPECT_EQ(dir.SetActive("../etc/passwd").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir.SetActive("nosuchkey").code(), absl::StatusCode::kNotFound);
}

TEST_F(KeyRingTest, AlgorithmFromConfigMustFitTheActiveKey) {
  KeyDirectory dir(dir_);
  ASSERT_TRUE(dir.SetActive(AddKey(JwtAlgorithm::kES256, absl::FromUnixSeconds(1700000000))).code() ==
              absl::StatusCode::kOk);
  SigningKeyOptions options;
  options.algorithm = JwtAlgorithm::kRS512;
  KeyRing ring(dir_, options, clock_);
  absl::Status s = ring.Reload();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ring.NotReadyReason(), HasSubstr("RS512 needs an RSA key"));
}

}  // namespace
}  // namespace portunus::auth
