#include "services/auth/authenticator.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/auth/bcrypt_password_hasher.h"
#include "services/auth/fake_identity_store.h"
#include "services/auth/secret_digest.h"
#include "services/common/testing/fake_clock.h"

namespace portunus::auth {
namespace {

using testing::FakeClock;

Credentials Basic(const std::string& user, const std::string& secret) {
  Credentials c;
  c.authorization = "Basic " + absl::Base64Escape(user + ":" + secret);
  return c;
}
Credentials Bearer(const std::string& token) {
  Credentials c;
  c.authorization = "Bearer " + token;
  return c;
}
Credentials PortusAuth(const std::string& user, const std::string& token) {
  Credentials c;
  c.portus_auth = user + ":" + token;
  return c;
}

// Counts hasher calls so tests can see whether bcrypt ran.
class CountingHasher final : public PasswordHasher {
 public:
  absl::StatusOr<std::string> Hash(absl::string_view p) override { return real_.Hash(p); }
  bool Verify(absl::string_view p, absl::string_view h) override {
    ++verifies;
    return real_.Verify(p, h);
  }
  void VerifyDummy(absl::string_view p) override {
    ++dummies;
    real_.VerifyDummy(p);
  }
  int verifies = 0;
  int dummies = 0;

 private:
  BcryptPasswordHasher real_{4};
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest()
      : store_(clock_),
        cache_(CredentialCache::Options{absl::Seconds(60), 1000}, clock_),
        auth_(Authenticator::Options{"internal-secret-xyz", 3, absl::Minutes(10)}, store_, hasher_,
              cache_, clock_) {
    NewUser bob;
    bob.username = "bob";
    bob.email = "bob@example.com";
    bob.password_hash = *hasher_.Hash("correct horse");
    bob_ = store_.CreateUser(bob)->id;
    NewUser bot;
    bot.username = "ci-bot";
    bot.bot = true;
    bot_ = store_.CreateUser(bot)->id;
    bob_token_ = AddToken(bob_, "laptop");
    bot_token_ = AddToken(bot_, "ci");
  }

  std::string AddToken(int64_t user, const std::string& app) {
    std::string secret = absl::StrCat(kApplicationTokenPrefix, Base64UrlEncode(RandomBytes(32)));
    EXPECT_TRUE(store_.CreateToken(NewToken{user, app, Sha256(secret)}, 5).ok());
    return secret;
  }

