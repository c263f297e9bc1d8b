#include "services/auth/scope.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ResourceScope Parsed(const std::string& text) {
  absl::StatusOr<ResourceScope> s = ParseScope(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status();
  return s.ok() ? *s : ResourceScope{};
}

TEST(ParseScopeTest, SplitsTypeAtFirstColonAndActionsAtLastColon) {
  EXPECT_EQ(Parsed("repository:team/app:pull,push"),
            (ResourceScope{"repository", "team/app", {"pull", "push"}}));
  EXPECT_EQ(Parsed("repository:localhost:5000/team/app:pull"),
            (ResourceScope{"repository", "localhost:5000/team/app", {"pull"}}));
  EXPECT_EQ(Parsed("repository:registry.example.com:443/a/b/c:push"),
            (ResourceScope{"repository", "registry.example.com:443/a/b/c", {"push"}}));
  EXPECT_EQ(Parsed("registry:catalog:*"), (ResourceScope{"registry", "catalog", {"*"}}));
  EXPECT_EQ(Parsed("repository:busybox:pull"), (ResourceScope{"repository", "busybox", {"pull"}}));
}

TEST(ParseScopeTest, FirstPartMayBeAHostWithUppercaseAndPort) {
  EXPECT_EQ(Parsed("repository:Registry-1.Example:5000/a:pull").name, "Registry-1.Example:5000/a");
  EXPECT_EQ(Parsed("repository:A/b:pull").name, "A/b");  // "A" is a valid host name
}

TEST(ParseScopeTest, DropsResourceClass) {
  EXPECT_EQ(Parsed("repository(plugin):vieux/sshfs:pull"),
            (ResourceScope{"repository", "vieux/sshfs", {"pull"}}));
}

TEST(ParseScopeTest, DeduplicatesActionsAndIgnoresEmptyOnes) {
  EXPECT_EQ(Parsed("repository:a/b:pull,push,pull,,push"),
            (ResourceScope{"repository", "a/b", {"pull", "push"}}));
  EXPECT_THAT(Parsed("repository:a/b:").actions, IsEmpty());
}

TEST(ParseScopeTest, AcceptsEverySeparatorOfTheGrammar) {
  for (const char* name : {"a.b", "a_b", "a__b", "a-b", "a---b", "a0/b1/c2", "x/y.z_w__v-u"}) {
    EXPECT_TRUE(ParseScope(std::string("repository:") + name + ":pull").ok()) << name;
  }
}

TEST(ParseScopeTest, RejectsMalformedScopesNamingThem) {
  const std::vector<std::string> bad = {
      "",                              // empty
      "repository",                    // no colon
      "repository:app",                // only two parts
      "::::",                          // empty type
      ":a/b:pull",                     // empty type
      "Repository:a/b:pull",           // uppercase type
      "repository():a:pull",           // empty class
      "repository(plugin:a:pull",      // unclosed class
      "repository::pull",              // empty name
      "repository:a/B:pull",           // uppercase component
      "repository:App:pull",           // uppercase single component (no host part)
      "repository:a//b:pull",          // empty component
      "repository:/a:pull",            // leading slash
      "repository:a/:pull",            // trailing slash
      "repository:a___b:pull",         // three underscores
      "repository:a._b:pull",          // two separators
      "repository:-a:pull",            // leading separator
      "repository:a-:pull",            // trailing separator
      "repository:a b:pull",           // space inside (a single ParseScope call)
      "repository:a/b:PULL",           // uppercase action
      "repository:a/b:pull;push",      // wrong action separator
      "repository:a/b:pu*",            // partial wildcard
      "repository:host:port/a:pull",   // port must be digits
      "repository:host:123456/a:pull", // port too long
      "repository:-host/a:pull",       // host component starting with '-'
      std::string("repository:a\0b:pull", 20),
      "repository:caf\xc3\xa9:pull",   // non-ASCII
  };
  for (const std::string& text : bad) {
    absl::StatusOr<ResourceScope> s = ParseScope(text);
    ASSERT_FALSE(s.ok()) << "accepted: " << text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.status().message(), HasSubstr("invalid scope \""));
  }
}

