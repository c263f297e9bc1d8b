#include "services/auth/validation.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status_mapping.h"

namespace portunus::auth {
namespace {

TEST(ValidationTest, Names) {
  for (const char* ok : {"a", "bob", "team-a", "a.b_c-d", "0", "x1.y2", "acme42"}) {
    EXPECT_TRUE(IsValidName(ok)) << ok;
  }
  for (const char* bad : {"", "Bob", "-a", "a-", "a..b", "a-_b", "a b", "a/b", "é", "a'", "a;DROP",
                          "a\nb", ".", "_a"}) {
    EXPECT_FALSE(IsValidName(bad)) << bad;
  }
  EXPECT_TRUE(IsValidName(std::string(255, 'a')));
  EXPECT_FALSE(IsValidName(std::string(256, 'a')));
  absl::Status s = ValidateName("user.username", "Bad Name");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(s), "user.username");
  EXPECT_EQ(ErrorField(ValidateName("name", std::string(300, 'a'))), "name");
}

TEST(ValidationTest, RepositoryNamesFollowTheDistributionGrammar) {
  for (const char* ok : {"busybox", "team/app", "a/b/c", "a__b/c", "a--b", "a.b/c_d", "a---b"}) {
    EXPECT_TRUE(IsValidRepositoryName(ok)) << ok;
  }
  for (const char* bad : {"", "/a", "a/", "a//b", "A/b", "a___b", "a_-b", "a:b", "a/b@sha",
                          "a/.b", "a b"}) {
    EXPECT_FALSE(IsValidRepositoryName(bad)) << bad;
  }
}

TEST(ValidationTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\xb3"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_EQ(Utf8Length("h\xc3\xa9"), 2u);
}

TEST(ValidationTest, EmailsPasswordsLabels) {
  EXPECT_TRUE(ValidateEmail("user.email", "bob@example.com").ok());
  for (const char* bad : {"", "bob", "@example.com", "bob@", "bob@example", "a@b@c.d", "bob @x.io",
                          "bob@x..io", "bob@x.io.", "<b>@x.io"}) {
    absl::Status s = ValidateEmail("user.email", bad);
    EXPECT_EQ(ErrorField(s), "user.email") << bad;
  }
  EXPECT_TRUE(ValidatePassword("user.password", "12345678").ok());
  EXPECT_EQ(ErrorField(ValidatePassword("user.password", "1234567")), "user.password");
  EXPECT_TRUE(ValidatePassword("user.password", std::string(128, 'x')).ok());
  EXPECT_FALSE(ValidatePassword("user.password", std::string(129, 'x')).ok());
  // 128 characters, 256 bytes: counted in characters.
  std::string accents;
  for (int i = 0; i < 128; ++i) accents += "\xc3\xa9";
  EXPECT_TRUE(ValidatePassword("user.password", accents).ok());
  EXPECT_FALSE(ValidatePassword("user.password", std::string("abcdefgh\0", 9)).ok());
  EXPECT_FALSE(ValidatePassword("user.password", "abcdefg\xff").ok());

  EXPECT_TRUE(ValidateLabel("name", "Acme Developers").ok());
  EXPECT_FALSE(ValidateLabel("name", "   ").ok());
  EXPECT_FALSE(ValidateLabel("name", "a\tb").ok());
  EXPECT_FALSE(ValidateLabel("name", std::string(256, 'a')).ok());
  EXPECT_TRUE(ValidateDescription("description", "line one\nline two").ok());
  EXPECT_FALSE(ValidateDescription("description", "bell\x07").ok());
  EXPECT_FALSE(ValidateDescription("description", std::string(4097, 'a')).ok());
}

TEST(ValidationTest, ParseId) {
  EXPECT_EQ(ParseId("42"), 42);
  EXPECT_EQ(ParseId("0"), 0);
  EXPECT_EQ(ParseId("-1"), 0);
  EXPECT_EQ(ParseId("4x"), 0);
  EXPECT_EQ(ParseId("99999999999999999999"), 0);
  EXPECT_EQ(ParseId(""), 0);
}

}  // namespace
}  // namespace portunus::auth
