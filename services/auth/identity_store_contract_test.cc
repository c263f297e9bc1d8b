// One contract, two implementations: every test runs against FakeIdentityStore and against
// PgIdentityStore on a fresh PostgreSQL database (PORTUNUS_TEST_DATABASE), so domain tests on
// the fake say something true about the product. Concurrency tests show the invariants hold
// under racing transactions.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/fake_identity_store.h"
#include "services/auth/migrations.h"
#include "services/auth/pg_identity_store.h"
#include "services/auth/secret_digest.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/test_database.h"

namespace portunus::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

enum class Impl { kFake, kPostgres };

class IdentityStoreContractTest : public ::testing::TestWithParam<Impl> {
 protected:
  void SetUp() override {
    if (GetParam() == Impl::kFake) {
      store_ = std::make_unique<FakeIdentityStore>(clock_);
      return;
    }
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    pool_ = std::make_unique<PgPool>(PgPool::Options{db_->dsn(), 8});
    absl::StatusOr<int> applied = Migrator(*pool_, "auth", Migrations()).Apply();
    ASSERT_TRUE(applied.ok()) << applied.status();
    store_ = std::make_unique<PgIdentityStore>(*pool_);
  }

  User MakeUser(const std::string& name, bool admin = false, bool bot = false) {
    NewUser u;
    u.username = name;
    if (!bot) {
      u.email = name + "@example.com";
      u.password_hash = "$2b$04$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu";
    }
    u.admin = admin;
    u.bot = bot;
    absl::StatusOr<User> created = store_->CreateUser(u);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.value_or(User{});
  }

  testing::FakeClock clock_;
  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<IdentityStore> store_;
};

TEST_P(IdentityStoreContractTest, AGlobalTeamAndNamespaceExistFromTheStart) {
  absl::StatusOr<Namespace> global = store_->FindNamespaceByName(kGlobalNamespaceName);
  ASSERT_TRUE(global.ok()) << global.status();
  EXPECT_EQ(global->kind, Kind::kGlobal);
  EXPECT_EQ(global->visibility, Visibility::kPublic);
  EXPECT_EQ(global->team_name, kGlobalTeamName);
  EXPECT_EQ(store_->CountUsers().value(), 0);
}

TEST_P(IdentityStoreContractTest, PeopleComeWithAPersonalTeamAndNamespace) {
  User bob = MakeUser("bob");
  ASSERT_TRUE(bob.namespace_id.has_value());
  Namespace ns = store_->GetNamespace(*bob.namespace_id).value();
  EXPECT_EQ(ns.name, "bob");
  EXPECT_EQ(ns.kind, Kind::kPersonal);
  EXPECT_EQ(ns.visibility, Visibility::kPrivate);
  EXPECT_EQ(ns.personal_owner_id, bob.id);
  Team team = store_->GetTeam(ns.team_id).value();
  EXPECT_EQ(team.kind, Kind::kPersonal);
  EXPECT_EQ(team.owner_user_id, bob.id);
  EXPECT_EQ(store_->FindMember(team.id, bob.id)->role, Role::kOwner);
  User bot = MakeUser("bot", false, true);
  EXPECT_FALSE(bot.namespace_id.has_value());
  EXPECT_FALSE(bot.email.has_value());
  EXPECT_EQ(store_->FindLogin("bot")->value().password_hash, std::nullopt);
}

TEST_P(IdentityStoreContractTest, NamesAreUnique) {
  MakeUser("bob");
  NewUser dup;
  dup.username = "bob";
  dup.email = "other@example.com";
  dup.password_hash = "x";
  absl::Status s = store_->CreateUser(dup).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("bob"));
  dup.username = "bobby";
  dup.email = "BOB@Example.com";
  s = store_->CreateUser(dup).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("e-mail"));
  // A person's personal namespace and team names must be free.
  User bob = store_->FindUserByName("bob").value();
  ASSERT_TRUE(store_->CreateTeam("crew", "", bob.id).ok());
  dup.username = "crew";
  dup.email = "crew@example.com";
  s = store_->CreateUser(dup).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("team named crew"));
  EXPECT_EQ(store_->CreateTeam("crew", "", bob.id).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateNamespace("bob", "", store_->FindTeamByName("crew")->id, Visibility::kPrivate)
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  // Nothing half-created: the failed users left no teams or namespaces behind.
  EXPECT_EQ(store_->FindNamespaceByName("bobby").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->CountUsers().value(), 1);
}