TEST(ParseScopeTest, ErrorMessagesAreEscapedAndBounded) {
  const std::string nul_scope("repo\0:x", 7);
  absl::StatusOr<ResourceScope> s = ParseScope(nul_scope);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("repo\\x00:x"));

  const std::string huge = "repository:" + std::string(100000, 'a') + ":pull";
  s = ParseScope(huge);
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.status().message().size(), 300u);
  EXPECT_THAT(s.status().message(), HasSubstr("longer than"));
}

TEST(ParseScopeTest, BoundsNameLengthAndActionCount) {
  const std::string max_name(255, 'a');
  EXPECT_TRUE(ParseScope("repository:" + max_name + ":pull").ok());
  EXPECT_FALSE(ParseScope("repository:" + max_name + "a:pull").ok());
  std::string many = "repository:a:";
  for (char c = 'a'; c <= 'q'; ++c) many += std::string(1, c) + ",";  // 17 distinct actions
  EXPECT_FALSE(ParseScope(many).ok());
}

TEST(ParseScopeListTest, SplitsSpacesAcrossRepeatedValuesAndMerges) {
  absl::StatusOr<std::vector<ResourceScope>> scopes = ParseScopeList(
      {"repository:a/b:pull", "repository:c/d:push repository:a/b:push,pull", "", "  "});
  ASSERT_TRUE(scopes.ok()) << scopes.status();
  EXPECT_THAT(*scopes, ElementsAre(ResourceScope{"repository", "a/b", {"pull", "push"}},
                                   ResourceScope{"repository", "c/d", {"push"}}));
}

TEST(ParseScopeListTest, MergesClassedAndPlainTypes) {
  absl::StatusOr<std::vector<ResourceScope>> scopes =
      ParseScopeList({"repository(plugin):a/b:pull repository:a/b:push"});
  ASSERT_TRUE(scopes.ok());
  EXPECT_THAT(*scopes, ElementsAre(ResourceScope{"repository", "a/b", {"pull", "push"}}));
}

TEST(ParseScopeListTest, NoScopesIsValid) {
  absl::StatusOr<std::vector<ResourceScope>> scopes = ParseScopeList({});
  ASSERT_TRUE(scopes.ok());
  EXPECT_THAT(*scopes, IsEmpty());
}

TEST(ParseScopeListTest, RejectsTheFirstMalformedScopeAndTooManyScopes) {
  absl::StatusOr<std::vector<ResourceScope>> scopes =
      ParseScopeList({"repository:a:pull repository:B:pull"});
  ASSERT_FALSE(scopes.ok());
  EXPECT_THAT(scopes.status().message(), HasSubstr("\"repository:B:pull\""));

  std::string many;
  for (int i = 0; i < 65; ++i) many += "repository:a:pull ";
  scopes = ParseScopeList({many});
  ASSERT_FALSE(scopes.ok());
  EXPECT_EQ(scopes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(scopes.status().message(), HasSubstr("too many scopes"));
}

TEST(FormatScopeTest, RoundTrips) {
  const ResourceScope s{"repository", "localhost:5000/a/b", {"pull", "push"}};
  EXPECT_EQ(FormatScope(s), "repository:localhost:5000/a/b:pull,push");
  EXPECT_EQ(Parsed(FormatScope(s)), s);
  EXPECT_EQ(FormatScopes({s, ResourceScope{"registry", "catalog", {"*"}}}),
            "repository:localhost:5000/a/b:pull,push registry:catalog:*");
}

TEST(LimitToRequestedTest, NeverGrantsMoreThanAsked) {
  EXPECT_THAT(LimitToRequested({"pull"}, {"pull", "push", "delete"}), ElementsAre("pull"));
  EXPECT_THAT(LimitToRequested({"pull", "push"}, {"push"}), ElementsAre("push"));
  EXPECT_THAT(LimitToRequested({"pull"}, {"*"}), IsEmpty());
  EXPECT_THAT(LimitToRequested({"*"}, {"pull", "push", "delete"}),
              ElementsAre("pull", "push", "delete"));
  EXPECT_THAT(LimitToRequested({"*"}, {"*"}), ElementsAre("*"));
  EXPECT_THAT(LimitToRequested({"*"}, {"PULL", "", "pu sh"}), IsEmpty());
  EXPECT_THAT(LimitToRequested({}, {"pull"}), IsEmpty());
  EXPECT_THAT(LimitToRequested({"pull"}, {"pull", "pull"}), ElementsAre("pull"));
}

}  // namespace
}  // namespace portunus::auth
