#include "services/health/caller_authenticator.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace portunus::health {
namespace {

TEST(RequireAdminTest, AnonymousUsersAdminsAndInternal) {
  Caller anonymous;
  EXPECT_EQ(RequireAdmin(anonymous).code(), absl::StatusCode::kUnauthenticated);
  Caller bob{false, false, false, "bob"};
  absl::Status s = RequireAdmin(bob);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "the cluster status is only for administrators and bob is not one");
  EXPECT_TRUE(RequireAdmin(Caller{false, true, false, "alice"}).ok());
  EXPECT_TRUE(RequireAdmin(Caller{false, false, true, "portunus"}).ok());
}

TEST(IsInternalCredentialTest, OnlyTheExactSecretAsPortunus) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const auto basic = [](const std::string& user_pass) {
    return "Basic " + absl::Base64Escape(user_pass);
  };
  EXPECT_TRUE(IsInternalCredential(basic("portunus:" + secret), secret));
  EXPECT_TRUE(IsInternalCredential("basic " + absl::Base64Escape("portunus:" + secret), secret));
  EXPECT_FALSE(IsInternalCredential(basic("portunus:" + secret + "x"), secret));
  EXPECT_FALSE(IsInternalCredential(basic("admin:" + secret), secret));
  EXPECT_FALSE(IsInternalCredential(basic("portunus:"), ""));
  EXPECT_FALSE(IsInternalCredential("Bearer " + secret, secret));
  EXPECT_FALSE(IsInternalCredential("Basic !!!notbase64", secret));
  EXPECT_FALSE(IsInternalCredential("", secret));
}

}  // namespace
}  // namespace portunus::health
