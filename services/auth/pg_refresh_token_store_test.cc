#include "services/auth/pg_refresh_token_store.h"

#include "gtest/gtest.h"
#include "services/auth/migrations.h"
#include "services/auth/token_crypto.h"
#include "services/common/migrator.h"
#include "services/common/pg_pool.h"
#include "services/common/testing/test_database.h"

namespace portunus::auth {
namespace {

RefreshTokenRecord Record(int64_t user_id, const std::string& name, absl::Time expires) {
  RefreshTokenRecord r;
  r.user_id = user_id;
  r.username = name;
  r.service = "registry.test";
  r.client_id = "docker";
  r.created_at = absl::FromUnixMicros(1700000000123456);
  r.expires_at = expires;
  return r;
}

TEST(PgRefreshTokenStoreTest, StoresDigestsAndRevokes) {
  PORTUNUS_TEST_DATABASE(db);
  PgPool pool({db->dsn(), 2});
  ASSERT_TRUE(Migrator(pool, "auth", Migrations()).Apply().ok());
  PgRefreshTokenStore store(pool);

  const std::string d1 = Sha256("prt_one"), d2 = Sha256("prt_two"), d3 = Sha256("prt_three");
  const absl::Time later = absl::FromUnixSeconds(1800000000);
  absl::StatusOr<RefreshTokenRecord> a = store.Create(d1, Record(7, "alice", later));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GT(a->id, 0);
  EXPECT_EQ(a->created_at, absl::FromUnixMicros(1700000000123456));
  EXPECT_EQ(a->expires_at, later);
  ASSERT_TRUE(store.Create(d2, Record(7, "alice", absl::InfiniteFuture())).ok());
  ASSERT_TRUE(store.Create(d3, Record(8, "bob", absl::FromUnixSeconds(1600000000))).ok());
  EXPECT_EQ(store.Create(d1, Record(9, "eve", later)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store.Create("short", Record(9, "eve", later)).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<RefreshTokenRecord> found = store.Find(d2);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->username, "alice");
  EXPECT_EQ(found->service, "registry.test");
  EXPECT_EQ(found->client_id, "docker");
  EXPECT_EQ(found->expires_at, absl::InfiniteFuture());
  EXPECT_EQ(store.Find(Sha256("prt_other")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Find(std::string("\0'; DROP TABLE x; --", 21)).status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<std::vector<RefreshTokenRecord>> alice = store.ListForUser(7);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_GT((*alice)[0].id, (*alice)[1].id);

  EXPECT_EQ(store.Revoke(a->id, 8).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store.Revoke(a->id, 7).ok());
  EXPECT_EQ(store.Find(d1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Revoke(a->id, 0).code(), absl::StatusCode::kNotFound);

  absl::StatusOr<int> expired = store.DeleteExpired(absl::FromUnixSeconds(1700000000));
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(*expired, 1);  // bob's
  EXPECT_EQ(*store.RevokeAllForUser(7), 1);
  EXPECT_TRUE(store.ListForUser(7)->empty());
}

}  // namespace
}  // namespace portunus::auth