TEST_P(IdentityStoreContractTest, TextIsStoredVerbatim) {
  User bob = MakeUser("bob");
  const std::string name = "Robert'); DROP TABLE auth.users;-- \xc3\xa9\xe2\x82\xac";
  absl::StatusOr<Team> t = store_->CreateTeam(name, "desc with 'quotes' and \\backslash", bob.id);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(store_->FindTeamByName(name)->description, "desc with 'quotes' and \\backslash");
  EXPECT_EQ(store_->CountUsers().value(), 1);
}

TEST_P(IdentityStoreContractTest, BootstrapHappensOnceEvenUnderRaces) {
  std::atomic<int> ok{0}, denied{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      NewUser u;
      u.username = absl::StrCat("admin", i);
      u.email = absl::StrCat("admin", i, "@example.com");
      u.password_hash = "x";
      absl::Status s = store_->Bootstrap(u, NewToken{0, "bootstrap", Sha256(absl::StrCat("t", i))}).status();
      if (s.ok()) ++ok;
      if (s.code() == absl::StatusCode::kPermissionDenied) ++denied;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(denied.load(), 3);
  Page<User> users = store_->ListUsers(ListOptions{}).value();
  ASSERT_EQ(users.items.size(), 1u);
  EXPECT_TRUE(users.items[0].admin);
  EXPECT_EQ(store_->ListTokens(users.items[0].id)->size(), 1u);
}

TEST_P(IdentityStoreContractTest, TheLastEnabledAdminStays) {
  User a = MakeUser("a", true);
  User b = MakeUser("b", true);
  // Two admins demoting each other at once: one must fail.
  std::atomic<int> failed{0};
  std::thread t1([&] {
    UserPatch p;
    p.admin = false;
    if (!store_->UpdateUser(a.id, p).ok()) ++failed;
  });
  std::thread t2([&] {
    UserPatch p;
    p.enabled = false;
    if (!store_->UpdateUser(b.id, p).ok()) ++failed;
  });
  t1.join();
  t2.join();
  EXPECT_EQ(failed.load(), 1);
  int enabled_admins = 0;
  const Page<User> all = store_->ListUsers(ListOptions{}).value();
  for (const User& u : all.items) enabled_admins += u.admin && u.enabled;
  EXPECT_EQ(enabled_admins, 1);
  const int64_t last = store_->GetUser(a.id)->admin && store_->GetUser(a.id)->enabled ? a.id : b.id;
  absl::Status s = store_->DeleteUser(last);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("last enabled administrator"));
  EXPECT_EQ(ErrorRule(s), kRuleLastAdmin);
}

TEST_P(IdentityStoreContractTest, TeamsKeepAnOwner) {
  User a = MakeUser("alice");
  User b = MakeUser("bob");
  Team t = store_->CreateTeam("devs", "", a.id).value();
  EXPECT_EQ(t.members_count, 1);
  Member ma = store_->FindMember(t.id, a.id).value();
  EXPECT_EQ(store_->UpdateMemberRole(ma.id, Role::kViewer).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RemoveMember(ma.id).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorRule(store_->RemoveMember(ma.id)), kRuleLastOwner);
  EXPECT_EQ(ErrorRule(store_->UpdateMemberRole(ma.id, Role::kViewer).status()), kRuleLastOwner);
  Member mb = store_->AddMember(t.id, b.id, Role::kOwner).value();
  EXPECT_EQ(store_->AddMember(t.id, b.id, Role::kViewer).status().code(), absl::StatusCode::kAlreadyExists);
  // Both owners leaving at once: one must stay.
  std::atomic<int> removed{0};
  std::thread t1([&] { removed += store_->RemoveMember(ma.id).ok(); });
  std::thread t2([&] { removed += store_->RemoveMember(mb.id).ok(); });
  t1.join();
  t2.join();
  EXPECT_EQ(removed.load(), 1);
  EXPECT_EQ(store_->ListMembers(t.id, ListOptions{})->total, 1);
  // The remaining owner cannot be deleted either.
  const int64_t owner = store_->ListMembers(t.id, ListOptions{})->items[0].user_id;
  absl::Status s = store_->DeleteUser(owner);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("last owner of team devs"));
  EXPECT_EQ(ErrorRule(s), kRuleLastOwner);
}

