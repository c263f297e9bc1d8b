// The management rules of users, teams, members, namespaces and application tokens, on the
// in-memory store. Each rule that fixes a Portus hole (token ownership, last owner, last admin;
// bots token-only is in authenticator_test.cc) has its own test.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/bcrypt_password_hasher.h"
#include "services/auth/fake_identity_store.h"
#include "services/auth/namespace_directory.h"
#include "services/auth/team_directory.h"
#include "services/auth/user_directory.h"
#include "services/common/status_macros.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                        \
  auto PORTUNUS_STATUS_CONCAT_(r_, __LINE__) = (expr);         \
  ASSERT_TRUE(PORTUNUS_STATUS_CONCAT_(r_, __LINE__).ok())      \
      << PORTUNUS_STATUS_CONCAT_(r_, __LINE__).status();       \
  lhs = std::move(PORTUNUS_STATUS_CONCAT_(r_, __LINE__)).value()

class DirectoriesTest : public ::testing::Test {
 protected:
  DirectoriesTest()
      : store_(clock_),
        hasher_(4),
        users_(UserDirectory::Options{5}, store_, hasher_, sync_),
        teams_(TeamDirectory::Options{}, store_, sync_),
        namespaces_(NamespaceDirectory::Options{}, store_, sync_) {
    UserDirectory::NewUserInput root{"root", "root@example.com", "rootpassword", "", false, false};
    auto boot = users_.Bootstrap(root);
    EXPECT_TRUE(boot.ok()) << boot.status();
    root_ = Principal::User(boot->user.id, "root", true);
    root_token_ = boot->token.plain_token;
    alice_ = MakeUser("alice");
    bob_ = MakeUser("bob");
    carol_ = MakeUser("carol");
  }

  Principal MakeUser(const std::string& name, bool admin = false) {
    UserDirectory::NewUserInput in{name, name + "@example.com", "password-" + name, "", admin, false};
    absl::StatusOr<User> u = users_.Create(root_, in);
    EXPECT_TRUE(u.ok()) << u.status();
    return Principal::User(u->id, name, admin);
  }
  Principal MakeBot(const std::string& name) {
    UserDirectory::NewUserInput in{name, "", "", "", false, true};
    absl::StatusOr<User> u = users_.Create(root_, in);
    EXPECT_TRUE(u.ok()) << u.status();
    return Principal::Bot(u->id, name);
  }
  // A team owned by alice with bob as contributor and carol as viewer.
  Team MakeDevs() {
    absl::StatusOr<Team> t = teams_.Create(alice_, "devs", "the developers");
    EXPECT_TRUE(t.ok()) << t.status();
    EXPECT_TRUE(teams_.AddMember(alice_, "devs", "bob", "contributor").ok());
    EXPECT_TRUE(teams_.AddMember(alice_, "devs", "carol", "viewer").ok());
    return *t;
  }

  testing::FakeClock clock_;
  FakeIdentityStore store_;
  BcryptPasswordHasher hasher_;
  NoChangeSync sync_;
  UserDirectory users_;
  TeamDirectory teams_;
  NamespaceDirectory namespaces_;
  Principal root_, alice_, bob_, carol_;
  std::string root_token_;
};

// ---------------- users ----------------