  FakeClock clock_;
  FakeIdentityStore store_;
  CountingHasher hasher_;
  CredentialCache cache_;
  Authenticator auth_;
  int64_t bob_ = 0, bot_ = 0;
  std::string bob_token_, bot_token_;
};

TEST_F(AuthenticatorTest, NoCredentialsIsAnonymous) {
  absl::StatusOr<Principal> p = auth_.Authenticate(Credentials{});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_anonymous());
  auto fast = auth_.TryAuthenticateCached(Credentials{});
  ASSERT_TRUE(fast.has_value());
  EXPECT_TRUE((*fast)->is_anonymous());
}

TEST_F(AuthenticatorTest, PasswordThenCachedWithoutStoreOrBcrypt) {
  EXPECT_FALSE(auth_.TryAuthenticateCached(Basic("bob", "correct horse")).has_value());
  absl::StatusOr<Principal> p = auth_.Authenticate(Basic("bob", "correct horse"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, Principal::User(bob_, "bob", false));
  EXPECT_EQ(hasher_.verifies, 1);
  const int calls = store_.calls();
  auto fast = auth_.TryAuthenticateCached(Basic("bob", "correct horse"));
  ASSERT_TRUE(fast.has_value());
  EXPECT_EQ(**fast, *p);
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
  EXPECT_EQ(store_.calls(), calls);  // no database access
  EXPECT_EQ(hasher_.verifies, 1);    // no bcrypt
  // The cache holds only successes, keyed by the secret: a wrong password is still checked.
  EXPECT_EQ(auth_.Authenticate(Basic("bob", "wrong horse")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(hasher_.verifies, 2);
}

TEST_F(AuthenticatorTest, CacheExpiresAndCanBeDropped) {
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
  clock_.Advance(absl::Seconds(61));
  EXPECT_FALSE(auth_.TryAuthenticateCached(Basic("bob", "correct horse")).has_value());
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
  EXPECT_TRUE(auth_.TryAuthenticateCached(Basic("bob", "correct horse")).has_value());
  auth_.ForgetUser(bob_);
  EXPECT_FALSE(auth_.TryAuthenticateCached(Basic("bob", "correct horse")).has_value());
  ASSERT_TRUE(auth_.Authenticate(Bearer(bob_token_)).ok());
  auth_.ForgetAll();
  EXPECT_FALSE(auth_.TryAuthenticateCached(Bearer(bob_token_)).has_value());
}

TEST_F(AuthenticatorTest, FailuresAllLookTheSame) {
  const absl::Status wrong = auth_.Authenticate(Basic("bob", "wrong horse")).status();
  const absl::Status unknown = auth_.Authenticate(Basic("nobody", "whatever1")).status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong, unknown);
  EXPECT_EQ(wrong.message(), "invalid credentials");
  EXPECT_EQ(hasher_.dummies, 1);  // an unknown user costs a bcrypt too
}

TEST_F(AuthenticatorTest, LockoutAfterFailedAttemptsThenUnlocks) {
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());  // cached now
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(auth_.Authenticate(Basic("bob", absl::StrCat("bad", i, "xxxxx"))).status().code(),
              absl::StatusCode::kUnauthenticated);
  }
  // The lock drops bob's cached credentials at once (other replicas: through the feed).
  absl::Status locked = auth_.Authenticate(Basic("bob", "correct horse")).status();
  EXPECT_EQ(locked.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(locked.message(), "invalid credentials");  // says nothing about the lock
  EXPECT_EQ(auth_.Authenticate(Bearer(bob_token_)).status().code(), absl::StatusCode::kUnauthenticated);
  clock_.Advance(absl::Minutes(10) + absl::Seconds(1));
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
}

TEST_F(AuthenticatorTest, SuccessResetsTheFailureCountWithoutOtherWrites) {
  EXPECT_FALSE(auth_.Authenticate(Basic("bob", "wrong horse")).ok());
  EXPECT_EQ(store_.FailedAttemptsForTest(bob_), 1);
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
  EXPECT_EQ(store_.FailedAttemptsForTest(bob_), 0);
}

TEST_F(AuthenticatorTest, ApplicationTokensWorkWherePasswordsDo) {
  EXPECT_EQ(auth_.Authenticate(Basic("bob", bob_token_))->user_id, bob_);
  EXPECT_EQ(auth_.Authenticate(Bearer(bob_token_))->user_id, bob_);
  EXPECT_EQ(auth_.Authenticate(PortusAuth("bob", bob_token_))->user_id, bob_);
  Credentials fields;
  fields.username = "bob";
  fields.secret = bob_token_;
  EXPECT_EQ(auth_.Authenticate(fields)->user_id, bob_);
  // Someone else's token under bob's name is a failure.
  EXPECT_EQ(auth_.Authenticate(Basic("bob", bot_token_)).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Portus-Auth takes tokens only.
  EXPECT_EQ(auth_.Authenticate(PortusAuth("bob", "correct horse")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_.Authenticate(Bearer("pnt_unknown")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, BotsLogInOnlyWithApplicationTokens) {
  absl::StatusOr<Principal> p = auth_.Authenticate(Basic("ci-bot", bot_token_));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Principal::Kind::kBot);
  EXPECT_EQ(auth_.Authenticate(Bearer(bot_token_))->kind, Principal::Kind::kBot);
  // Any password attempt fails and counts, like any failure.
  EXPECT_EQ(auth_.Authenticate(Basic("ci-bot", "some password")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_.FailedAttemptsForTest(bot_), 1);
}

TEST_F(AuthenticatorTest, DisabledAccountsAreRefused) {
  UserPatch off;
  off.enabled = false;
  ASSERT_TRUE(store_.UpdateUser(bob_, off).ok());
  EXPECT_EQ(auth_.Authenticate(Basic("bob", "correct horse")).status().message(), "invalid credentials");
  EXPECT_EQ(auth_.Authenticate(Bearer(bob_token_)).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, InternalPrincipalBySharedSecretOnly) {
  const int calls = store_.calls();
  absl::StatusOr<Principal> p = auth_.Authenticate(Basic("portunus", "internal-secret-xyz"));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->is_internal());
  auto fast = auth_.TryAuthenticateCached(Basic("portunus", "internal-secret-xyz"));
  ASSERT_TRUE(fast.has_value());
  EXPECT_TRUE((*fast)->is_internal());
  EXPECT_EQ(auth_.Authenticate(Basic("portunus", "internal-secret-xy")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_.Authenticate(PortusAuth("portunus", "internal-secret-xyz")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_.calls(), calls);  // never a database account

  FakeClock clock;
  Authenticator no_secret(Authenticator::Options{"", 3, absl::Minutes(1)}, store_, hasher_, cache_, clock);
  EXPECT_EQ(no_secret.Authenticate(Basic("portunus", "")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(no_secret.Authenticate(Basic("portunus", "x")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, MalformedHeaders) {
  for (const char* header : {"Basic", "Basic !!!not-base64!!!", "Basic Ym9i" /* "bob", no colon */,
                             "Bearer ", "Digest abc", "Negotiate", "Basic Og==" /* ":" */}) {
    Credentials c;
    c.authorization = header;
    absl::StatusOr<Principal> p = auth_.Authenticate(c);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << header;
    auto fast = auth_.TryAuthenticateCached(c);
    ASSERT_TRUE(fast.has_value()) << header;
    EXPECT_EQ(fast->status().code(), absl::StatusCode::kUnauthenticated) << header;
  }
  Credentials huge;
  huge.authorization = "Basic " + std::string(100000, 'A');
  EXPECT_EQ(auth_.Authenticate(huge).status().code(), absl::StatusCode::kUnauthenticated);
  // Passwords may contain ':'; the username may not.
  EXPECT_EQ(auth_.Authenticate(Basic("bob", "correct horse:")).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Scheme names are case-insensitive.
  Credentials lower;
  lower.authorization = "basic " + absl::Base64Escape("bob:correct horse");
  EXPECT_TRUE(auth_.Authenticate(lower).ok());
}

TEST_F(AuthenticatorTest, StoreOutageIsUnavailableNotUnauthenticated) {
  store_.FailNextCall(absl::UnavailableError("connection refused"));
  EXPECT_EQ(auth_.Authenticate(Basic("bob", "correct horse")).status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(auth_.Authenticate(Basic("bob", "correct horse")).ok());
}

TEST(CredentialCacheTest, InvalidationWinsOverAConcurrentVerification) {
  FakeClock clock;
  CredentialCache cache(CredentialCache::Options{absl::Seconds(60), 10}, clock);
  const std::string key = cache.KeyFor("basic", "bob", "pw");
  EXPECT_NE(key, cache.KeyFor("basic", "bo", "bpw"));
  const uint64_t epoch = cache.epoch();
  cache.ForgetUser(7);  // e.g. the password changed while bcrypt ran
  cache.Insert(key, Principal::User(7, "bob", false), epoch);
  EXPECT_FALSE(cache.Lookup(key).has_value());
  cache.Insert(key, Principal::User(7, "bob", false), cache.epoch());
  EXPECT_TRUE(cache.Lookup(key).has_value());
}

TEST(CredentialCacheTest, BoundedAndDisabledWithZeroTtl) {
  FakeClock clock;
  CredentialCache cache(CredentialCache::Options{absl::Seconds(60), 3}, clock);
  for (int i = 0; i < 10; ++i) {
    cache.Insert(cache.KeyFor("basic", absl::StrCat("u", i), "pw"), Principal::User(i + 1, "u", false),
                 cache.epoch());
    EXPECT_LE(cache.size(), 3u);
  }
  CredentialCache off(CredentialCache::Options{absl::ZeroDuration(), 3}, clock);
  const std::string key = off.KeyFor("basic", "bob", "pw");
  off.Insert(key, Principal::User(1, "bob", false), off.epoch());
  EXPECT_FALSE(off.Lookup(key).has_value());
}

TEST(BcryptPasswordHasherTest, HashesVerifyAndLongPasswordsDoNotCollide) {
  BcryptPasswordHasher hasher(4);
  absl::StatusOr<std::string> h = hasher.Hash("s3cret-password");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->substr(0, 7), "$2b$04$");
  EXPECT_TRUE(hasher.Verify("s3cret-password", *h));
  EXPECT_FALSE(hasher.Verify("s3cret-passwore", *h));
  EXPECT_FALSE(hasher.Verify("s3cret-password", "not a hash"));
  EXPECT_FALSE(hasher.Verify("s3cret-password", ""));
  // bcrypt alone ignores bytes after 72; the pre-hash keeps them significant.
  const std::string a = std::string(72, 'a') + "first";
  const std::string b = std::string(72, 'a') + "second";
  absl::StatusOr<std::string> ha = hasher.Hash(a);
  ASSERT_TRUE(ha.ok());
  EXPECT_TRUE(hasher.Verify(a, *ha));
  EXPECT_FALSE(hasher.Verify(b, *ha));
  // $2y$ (PHP, htpasswd) and $2a$ (Portus/devise) hashes of "password".
  EXPECT_TRUE(hasher.Verify("password", "$2y$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"));
  EXPECT_TRUE(hasher.Verify("password", "$2a$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"));
  EXPECT_FALSE(hasher.Verify("Password", "$2a$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu"));
}

}  // namespace
}  // namespace portunus::auth
