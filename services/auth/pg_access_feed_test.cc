// The LISTEN/NOTIFY change feed and the per-request source, on a real PostgreSQL.
#include "services/auth/pg_access_feed.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/migrations.h"
#include "services/auth/pg_access_source.h"
#include "services/auth/pg_identity_store.h"
#include "services/auth/secret_digest.h"
#include "services/common/migrator.h"
#include "services/common/testing/test_database.h"

namespace portunus::auth {
namespace {

class RecordingListener final : public AccessChangeListener {
 public:
  void OnReload(std::shared_ptr<const AccessSnapshot> snapshot) override {
    if (snapshot != nullptr) cache.Replace(std::move(snapshot));
    absl::MutexLock lock(&mu_);
    ++reloads_;
  }
  void OnChanges(const AccessChanges& changes, const std::vector<int64_t>& accounts) override {
    cache.Apply(changes);
    absl::MutexLock lock(&mu_);
    ++batches_;
    accounts_.insert(accounts.begin(), accounts.end());
  }
  bool SawAccount(int64_t id) {
    absl::MutexLock lock(&mu_);
    return accounts_.count(id) != 0;
  }
  int batches() {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    accounts_.clear();
  }

  AccessCache cache;

 private:
  absl::Mutex mu_;
  int reloads_ ABSL_GUARDED_BY(mu_) = 0;
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<int64_t> accounts_ ABSL_GUARDED_BY(mu_);
};

// Polls `done` up to 10 s (no fixed sleeps: returns as soon as it holds).
template <typename F>
bool Eventually(F done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

class PgAccessFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    pool_ = std::make_unique<PgPool>(PgPool::Options{db_->dsn(), 4});
    absl::StatusOr<int> applied = Migrator(*pool_, "auth", Migrations()).Apply();
    ASSERT_TRUE(applied.ok()) << applied.status();
    store_ = std::make_unique<PgIdentityStore>(*pool_);
  }

  std::unique_ptr<PgAccessFeed> StartFeed(bool load_facts) {
    PgAccessFeed::Options o;
    o.dsn = db_->dsn();
    o.load_facts = load_facts;
    o.poll = absl::Milliseconds(20);
    o.reconnect_backoff = absl::Milliseconds(50);
    auto feed = std::make_unique<PgAccessFeed>(o, *pool_, listener_);
    feed->Start();
    EXPECT_TRUE(feed->WaitUntilConnected(absl::Seconds(10)));
    return feed;
  }

