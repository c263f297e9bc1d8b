#include "services/auth/authorizer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/access_cache.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::shared_ptr<AccessSnapshot> Facts() {
  auto s = std::make_shared<AccessSnapshot>();
  s->PutUser({1, "root", true, true, false});
  s->PutUser({2, "alice", false, true, false});
  s->PutUser({3, "bot", false, true, true});
  s->PutUser({4, "off", true, false, false});
  s->PutTeam({10, "devs", Kind::kRegular});
  s->PutTeam({11, "alice", Kind::kPersonal});
  s->PutTeam({12, kGlobalTeamName, Kind::kGlobal});
  s->PutMembership({10, 2, Role::kViewer});
  s->PutMembership({11, 2, Role::kOwner});
  s->PutNamespace({20, "priv", Visibility::kPrivate, Kind::kRegular, 10, std::nullopt});
  s->PutNamespace({21, "prot", Visibility::kProtected, Kind::kRegular, 10, std::nullopt});
  s->PutNamespace({22, "pub", Visibility::kPublic, Kind::kRegular, 10, std::nullopt});
  s->PutNamespace({23, "alice", Visibility::kPrivate, Kind::kPersonal, 11, 2});
  s->PutNamespace({24, kGlobalNamespaceName, Visibility::kPublic, Kind::kGlobal, 12, std::nullopt});
  return s;
}

class AuthorizerTest : public ::testing::Test {
 protected:
  AuthorizerTest() : authorizer_(PolicyOptions{}, cache_) { cache_.Replace(Facts()); }
  AccessCache cache_;
  Authorizer authorizer_;
};

TEST_F(AuthorizerTest, DecidesEachScopeInOrder) {
  absl::StatusOr<std::vector<ScopeDecision>> d = authorizer_.Authorize(
      Principal::User(2, "alice", false),
      {{"repository", "priv/app", {"pull", "push"}}, {"registry", "catalog", {"*"}}, {"repository", "alice/x", {"push"}}});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u);
  EXPECT_THAT((*d)[0].granted, ElementsAre("pull"));
  EXPECT_EQ((*d)[0].denied[0].action, "push");
  EXPECT_THAT((*d)[1].granted, IsEmpty());
  EXPECT_THAT((*d)[2].granted, ElementsAre("push"));
  EXPECT_FALSE(authorizer_.blocking());
}

TEST_F(AuthorizerTest, FailsUntilTheCacheIsLoaded) {
  AccessCache empty;
  Authorizer a(PolicyOptions{}, empty);
  EXPECT_EQ(a.Authorize(Principal::Anonymous(), {}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(a.ListPullableNamespaces(Principal::Anonymous()).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(AuthorizerTest, PullableNamespaces) {
  auto p = authorizer_.ListPullableNamespaces(Principal::User(2, "alice", false));
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->all);
  EXPECT_TRUE(p->global);
  EXPECT_THAT(p->names, ElementsAre("alice", "priv", "prot", "pub"));
  p = authorizer_.ListPullableNamespaces(Principal::Bot(3, "bot"));
  EXPECT_THAT(p->names, ElementsAre("prot", "pub"));
  p = authorizer_.ListPullableNamespaces(Principal::Anonymous());
  EXPECT_THAT(p->names, ElementsAre("pub"));
  EXPECT_TRUE(p->global);
  p = authorizer_.ListPullableNamespaces(Principal::User(1, "root", true));
  EXPECT_TRUE(p->all);
  p = authorizer_.ListPullableNamespaces(Principal::Internal());
  EXPECT_TRUE(p->all);
  // A disabled admin gets nothing at all.
  p = authorizer_.ListPullableNamespaces(Principal::User(4, "off", true));
  EXPECT_FALSE(p->all);
  EXPECT_FALSE(p->global);
  EXPECT_THAT(p->names, IsEmpty());
  // Anonymous browsing off: anonymous listings are empty.
  PolicyOptions no_browsing;
  no_browsing.anonymous_browsing = false;
  Authorizer strict(no_browsing, cache_);
  p = strict.ListPullableNamespaces(Principal::Anonymous());
  EXPECT_FALSE(p->global);
  EXPECT_THAT(p->names, IsEmpty());
}

TEST_F(AuthorizerTest, PrincipalForAccount) {
  EXPECT_TRUE(authorizer_.PrincipalForAccount("")->is_anonymous());
  EXPECT_TRUE(authorizer_.PrincipalForAccount("portunus")->is_internal());
  EXPECT_EQ(*authorizer_.PrincipalForAccount("root"), Principal::User(1, "root", true));
  EXPECT_EQ(authorizer_.PrincipalForAccount("bot")->kind, Principal::Kind::kBot);
  EXPECT_EQ(authorizer_.PrincipalForAccount("ghost").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthorizerTest, AccessToOneNamespace) {
  absl::StatusOr<NamespaceAccess> a = authorizer_.AccessTo(Principal::User(2, "alice", false), "priv");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->pull);
  EXPECT_FALSE(a->push);
  EXPECT_EQ(a->role, Role::kViewer);
  EXPECT_FALSE(a->push_reason.empty());
  EXPECT_EQ(authorizer_.AccessTo(Principal::Anonymous(), "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AuthorizerTest, GenerationAndListeners) {
  const uint64_t start = authorizer_.generation();
  std::vector<uint64_t> seen;
  authorizer_.OnPermissionsChanged([&](uint64_t g) { seen.push_back(g); });
  authorizer_.PermissionsChanged();
  authorizer_.PermissionsChanged();
  EXPECT_EQ(authorizer_.generation(), start + 2);
  EXPECT_THAT(seen, ElementsAre(start + 1, start + 2));
}

TEST_F(AuthorizerTest, CacheAppliesChangesCopyOnWrite) {
  std::shared_ptr<const AccessSnapshot> before = cache_.snapshot();
  AccessChanges c;
  c.team_members.emplace_back(10, std::vector<MembershipFacts>{{10, 2, Role::kOwner}});
  c.removed_namespaces.push_back(22);
  c.users.push_back({5, "new", false, true, false});
  cache_.Apply(c);
  std::shared_ptr<const AccessSnapshot> after = cache_.snapshot();
  EXPECT_EQ(before->RoleOf(10, 2), Role::kViewer);  // readers of the old snapshot are unaffected
  EXPECT_EQ(after->RoleOf(10, 2), Role::kOwner);
  EXPECT_NE(before->FindNamespace("pub"), nullptr);
  EXPECT_EQ(after->FindNamespace("pub"), nullptr);
  EXPECT_NE(after->FindUserByName("new"), nullptr);
  AccessChanges rm;
  rm.removed_users.push_back(2);
  cache_.Apply(rm);
  EXPECT_FALSE(cache_.snapshot()->RoleOf(10, 2).has_value());
  cache_.Invalidate();
  EXPECT_FALSE(cache_.loaded());
}

}  // namespace
}  // namespace portunus::auth