TEST_F(DirectoriesTest, BootstrapOnlyWhileNoUserExists) {
  EXPECT_THAT(root_token_, ::testing::StartsWith("pnt_"));
  EXPECT_GE(root_token_.size(), 4u + 43u);  // 32 random bytes
  UserDirectory::NewUserInput again{"eve", "eve@example.com", "evepassword", "", false, false};
  EXPECT_EQ(users_.Bootstrap(again).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(User root, store_.GetUser(root_.user_id));
  EXPECT_TRUE(root.admin);
  EXPECT_TRUE(root.namespace_id.has_value());
}

TEST_F(DirectoriesTest, BootstrapValidatesEveryField) {
  FakeIdentityStore empty(clock_);
  UserDirectory fresh(UserDirectory::Options{}, empty, hasher_, sync_);
  const auto field = [&](UserDirectory::NewUserInput in) { return ErrorField(fresh.Bootstrap(in).status()); };
  EXPECT_EQ(field({"Bad Name", "a@b.io", "password1", "", false, false}), "user.username");
  EXPECT_EQ(field({std::string(256, 'a'), "a@b.io", "password1", "", false, false}), "user.username");
  EXPECT_EQ(field({"admin'; DROP TABLE users;--", "a@b.io", "password1", "", false, false}), "user.username");
  EXPECT_EQ(field({"portunus", "a@b.io", "password1", "", false, false}), "user.username");
  EXPECT_EQ(field({"admin", "not-an-email", "password1", "", false, false}), "user.email");
  EXPECT_EQ(field({"admin", "a@b.io", "short", "", false, false}), "user.password");
  EXPECT_EQ(field({"admin", "a@b.io", "pass\xff\xfeword", "", false, false}), "user.password");
  EXPECT_EQ(field({"admin", "a@b.io", "password1", "bad\x01name", false, false}), "user.display_name");
  EXPECT_EQ(field({"admin", "a@b.io", "password1", "", false, true}), "user.bot");
  EXPECT_EQ(empty.CountUsers().value(), 0);
}

TEST_F(DirectoriesTest, OnlyAdminsListAndCreateUsers) {
  UserDirectory::NewUserInput in{"dave", "dave@example.com", "davepassword", "", false, false};
  EXPECT_EQ(users_.Create(Principal::Anonymous(), in).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(users_.Create(alice_, in).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.List(alice_, {}).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.Create(Principal::Internal(), in).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(Page<User> page, users_.List(root_, {}));
  EXPECT_EQ(page.total, 4);
  ASSERT_OK_AND_ASSIGN(page, users_.List(root_, ListParams{2, 3, "username", "desc"}));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].username, "alice");
  EXPECT_EQ(ErrorField(users_.List(root_, ListParams{0, 1000, "", ""}).status()), "per_page");
  EXPECT_EQ(ErrorField(users_.List(root_, ListParams{0, 0, "password_hash", ""}).status()), "sort_attr");
  EXPECT_EQ(ErrorField(users_.List(root_, ListParams{0, 0, "", "sideways"}).status()), "sort_order");
}

TEST_F(DirectoriesTest, DuplicatesAreConflicts) {
  UserDirectory::NewUserInput dup{"alice", "other@example.com", "password12", "", false, false};
  EXPECT_EQ(users_.Create(root_, dup).status().code(), absl::StatusCode::kAlreadyExists);
  UserDirectory::NewUserInput email{"alice2", "ALICE@example.com", "password12", "", false, false};
  EXPECT_EQ(users_.Create(root_, email).status().code(), absl::StatusCode::kAlreadyExists);
  // A user's personal namespace name must be free too.
  ASSERT_TRUE(teams_.Create(alice_, "acme", "").ok());
  ASSERT_TRUE(namespaces_.Create(alice_, {"shared", "acme", "", std::nullopt}).ok());
  UserDirectory::NewUserInput clash{"shared", "shared@example.com", "password12", "", false, false};
  absl::Status s = users_.Create(root_, clash).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("namespace shared"));
}

TEST_F(DirectoriesTest, BotsHaveNoPasswordNoNamespaceNoAdminRights) {
  UserDirectory::NewUserInput with_password{"bot1", "", "password12", "", false, true};
  EXPECT_EQ(ErrorField(users_.Create(root_, with_password).status()), "user.password");
  UserDirectory::NewUserInput admin_bot{"bot1", "", "", "", true, true};
  EXPECT_EQ(ErrorField(users_.Create(root_, admin_bot).status()), "user.admin");
  Principal bot = MakeBot("bot1");
  ASSERT_OK_AND_ASSIGN(User u, store_.GetUser(bot.user_id));
  EXPECT_TRUE(u.bot);
  EXPECT_FALSE(u.namespace_id.has_value());
  UserDirectory::UpdateInput promote;
  promote.admin = true;
  EXPECT_EQ(ErrorField(users_.Update(root_, "bot1", promote).status()), "user.admin");
  UserDirectory::UpdateInput password;
  password.password = "newpassword";
  EXPECT_EQ(ErrorField(users_.Update(root_, "bot1", password).status()), "user.password");
}