  int64_t MakeUser(const std::string& name, bool admin = false) {
    NewUser u;
    u.username = name;
    u.email = name + "@example.com";
    u.password_hash = "x";
    u.admin = admin;
    return store_->CreateUser(u).value().id;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgIdentityStore> store_;
  RecordingListener listener_;
};

TEST_F(PgAccessFeedTest, LoadsEverythingThenAppliesEachCommittedChange) {
  const int64_t alice = MakeUser("alice", /*admin=*/true);
  auto feed = StartFeed(true);
  std::shared_ptr<const AccessSnapshot> s = listener_.cache.snapshot();
  ASSERT_NE(s, nullptr);
  ASSERT_NE(s->FindUserByName("alice"), nullptr);
  ASSERT_NE(s->FindNamespace(kGlobalNamespaceName), nullptr);
  const NamespaceFacts* personal = s->FindNamespace("alice");
  ASSERT_NE(personal, nullptr);
  EXPECT_EQ(personal->personal_owner_id, alice);
  EXPECT_EQ(s->RoleOf(personal->team_id, alice), Role::kOwner);

  // A new account: after AwaitCatchUp this replica has it, with no polling.
  const int64_t bob = MakeUser("bob");
  feed->AwaitCatchUp();
  s = listener_.cache.snapshot();
  ASSERT_NE(s->FindUser(bob), nullptr);
  ASSERT_NE(s->FindNamespace("bob"), nullptr);
  EXPECT_TRUE(listener_.SawAccount(bob));

  // Teams, memberships, namespaces.
  Team devs = store_->CreateTeam("devs", "", alice).value();
  ASSERT_TRUE(store_->AddMember(devs.id, bob, Role::kViewer).ok());
  Namespace acme = store_->CreateNamespace("acme", "", devs.id, Visibility::kPrivate).value();
  feed->AwaitCatchUp();
  s = listener_.cache.snapshot();
  EXPECT_EQ(s->RoleOf(devs.id, bob), Role::kViewer);
  ASSERT_NE(s->FindNamespace("acme"), nullptr);
  EXPECT_EQ(s->FindTeam(devs.id)->name, "devs");
  Member m = store_->FindMember(devs.id, bob).value();
  ASSERT_TRUE(store_->UpdateMemberRole(m.id, Role::kContributor).ok());
  NamespacePatch pub;
  pub.visibility = Visibility::kPublic;
  ASSERT_TRUE(store_->UpdateNamespace(acme.id, pub).ok());
  feed->AwaitCatchUp();
  s = listener_.cache.snapshot();
  EXPECT_EQ(s->RoleOf(devs.id, bob), Role::kContributor);
  EXPECT_EQ(s->FindNamespace("acme")->visibility, Visibility::kPublic);

  // Access flags of an account.
  UserPatch admin;
  admin.admin = true;
  ASSERT_TRUE(store_->UpdateUser(bob, admin).ok());
  feed->AwaitCatchUp();
  EXPECT_TRUE(listener_.cache.snapshot()->FindUser(bob)->admin);

  // Removals.
  ASSERT_TRUE(store_->RemoveMember(m.id).ok());
  ASSERT_TRUE(store_->DeleteNamespace(acme.id).ok());
  feed->AwaitCatchUp();
  s = listener_.cache.snapshot();
  EXPECT_FALSE(s->RoleOf(devs.id, bob).has_value());
  EXPECT_EQ(s->FindNamespace("acme"), nullptr);
  ASSERT_TRUE(store_->DeleteUser(bob).ok());
  feed->AwaitCatchUp();
  s = listener_.cache.snapshot();
  EXPECT_EQ(s->FindUser(bob), nullptr);
  EXPECT_EQ(s->FindNamespace("bob"), nullptr);
}

TEST_F(PgAccessFeedTest, CredentialRelevantChangesNameTheAccount) {
  const int64_t alice = MakeUser("alice");
  auto feed = StartFeed(true);
  ApplicationToken t = store_->CreateToken(NewToken{alice, "laptop", Sha256("tok")}, 5).value();
  feed->AwaitCatchUp();
  listener_.Clear();
  ASSERT_TRUE(store_->DeleteToken(t.id).ok());  // revoke
  feed->AwaitCatchUp();
  EXPECT_TRUE(listener_.SawAccount(alice));

  listener_.Clear();
  UserPatch pw;
  pw.password_hash = "other";
  ASSERT_TRUE(store_->UpdateUser(alice, pw).ok());
  feed->AwaitCatchUp();
  EXPECT_TRUE(listener_.SawAccount(alice));

  // Counting failures announces nothing; the lock does.
  listener_.Clear();
  const absl::Time now = absl::Now();
  ASSERT_FALSE(store_->RecordLoginFailure(alice, now, 2, absl::Minutes(10)).value());
  feed->AwaitCatchUp();
  EXPECT_FALSE(listener_.SawAccount(alice));
  ASSERT_TRUE(store_->RecordLoginFailure(alice, now, 2, absl::Minutes(10)).value());
  feed->AwaitCatchUp();
  EXPECT_TRUE(listener_.SawAccount(alice));
}

TEST_F(PgAccessFeedTest, ReloadsAfterLosingItsConnection) {
  MakeUser("alice");
  auto feed = StartFeed(true);
  ASSERT_EQ(feed->reloads(), 1);
  // Kill every other session of this database (the feed's included).
  {
    pqxx::connection killer(db_->dsn());
    pqxx::nontransaction n(killer);
    n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  // A change made while the feed may be away is not lost: the reconnect reloads everything.
  MakeUser("carol");
  ASSERT_TRUE(Eventually([&] { return feed->reloads() >= 2 && feed->connected(); }));
  feed->AwaitCatchUp();
  EXPECT_NE(listener_.cache.snapshot()->FindUserByName("carol"), nullptr);
}

TEST_F(PgAccessFeedTest, WithoutFactsItStillReportsAccounts) {
  const int64_t alice = MakeUser("alice");
  auto feed = StartFeed(false);
  EXPECT_EQ(listener_.cache.snapshot(), nullptr);
  UserPatch off;
  off.enabled = false;
  ASSERT_TRUE(store_->UpdateUser(alice, off).ok());
  feed->AwaitCatchUp();
  EXPECT_TRUE(listener_.SawAccount(alice));
}

TEST_F(PgAccessFeedTest, StopsPromptly) {
  auto feed = StartFeed(true);
  const absl::Time start = absl::Now();
  feed->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(feed->connected());
  feed->AwaitCatchUp();  // returns at once when disconnected
}

TEST_F(PgAccessFeedTest, SourceReadsJustWhatADecisionNeeds) {
  const int64_t alice = MakeUser("alice");
  const int64_t bob = MakeUser("bob");
  Team devs = store_->CreateTeam("devs", "", alice).value();
  ASSERT_TRUE(store_->AddMember(devs.id, bob, Role::kContributor).ok());
  ASSERT_TRUE(store_->CreateNamespace("acme", "", devs.id, Visibility::kPrivate).ok());
  PgAccessSource source(*pool_);
  EXPECT_TRUE(source.blocking());
  FactsQuery q;
  q.user_id = bob;
  q.namespaces = {"acme", "missing", "Not Valid \xff", "alice"};
  absl::StatusOr<std::shared_ptr<const AccessSnapshot>> facts = source.Facts(q);
  ASSERT_TRUE(facts.ok()) << facts.status();
  const AccessSnapshot& s = **facts;
  ASSERT_NE(s.FindUser(bob), nullptr);
  EXPECT_EQ(s.FindUser(alice), nullptr);
  ASSERT_NE(s.FindNamespace("acme"), nullptr);
  EXPECT_EQ(s.FindTeam(devs.id)->name, "devs");
  EXPECT_EQ(s.RoleOf(devs.id, bob), Role::kContributor);
  EXPECT_NE(s.FindNamespace("alice"), nullptr);
  EXPECT_EQ(s.FindNamespace("missing"), nullptr);
  q = FactsQuery{};
  q.username = "alice";
  q.all_namespaces = true;
  facts = source.Facts(q);
  ASSERT_TRUE(facts.ok());
  EXPECT_NE((*facts)->FindUserByName("alice"), nullptr);
  EXPECT_EQ((*facts)->namespaces().size(), 4u);  // global, alice, bob, acme
}

}  // namespace
}  // namespace portunus::auth