TEST_P(IdentityStoreContractTest, MakingSomeoneAdminMakesThemOwner) {
  User a = MakeUser("alice");
  User b = MakeUser("bob");
  Team t = store_->CreateTeam("devs", "", a.id).value();
  ASSERT_TRUE(store_->AddMember(t.id, b.id, Role::kViewer).ok());
  UserPatch p;
  p.admin = true;
  ASSERT_TRUE(store_->UpdateUser(b.id, p).ok());
  EXPECT_EQ(store_->FindMember(t.id, b.id)->role, Role::kOwner);
  EXPECT_TRUE(store_->FindMember(t.id, b.id)->admin);
}

TEST_P(IdentityStoreContractTest, DeletingAUserCleansUp) {
  User a = MakeUser("alice");
  User b = MakeUser("bob");
  Team t = store_->CreateTeam("devs", "", a.id).value();
  ASSERT_TRUE(store_->AddMember(t.id, b.id, Role::kContributor).ok());
  ASSERT_TRUE(store_->CreateToken(NewToken{b.id, "laptop", Sha256("secret-b")}, 5).ok());
  ASSERT_TRUE(store_->DeleteUser(b.id).ok());
  EXPECT_EQ(store_->GetUser(b.id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->FindNamespaceByName("bob").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->FindTeamByName("bob").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListMembers(t.id, ListOptions{})->total, 1);
  EXPECT_FALSE(store_->FindTokenOwner(Sha256("secret-b"))->has_value());
  EXPECT_EQ(store_->DeleteUser(b.id).code(), absl::StatusCode::kNotFound);
}

TEST_P(IdentityStoreContractTest, TeamsWithNamespacesStay) {
  User a = MakeUser("alice");
  Team t = store_->CreateTeam("devs", "", a.id).value();
  Namespace n = store_->CreateNamespace("acme", "apps", t.id, Visibility::kProtected).value();
  EXPECT_EQ(n.team_name, "devs");
  EXPECT_EQ(store_->GetTeam(t.id)->namespaces_count, 1);
  absl::Status s = store_->DeleteTeam(t.id);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("acme"));
  EXPECT_EQ(ErrorRule(s), kRuleTeamOwnsNamespaces);
  ASSERT_TRUE(store_->DeleteNamespace(n.id).ok());
  ASSERT_TRUE(store_->DeleteTeam(t.id).ok());
  EXPECT_EQ(store_->GetTeam(t.id).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(IdentityStoreContractTest, NamespaceUpdatesAndEnsure) {
  User a = MakeUser("alice");
  Team devs = store_->CreateTeam("devs", "", a.id).value();
  Team ops = store_->CreateTeam("ops", "", a.id).value();
  Namespace n = store_->CreateNamespace("acme", "", devs.id, Visibility::kPrivate).value();
  NamespacePatch p;
  p.team_id = ops.id;
  p.visibility = Visibility::kPublic;
  p.description = "moved";
  Namespace u = store_->UpdateNamespace(n.id, p).value();
  EXPECT_EQ(u.team_name, "ops");
  EXPECT_EQ(u.visibility, Visibility::kPublic);
  EXPECT_EQ(u.description, "moved");
  auto first = store_->EnsureNamespace("orphan").value();
  EXPECT_TRUE(first.second);
  EXPECT_EQ(first.first.team_name, kGlobalTeamName);
  auto again = store_->EnsureNamespace("orphan").value();
  EXPECT_FALSE(again.second);
  EXPECT_EQ(again.first.id, first.first.id);
  EXPECT_FALSE(store_->EnsureNamespace("acme")->second);
}

TEST_P(IdentityStoreContractTest, ListsPageSortAndFilter) {
  User a = MakeUser("alice");
  User b = MakeUser("bob");
  MakeUser("carol");
  Team devs = store_->CreateTeam("devs", "", a.id).value();
  Team ops = store_->CreateTeam("ops", "", b.id).value();
  ASSERT_TRUE(store_->CreateNamespace("zeta", "", devs.id, Visibility::kPrivate).ok());
  ASSERT_TRUE(store_->CreateNamespace("beta", "", ops.id, Visibility::kProtected).ok());
  ASSERT_TRUE(store_->CreateNamespace("alpha", "", ops.id, Visibility::kPrivate).ok());

  ListOptions by_name;
  by_name.sort_attr = "username";
  by_name.descending = true;
  by_name.per_page = 2;
  Page<User> users = store_->ListUsers(by_name).value();
  EXPECT_EQ(users.total, 3);
  ASSERT_EQ(users.items.size(), 2u);
  EXPECT_EQ(users.items[0].username, "carol");
  EXPECT_EQ(users.items[1].username, "bob");
  by_name.page = 2;
  users = store_->ListUsers(by_name).value();
  ASSERT_EQ(users.items.size(), 1u);
  EXPECT_EQ(users.items[0].username, "alice");
  by_name.page = 9;
  EXPECT_TRUE(store_->ListUsers(by_name)->items.empty());

  EXPECT_EQ(store_->ListTeams(ListOptions{}, std::nullopt)->total, 2);  // hidden teams excluded
  Page<Team> alices = store_->ListTeams(ListOptions{}, a.id).value();
  ASSERT_EQ(alices.items.size(), 1u);
  EXPECT_EQ(alices.items[0].name, "devs");

  ListOptions ns_order;
  ns_order.sort_attr = "name";
  ns_order.per_page = 100;
  NamespaceFilter of_ops;
  of_ops.team_id = ops.id;
  std::vector<std::string> names;
  const Page<Namespace> ops_page = store_->ListNamespaces(ns_order, of_ops).value();
  for (const Namespace& n : ops_page.items) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("alpha", "beta"));
  NamespaceFilter visible_to_alice;
  visible_to_alice.visible_to_user = a.id;
  names.clear();
  const Page<Namespace> visible = store_->ListNamespaces(ns_order, visible_to_alice).value();
  for (const Namespace& n : visible.items) names.push_back(n.name);
  EXPECT_THAT(names, ElementsAre("alice", "beta", kGlobalNamespaceName, "zeta"));
  EXPECT_EQ(store_->ListNamespaces(ns_order, NamespaceFilter{})->total, 7);

  ListOptions by_role;
  by_role.sort_attr = "role";
  ASSERT_TRUE(store_->AddMember(devs.id, b.id, Role::kViewer).ok());
  Page<Member> members = store_->ListMembers(devs.id, by_role).value();
  ASSERT_EQ(members.items.size(), 2u);
  EXPECT_EQ(members.items[0].username, "bob");
  EXPECT_EQ(members.items[0].role, Role::kViewer);
  EXPECT_EQ(store_->MembershipsOf(b.id)->size(), 3u);  // personal, ops, devs
}

TEST_P(IdentityStoreContractTest, ApplicationTokensAreLimitedEvenUnderRaces) {
  User a = MakeUser("alice");
  std::atomic<int> ok{0}, full{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      absl::Status s =
          store_->CreateToken(NewToken{a.id, absl::StrCat("app", i), Sha256(absl::StrCat("s", i))}, 5).status();
      if (s.ok()) ++ok;
      if (s.code() == absl::StatusCode::kFailedPrecondition) ++full;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(full.load(), 3);
  std::vector<ApplicationToken> tokens = store_->ListTokens(a.id).value();
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(store_->CreateToken(NewToken{a.id, tokens[0].application, Sha256("other")}, 10).status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->DeleteToken(tokens[0].id).ok());
  EXPECT_EQ(store_->GetToken(tokens[0].id).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(IdentityStoreContractTest, LoginRecordsAndLockout) {
  User a = MakeUser("alice");
  ASSERT_TRUE(store_->CreateToken(NewToken{a.id, "laptop", Sha256("tok")}, 5).ok());
  std::optional<LoginRecord> owner = store_->FindTokenOwner(Sha256("tok")).value();
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->username, "alice");
  EXPECT_FALSE(store_->FindTokenOwner(Sha256("nope"))->has_value());
  EXPECT_FALSE(store_->FindLogin("nobody")->has_value());
  EXPECT_FALSE(store_->FindLogin("alice'--")->has_value());

  const absl::Time t0 = absl::FromUnixSeconds(1800000000);
  EXPECT_FALSE(store_->RecordLoginFailure(a.id, t0, 3, absl::Minutes(10)).value());
  EXPECT_FALSE(store_->RecordLoginFailure(a.id, t0, 3, absl::Minutes(10)).value());
  EXPECT_EQ(store_->FindLogin("alice")->value().failed_attempts, 2);
  EXPECT_TRUE(store_->RecordLoginFailure(a.id, t0, 3, absl::Minutes(10)).value());
  LoginRecord locked = store_->FindLogin("alice")->value();
  EXPECT_EQ(locked.locked_until, t0 + absl::Minutes(10));
  EXPECT_EQ(locked.failed_attempts, 0);
  EXPECT_FALSE(store_->RecordLoginFailure(a.id, t0 + absl::Minutes(1), 3, absl::Minutes(10)).value());
  EXPECT_EQ(store_->FindLogin("alice")->value().failed_attempts, 0);  // not counted while locked
  // After the lock expires, a failure starts a new count and clears the lock.
  EXPECT_FALSE(store_->RecordLoginFailure(a.id, t0 + absl::Minutes(11), 3, absl::Minutes(10)).value());
  LoginRecord after = store_->FindLogin("alice")->value();
  EXPECT_FALSE(after.locked_until.has_value());
  EXPECT_EQ(after.failed_attempts, 1);
  ASSERT_TRUE(store_->ResetLoginFailures(a.id).ok());
  EXPECT_EQ(store_->FindLogin("alice")->value().failed_attempts, 0);
  EXPECT_EQ(store_->RecordLoginFailure(999999, t0, 3, absl::Minutes(1)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(IdentityStoreContractTest, UserUpdates) {
  User a = MakeUser("alice");
  MakeUser("bob");
  UserPatch p;
  p.email = "bob@example.com";
  EXPECT_EQ(store_->UpdateUser(a.id, p).status().code(), absl::StatusCode::kAlreadyExists);
  p.email = "alice@new.example.com";
  p.display_name = "Alice A.";
  p.password_hash = "newhash";
  User u = store_->UpdateUser(a.id, p).value();
  EXPECT_EQ(u.email, "alice@new.example.com");
  EXPECT_EQ(u.display_name, "Alice A.");
  EXPECT_EQ(store_->FindLogin("alice")->value().password_hash, "newhash");
  p = UserPatch{};
  p.display_name = "";
  EXPECT_FALSE(store_->UpdateUser(a.id, p)->display_name.has_value());
  EXPECT_EQ(store_->UpdateUser(424242, p).status().code(), absl::StatusCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Stores, IdentityStoreContractTest,
                         ::testing::Values(Impl::kFake, Impl::kPostgres),
                         [](const ::testing::TestParamInfo<Impl>& info) {
                           return info.param == Impl::kFake ? "Fake" : "Postgres";
                         });

}  // namespace
}  // namespace portunus::auth