TEST_F(DirectoriesTest, UsersSeeAndChangeOnlyThemselves) {
  EXPECT_TRUE(users_.Get(alice_, "alice").ok());
  EXPECT_TRUE(users_.Get(alice_, std::to_string(alice_.user_id)).ok());
  EXPECT_EQ(users_.Get(alice_, "bob").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(users_.Get(root_, "bob").ok());
  EXPECT_EQ(users_.Get(root_, "nobody").status().code(), absl::StatusCode::kNotFound);
  UserDirectory::UpdateInput email;
  email.email = "alice@new.example.com";
  EXPECT_TRUE(users_.Update(alice_, "alice", email).ok());
  EXPECT_EQ(users_.Update(alice_, "bob", email).status().code(), absl::StatusCode::kPermissionDenied);
  UserDirectory::UpdateInput rename;
  rename.username = "alicia";
  EXPECT_EQ(ErrorField(users_.Update(alice_, "alice", rename).status()), "user.username");
  UserDirectory::UpdateInput grant;
  grant.admin = true;
  EXPECT_EQ(users_.Update(alice_, "alice", grant).status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(DirectoriesTest, ChangingYourOwnPasswordNeedsTheCurrentOne) {
  UserDirectory::UpdateInput in;
  in.password = "brand-new-password";
  EXPECT_EQ(ErrorField(users_.Update(alice_, "alice", in).status()), "user.current_password");
  in.current_password = "wrong-password";
  EXPECT_EQ(ErrorField(users_.Update(alice_, "alice", in).status()), "user.current_password");
  in.current_password = "password-alice";
  ASSERT_TRUE(users_.Update(alice_, "alice", in).ok());
  std::optional<LoginRecord> login = store_.FindLogin("alice").value();
  EXPECT_TRUE(hasher_.Verify("brand-new-password", *login->password_hash));
  // An admin resets someone else's password without it.
  UserDirectory::UpdateInput reset;
  reset.password = "reset-by-admin";
  EXPECT_TRUE(users_.Update(root_, "bob", reset).ok());
  reset.password = "short";
  EXPECT_EQ(ErrorField(users_.Update(root_, "bob", reset).status()), "user.password");
}

TEST_F(DirectoriesTest, TheLastAdminCanNeitherBeDemotedDisabledNorDeleted) {
  UserDirectory::UpdateInput demote;
  demote.admin = false;
  absl::Status s = users_.Update(root_, "root", demote).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("last enabled administrator"));
  EXPECT_EQ(ErrorRule(s), kRuleLastAdmin);
  UserDirectory::UpdateInput disable;
  disable.enabled = false;
  EXPECT_EQ(users_.Update(root_, "root", disable).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(users_.Update(root_, "root", disable).status()), kRuleLastAdmin);
  EXPECT_EQ(users_.Delete(root_, "root").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(users_.Delete(root_, "root")), kRuleLastAdmin);
  // With a second admin, both become possible.
  UserDirectory::UpdateInput grant;
  grant.admin = true;
  ASSERT_TRUE(users_.Update(root_, "alice", grant).ok());
  EXPECT_TRUE(users_.Update(root_, "root", disable).ok());
  Principal alice_admin = Principal::User(alice_.user_id, "alice", true);
  EXPECT_EQ(users_.Update(alice_admin, "alice", demote).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DirectoriesTest, UsersMayDisableThemselvesButOnlyAdminsEnable) {
  UserDirectory::UpdateInput disable;
  disable.enabled = false;
  ASSERT_OK_AND_ASSIGN(User off, users_.Update(bob_, "bob", disable));
  EXPECT_FALSE(off.enabled);
  UserDirectory::UpdateInput enable;
  enable.enabled = true;
  EXPECT_EQ(users_.Update(bob_, "bob", enable).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(users_.Update(root_, "bob", enable).ok());
}

TEST_F(DirectoriesTest, DeletingAUserTakesItsPersonalNamespace) {
  ASSERT_TRUE(store_.FindNamespaceByName("bob").ok());
  EXPECT_EQ(users_.Delete(alice_, "bob").code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(users_.Delete(root_, "bob").ok());
  EXPECT_EQ(store_.FindNamespaceByName("bob").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.FindTeamByName("bob").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(DirectoriesTest, DeletingTheLastOwnerOfATeamIsRefused) {
  MakeDevs();
  absl::Status s = users_.Delete(root_, "alice");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("last owner of team devs"));
  EXPECT_EQ(ErrorRule(s), kRuleLastOwner);
}

// ---------------- application tokens ----------------

TEST_F(DirectoriesTest, OnlyTheOwnerManagesTheirTokens) {
  ASSERT_OK_AND_ASSIGN(auto created, users_.CreateToken(alice_, "alice", "laptop"));
  EXPECT_EQ(created.token.application, "laptop");
  EXPECT_THAT(created.plain_token, ::testing::StartsWith("pnt_"));
  ASSERT_OK_AND_ASSIGN(auto list, users_.ListTokens(alice_, "alice"));
  ASSERT_EQ(list.size(), 1u);
  const std::string id = std::to_string(created.token.id);
  // Portus let any user act on anyone's tokens; here neither other users nor admins may.
  EXPECT_EQ(users_.ListTokens(bob_, "alice").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.CreateToken(bob_, "alice", "evil").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.RevokeToken(bob_, id).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.ListTokens(root_, "alice").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.RevokeToken(root_, id).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(users_.RevokeToken(Principal::Anonymous(), id).code(), absl::StatusCode::kUnauthenticated);
  ASSERT_TRUE(users_.RevokeToken(alice_, id).ok());
  EXPECT_EQ(users_.RevokeToken(alice_, id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(users_.RevokeToken(alice_, "not-a-number").code(), absl::StatusCode::kNotFound);
}

TEST_F(DirectoriesTest, AdminsManageBotsTokens) {
  MakeBot("ci-bot");
  ASSERT_OK_AND_ASSIGN(auto created, users_.CreateToken(root_, "ci-bot", "pipeline"));
  EXPECT_TRUE(users_.ListTokens(root_, "ci-bot").ok());
  EXPECT_EQ(users_.ListTokens(alice_, "ci-bot").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(users_.RevokeToken(root_, std::to_string(created.token.id)).ok());
}

TEST_F(DirectoriesTest, TokenLimitAndNames) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(users_.CreateToken(alice_, "alice", "app" + std::to_string(i)).ok());
  }
  absl::Status s = users_.CreateToken(alice_, "alice", "sixth").status();
  EXPECT_EQ(ErrorField(s), "application");
  EXPECT_THAT(s.message(), HasSubstr("the maximum is 5"));
  EXPECT_EQ(users_.CreateToken(bob_, "bob", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(users_.CreateToken(bob_, "bob", "\xff").status()), "application");
  ASSERT_TRUE(users_.CreateToken(bob_, "bob", "laptop").ok());
  EXPECT_EQ(users_.CreateToken(bob_, "bob", "laptop").status().code(), absl::StatusCode::kAlreadyExists);
}

// ---------------- teams and members ----------------

TEST_F(DirectoriesTest, CreatorOwnsTheTeamAndListsOnlyTheirTeams) {
  Team devs = MakeDevs();
  EXPECT_EQ(devs.members_count, 1);
  ASSERT_OK_AND_ASSIGN(Page<Team> mine, teams_.List(bob_, {}));
  ASSERT_EQ(mine.items.size(), 1u);
  EXPECT_EQ(mine.items[0].name, "devs");
  ASSERT_OK_AND_ASSIGN(Page<Team> none, teams_.List(MakeUser("zed"), {}));
  EXPECT_EQ(none.total, 0);  // personal teams are hidden
  ASSERT_OK_AND_ASSIGN(Page<Team> all, teams_.List(root_, {}));
  EXPECT_EQ(all.total, 1);
  EXPECT_EQ(teams_.Get(MakeUser("yves"), "devs").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(teams_.Get(carol_, std::to_string(devs.id)).ok());
}

TEST_F(DirectoriesTest, TeamCreationSwitchAndBadNames) {
  TeamDirectory locked(TeamDirectory::Options{false, true}, store_, sync_);
  EXPECT_EQ(locked.Create(alice_, "t1", "").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(locked.Create(root_, "t1", "").ok());
  EXPECT_EQ(teams_.Create(MakeBot("b"), "t2", "").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrorField(teams_.Create(alice_, "", "").status()), "name");
  EXPECT_EQ(ErrorField(teams_.Create(alice_, "12", "").status()), "name");
  EXPECT_EQ(ErrorField(teams_.Create(alice_, std::string(300, 'x'), "").status()), "name");
  EXPECT_EQ(ErrorField(teams_.Create(alice_, "ok", std::string(5000, 'x')).status()), "description");
  EXPECT_EQ(teams_.Create(alice_, "t1", "").status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(teams_.Create(alice_, "bob", "").status().code(), absl::StatusCode::kAlreadyExists);  // personal
}

TEST_F(DirectoriesTest, OwnersAndAdminsManageMembers) {
  MakeDevs();
  Principal dan = MakeUser("dan");
  EXPECT_EQ(teams_.AddMember(bob_, "devs", "dan", "viewer").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(teams_.AddMember(dan, "devs", "dan", "owner").status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(Member m, teams_.AddMember(root_, "devs", "dan", "viewer"));
  EXPECT_EQ(m.role, Role::kViewer);
  EXPECT_EQ(teams_.AddMember(alice_, "devs", "dan", "viewer").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorField(teams_.AddMember(alice_, "devs", "dan", "boss").status()), "role");
  EXPECT_EQ(ErrorField(teams_.AddMember(alice_, "devs", "ghost", "viewer").status()), "user");
  EXPECT_EQ(ErrorField(teams_.AddMember(alice_, "devs", "", "viewer").status()), "user");
  ASSERT_OK_AND_ASSIGN(m, teams_.UpdateMember(alice_, "devs", "dan", "contributor"));
  EXPECT_EQ(m.role, Role::kContributor);
  ASSERT_OK_AND_ASSIGN(m, teams_.UpdateMember(alice_, "devs", std::to_string(m.id), "owner"));
  EXPECT_EQ(m.role, Role::kOwner);
  EXPECT_TRUE(teams_.RemoveMember(alice_, "devs", "dan").ok());
  EXPECT_EQ(teams_.RemoveMember(alice_, "devs", "dan").code(), absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(Page<Member> members, teams_.ListMembers(carol_, "devs", ListParams{0, 0, "username", ""}));
  std::vector<std::string> names;
  for (const Member& mm : members.items) names.push_back(mm.username);
  EXPECT_THAT(names, ElementsAre("alice", "bob", "carol"));
}

TEST_F(DirectoriesTest, ManageTeamSwitchLeavesItToAdmins) {
  MakeDevs();
  TeamDirectory locked(TeamDirectory::Options{true, false}, store_, sync_);
  absl::Status s = locked.AddMember(alice_, "devs", "root", "viewer").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("user_permission.manage_team"));
  EXPECT_TRUE(locked.AddMember(root_, "devs", "root", "viewer").ok());
}

TEST_F(DirectoriesTest, AdminsAreAlwaysOwners) {
  MakeDevs();
  ASSERT_OK_AND_ASSIGN(Member m, teams_.AddMember(alice_, "devs", "root", "viewer"));
  EXPECT_EQ(m.role, Role::kOwner);
  absl::Status s = teams_.UpdateMember(alice_, "devs", "root", "viewer").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("administrator"));
  EXPECT_EQ(ErrorRule(s), kRuleAdminAlwaysOwner);
  // Promoting a member to admin makes them owner of their teams.
  UserDirectory::UpdateInput grant;
  grant.admin = true;
  ASSERT_TRUE(users_.Update(root_, "carol", grant).ok());
  ASSERT_OK_AND_ASSIGN(Member carol, store_.FindMember(m.team_id, carol_.user_id));
  EXPECT_EQ(carol.role, Role::kOwner);
}

TEST_F(DirectoriesTest, TheLastOwnerCanNeitherBeRemovedNorDemoted) {
  MakeDevs();
  absl::Status s = teams_.UpdateMember(alice_, "devs", "alice", "contributor").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("last owner of team devs"));
  EXPECT_EQ(ErrorRule(s), kRuleLastOwner);
  EXPECT_EQ(teams_.RemoveMember(alice_, "devs", "alice").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(teams_.RemoveMember(alice_, "devs", "alice")), kRuleLastOwner);
  EXPECT_EQ(teams_.RemoveMember(root_, "devs", "alice").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(teams_.UpdateMember(alice_, "devs", "bob", "owner").ok());
  EXPECT_TRUE(teams_.UpdateMember(alice_, "devs", "alice", "viewer").ok());
}

TEST_F(DirectoriesTest, HiddenTeamsTakeNoMembers) {
  absl::Status s = teams_.AddMember(root_, "alice", "bob", "viewer").status();  // alice's personal team
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("hidden personal team"));
  EXPECT_EQ(ErrorRule(s), kRuleHiddenTeam);
  EXPECT_EQ(teams_.AddMember(root_, kGlobalTeamName, "bob", "viewer").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(teams_.Delete(root_, "alice").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(teams_.Update(root_, kGlobalTeamName, "x", std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DirectoriesTest, TeamsWithNamespacesCannotBeDeleted) {
  MakeDevs();
  ASSERT_TRUE(namespaces_.Create(alice_, {"acme", "devs", "", std::nullopt}).ok());
  absl::Status s = teams_.Delete(alice_, "devs");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("still owns namespaces (acme)"));
  EXPECT_EQ(ErrorRule(s), kRuleTeamOwnsNamespaces);
  EXPECT_EQ(teams_.Delete(bob_, "devs").code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(namespaces_.Delete(alice_, "acme").ok());
  EXPECT_TRUE(teams_.Delete(alice_, "devs").ok());
}

TEST_F(DirectoriesTest, TeamRename) {
  MakeDevs();
  ASSERT_OK_AND_ASSIGN(Team t, teams_.Update(alice_, "devs", std::string("developers"), std::string("new")));
  EXPECT_EQ(t.name, "developers");
  EXPECT_EQ(t.description, "new");
  EXPECT_EQ(teams_.Update(bob_, "developers", std::string("x"), std::nullopt).status().code(),
            absl::StatusCode::kPermissionDenied);
}

// ---------------- namespaces ----------------

TEST_F(DirectoriesTest, ContributorsAndOwnersCreatePrivateNamespaces) {
  MakeDevs();
  ASSERT_OK_AND_ASSIGN(auto view, namespaces_.Create(bob_, {"acme", "devs", "apps", std::nullopt}));
  EXPECT_EQ(view.ns.visibility, Visibility::kPrivate);
  EXPECT_EQ(view.ns.team_name, "devs");
  EXPECT_TRUE(view.permissions.push);
  EXPECT_FALSE(view.permissions.manage);
  absl::Status viewer = namespaces_.Create(carol_, {"acme2", "devs", "", std::nullopt}).status();
  EXPECT_EQ(viewer.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(viewer.message(), HasSubstr("carol is a viewer"));
  EXPECT_EQ(namespaces_.Create(MakeUser("out"), {"acme3", "devs", "", std::nullopt}).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Visibility at creation needs the right to change it.
  EXPECT_EQ(namespaces_.Create(bob_, {"acme4", "devs", "", "public"}).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(view, namespaces_.Create(alice_, {"acme5", "devs", "", "public"}));
  EXPECT_EQ(view.ns.visibility, Visibility::kPublic);
  EXPECT_TRUE(view.permissions.manage);
}

TEST_F(DirectoriesTest, NamespaceInputErrorsNameTheField) {
  MakeDevs();
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"Bad", "devs", "", std::nullopt}).status()), "name");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"x;DROP TABLE", "devs", "", std::nullopt}).status()), "name");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"ok", "", "", std::nullopt}).status()), "team");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"ok", "nope", "", std::nullopt}).status()), "team");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"ok", "alice", "", std::nullopt}).status()), "team");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"ok", "devs", "", "secret"}).status()), "visibility");
  EXPECT_EQ(ErrorField(namespaces_.Create(alice_, {"ok", "devs", "\x01", std::nullopt}).status()), "description");
  EXPECT_EQ(namespaces_.Create(alice_, {"bob", "devs", "", std::nullopt}).status().code(),
            absl::StatusCode::kAlreadyExists);
  NamespaceDirectory locked(NamespaceDirectory::Options{false, true, true, {}}, store_, sync_);
  EXPECT_EQ(locked.Create(alice_, {"ok", "devs", "", std::nullopt}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(locked.Create(root_, {"ok", "devs", "", std::nullopt}).ok());
}

TEST_F(DirectoriesTest, NamespaceVisibilityDecidesWhoSeesIt) {
  MakeDevs();
  ASSERT_TRUE(namespaces_.Create(alice_, {"acme", "devs", "", std::nullopt}).ok());
  Principal out = MakeUser("outsider");
  absl::Status s = namespaces_.Get(out, "acme").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "namespace acme is private and outsider is not a member of team devs");
  ASSERT_OK_AND_ASSIGN(Page<NamespaceDirectory::View> listed, namespaces_.List(out, {}));
  std::vector<std::string> names;
  for (const auto& v : listed.items) names.push_back(v.ns.name);
  EXPECT_THAT(names, UnorderedElementsAre(kGlobalNamespaceName, "outsider"));
  NamespaceDirectory::UpdateInput prot;
  prot.visibility = "protected";
  ASSERT_TRUE(namespaces_.Update(alice_, "acme", prot).ok());
  ASSERT_OK_AND_ASSIGN(auto view, namespaces_.Get(out, "acme"));
  EXPECT_TRUE(view.permissions.pull);
  EXPECT_FALSE(view.permissions.push);
  ASSERT_OK_AND_ASSIGN(listed, namespaces_.List(root_, {}));
  EXPECT_EQ(listed.total, 7);  // global + 5 personal + acme
  EXPECT_EQ(namespaces_.List(Principal::Anonymous(), {}).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(DirectoriesTest, OnlyOwnersAndAdminsChangeNamespaces) {
  MakeDevs();
  ASSERT_TRUE(namespaces_.Create(alice_, {"acme", "devs", "", std::nullopt}).ok());
  NamespaceDirectory::UpdateInput pub;
  pub.visibility = "public";
  EXPECT_EQ(namespaces_.Update(bob_, "acme", pub).status().code(), absl::StatusCode::kPermissionDenied);
  NamespaceDirectory::UpdateInput desc;
  desc.description = "new";
  EXPECT_EQ(namespaces_.Update(bob_, "acme", desc).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto v, namespaces_.Update(alice_, "acme", desc));
  EXPECT_EQ(v.ns.description, "new");
  NamespaceDirectory::UpdateInput rename;
  rename.name = "acme2";
  EXPECT_EQ(ErrorField(namespaces_.Update(alice_, "acme", rename).status()), "name");
  EXPECT_EQ(ErrorField(namespaces_.Update(alice_, "acme", NamespaceDirectory::UpdateInput{std::nullopt, std::nullopt, std::nullopt, std::string("open")}).status()),
            "visibility");
  NamespaceDirectory locked(NamespaceDirectory::Options{true, true, false, {}}, store_, sync_);
  absl::Status s = locked.Update(alice_, "acme", pub).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("user_permission.change_visibility"));
  EXPECT_TRUE(locked.Update(root_, "acme", pub).ok());
  // The global namespace is always public and only admins touch it.
  NamespaceDirectory::UpdateInput priv;
  priv.visibility = "private";
  EXPECT_EQ(ErrorField(namespaces_.Update(root_, kGlobalNamespaceName, priv).status()), "visibility");
  EXPECT_EQ(namespaces_.Update(alice_, kGlobalNamespaceName, desc).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Personal namespaces: their owner may open them up.
  ASSERT_OK_AND_ASSIGN(v, namespaces_.Update(alice_, "alice", pub));
  EXPECT_EQ(v.ns.visibility, Visibility::kPublic);
}

TEST_F(DirectoriesTest, MovingANamespaceNeedsOwnershipOfBothTeams) {
  MakeDevs();
  ASSERT_TRUE(namespaces_.Create(alice_, {"acme", "devs", "", std::nullopt}).ok());
  ASSERT_TRUE(teams_.Create(bob_, "ops", "").ok());
  NamespaceDirectory::UpdateInput move;
  move.team = "ops";
  EXPECT_EQ(namespaces_.Update(alice_, "acme", move).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(namespaces_.Update(bob_, "acme", move).status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(teams_.AddMember(bob_, "ops", "alice", "owner").ok());
  ASSERT_OK_AND_ASSIGN(auto v, namespaces_.Update(alice_, "acme", move));
  EXPECT_EQ(v.ns.team_name, "ops");
  move.team = "alice";
  EXPECT_EQ(ErrorField(namespaces_.Update(root_, "acme", move).status()), "team");
  move.team = "ops";
  EXPECT_EQ(ErrorField(namespaces_.Update(root_, "bob", move).status()), "team");
}

TEST_F(DirectoriesTest, GlobalAndPersonalNamespacesCannotBeDeleted) {
  EXPECT_EQ(namespaces_.Delete(root_, kGlobalNamespaceName).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(namespaces_.Delete(alice_, "alice").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(namespaces_.Delete(root_, kGlobalNamespaceName)), kRuleGlobalNamespace);
  EXPECT_EQ(ErrorRule(namespaces_.Delete(alice_, "alice")), kRulePersonalNamespace);
  EXPECT_EQ(namespaces_.Delete(bob_, "alice").code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(DirectoriesTest, ValidateAnswersLikePortus) {
  ASSERT_OK_AND_ASSIGN(auto v, namespaces_.Validate(alice_, "fresh"));
  EXPECT_TRUE(v.valid);
  ASSERT_OK_AND_ASSIGN(v, namespaces_.Validate(alice_, "bob"));
  EXPECT_FALSE(v.valid);
  EXPECT_THAT(v.name_messages, ElementsAre("has already been taken"));
  ASSERT_OK_AND_ASSIGN(v, namespaces_.Validate(alice_, "No Good"));
  EXPECT_FALSE(v.valid);
  ASSERT_EQ(v.name_messages.size(), 1u);
  EXPECT_THAT(v.name_messages[0], HasSubstr("lower-case"));
}

TEST_F(DirectoriesTest, EnsureIsForTheInternalPrincipal) {
  EXPECT_EQ(namespaces_.Ensure(root_, "orphan").status().code(), absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto first, namespaces_.Ensure(Principal::Internal(), "orphan"));
  EXPECT_TRUE(first.second);
  EXPECT_EQ(first.first.team_name, kGlobalTeamName);
  EXPECT_EQ(first.first.visibility, Visibility::kPrivate);
  ASSERT_OK_AND_ASSIGN(auto again, namespaces_.Ensure(Principal::Internal(), "orphan"));
  EXPECT_FALSE(again.second);
  EXPECT_EQ(again.first.id, first.first.id);
  EXPECT_EQ(ErrorField(namespaces_.Ensure(Principal::Internal(), "Bad/Name").status()), "name");
}

}  // namespace
}  // namespace portunus::auth
