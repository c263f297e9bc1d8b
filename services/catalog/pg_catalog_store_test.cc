// The PostgreSQL adapters against a real PostgreSQL (a fresh database per test).
#include "services/catalog/pg_catalog_store.h"

#include <algorithm>
#include <functional>
#include <thread>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/catalog/migrations.h"
#include "services/common/migrator.h"
#include "services/common/registry_client.h"
#include "services/common/testing/test_database.h"

namespace portunus::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(1800000000);

ManifestInfo Manifest(const std::string& seed) {
  ManifestInfo m;
  m.digest = Sha256Digest(seed);
  m.media_type = kMediaTypeOciManifest;
  m.size = 1234;
  m.config_digest = Sha256Digest(seed + "-config");
  m.image_created = absl::FromUnixSeconds(1790000000);
  m.platforms = {Platform{"linux", "arm64", "v8", ""}};
  m.layers = {Layer{Sha256Digest(seed + "-layer"), 1000, "application/vnd.oci.image.layer.v1.tar+gzip"}};
  return m;
}

PutTagRequest Put(const std::string& repo, const std::string& tag, const ManifestInfo& m,
                  std::optional<int64_t> expected = std::nullopt) {
  PutTagRequest p;
  p.repository = repo;
  p.namespace_name = NamespaceOf(repo);
  p.namespace_id = 7;
  p.tag = tag;
  p.manifest = m;
  p.author = "alice";
  p.at = kT0;
  p.expected_version = expected;
  return p;
}

NewEvent Event(const std::string& id, const std::string& repo, const std::string& action = "push") {
  NewEvent e;
  e.event_id = id;
  e.action = action;
  e.repository = repo;
  e.tag = "v1";
  e.digest = Sha256Digest(id);
  e.media_type = kMediaTypeOciManifest;
  e.actor = "alice";
  e.event_time = kT0;
  e.payload = "{}";
  return e;
}

class PgCatalogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PORTUNUS_TEST_DATABASE(db);
    db_ = std::move(db);
    pool_ = std::make_unique<PgPool>(PgPool::Options{db_->dsn(), 6});
    absl::StatusOr<int> applied = Migrator(*pool_, "catalog", Migrations()).Apply();
    ASSERT_TRUE(applied.ok()) << applied.status();
    store_ = std::make_unique<PgCatalogStore>(*pool_);
    events_ = std::make_unique<PgEventStore>(*pool_);
  }

  TagWrite PutTag(const PutTagRequest& p) {
    TagWrite result = TagWrite::kUnchanged;
    absl::Status s = store_->Write([&](CatalogWriter& w) -> absl::Status {
      absl::StatusOr<TagWrite> r = w.PutTag(p);
      if (r.ok()) result = *r;
      return r.status();
    });
    EXPECT_TRUE(s.ok()) << s;
    return result;
  }

  std::unique_ptr<testing::TestDatabase> db_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgCatalogStore> store_;
  std::unique_ptr<PgEventStore> events_;
};

TEST_F(PgCatalogStoreTest, StoresTagsWithTheirManifestAndReadsThemBack) {
  const ManifestInfo m = Manifest("a");
  EXPECT_EQ(PutTag(Put("team/app", "v1", m)), TagWrite::kAdded);
  EXPECT_EQ(PutTag(Put("team/app", "v2", m)), TagWrite::kAdded);
  EXPECT_EQ(PutTag(Put("team/app", "v1", m)), TagWrite::kUnchanged);
  ManifestInfo index;
  index.digest = Sha256Digest("index");
  index.media_type = kMediaTypeOciIndex;
  index.size = 99;
  index.platforms = {Platform{"linux", "amd64", "", Sha256Digest("c1")},
                     Platform{"linux", "arm", "v7", Sha256Digest("c2")}};
  index.children = {Sha256Digest("c1"), Sha256Digest("c2")};
  EXPECT_EQ(PutTag(Put("app", "multi", index)), TagWrite::kAdded);

  absl::StatusOr<RepositoryRecord> repo = store_->GetRepositoryByName("team/app");
  ASSERT_TRUE(repo.ok()) << repo.status();
  EXPECT_EQ(repo->namespace_name, "team");
  EXPECT_EQ(repo->namespace_id, 7);
  EXPECT_EQ(repo->tags_count, 2);
  EXPECT_EQ(repo->created_at, kT0);

  PageRequest all;
  all.all = true;
  auto tags = store_->ListTags(repo->id, NamespaceFilter{true, {}}, all);
  ASSERT_TRUE(tags.ok()) << tags.status();
  ASSERT_EQ(tags->second, 2);
  const TagRecord& v1 = tags->first[0];
  EXPECT_EQ(v1.name, "v1");
  EXPECT_EQ(v1.repository, "team/app");
  EXPECT_EQ(v1.author, "alice");
  EXPECT_EQ(v1.created_at, kT0);
  EXPECT_EQ(v1.pulled_at, absl::InfinitePast());
  EXPECT_EQ(v1.manifest.size, 1234);
  EXPECT_EQ(v1.manifest.config_digest, m.config_digest);
  EXPECT_EQ(v1.manifest.image_created, m.image_created);
  EXPECT_THAT(v1.manifest.platforms, ElementsAre(Platform{"linux", "arm64", "v8", ""}));
  EXPECT_THAT(v1.manifest.layers, ElementsAre(m.layers[0]));

  absl::StatusOr<TagRecord> multi = store_->GetTag(store_->ListTags(0, {true, {}}, all)->first[2].id);
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->manifest.platforms.size(), 2u);
  EXPECT_EQ(multi->manifest.children, index.children);
  EXPECT_EQ(multi->manifest.image_created, absl::InfinitePast());
  EXPECT_EQ(store_->GetTag(999999).status().code(), absl::StatusCode::kNotFound);

  // One feed entry per new (repository, digest).
  absl::StatusOr<CatalogStore::FeedPage> feed = store_->ListFeed(0, 10);
  ASSERT_TRUE(feed.ok()) << feed.status();
  ASSERT_EQ(feed->entries.size(), 2u);
  EXPECT_EQ(feed->entries[0].repository, "team/app");
  EXPECT_EQ(feed->entries[0].tag, "v1");
  EXPECT_EQ(feed->entries[1].digest, index.digest);
  EXPECT_EQ(feed->oldest_seq, feed->entries[0].seq);
  EXPECT_EQ(feed->latest_seq, feed->entries[1].seq);
  EXPECT_EQ(store_->ListFeed(feed->latest_seq, 10)->entries.size(), 0u);
  EXPECT_EQ(*store_->CountTags(), 3);
  EXPECT_THAT(*store_->RepositoryNames(), ElementsAre("app", "team/app"));
}

TEST_F(PgCatalogStoreTest, ListsRepositoriesFilteredSearchedSortedAndPaged) {
  for (const char* r : {"team/app", "team/web", "public/tool", "secret/db", "busybox"}) {
    PutTag(Put(r, "latest", Manifest(r)));
  }
  PutTag(Put("team/app", "v2", Manifest("x")));
  RepositoryQuery q;
  q.filter.names = {"", "team", "public"};
  q.page.per_page = 2;
  auto page1 = store_->ListRepositories(q);
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_EQ(page1->second, 4);  // busybox (global) + public + team x2
  ASSERT_EQ(page1->first.size(), 2u);
  EXPECT_EQ(page1->first[0].full_name, "busybox");
  q.page.page = 2;
  EXPECT_EQ(store_->ListRepositories(q)->first[0].full_name, "team/app");
  q.page.page = 1;
  q.page.all = true;
  q.page.sort_attr = "tags_count";
  q.page.descending = true;
  EXPECT_EQ(store_->ListRepositories(q)->first[0].full_name, "team/app");
  q.page.sort_attr = "bogus";
  EXPECT_EQ(store_->ListRepositories(q).status().code(), absl::StatusCode::kInvalidArgument);
  q.page.sort_attr.clear();
  q.name_contains = "WE";
  EXPECT_EQ(store_->ListRepositories(q)->first.size(), 1u);
  q.name_contains = "%";  // LIKE metacharacters are literal
  EXPECT_EQ(store_->ListRepositories(q)->second, 0);
  q.name_contains = "'; DROP TABLE catalog.tags; --";
  EXPECT_EQ(store_->ListRepositories(q)->second, 0);
  RepositoryQuery by_ns;
  by_ns.filter.all = true;
  by_ns.namespace_id = 7;
  EXPECT_EQ(store_->ListRepositories(by_ns)->second, 5);
}

TEST_F(PgCatalogStoreTest, VersionsGuardSyncWritesAgainstNewerChanges) {
  PutTag(Put("team/app", "v1", Manifest("a")));
  std::map<std::string, KnownTag> known = *store_->TagsOf("team/app");
  const int64_t version = known["v1"].version;
  // An event moves the tag: its version changes.
  EXPECT_EQ(PutTag(Put("team/app", "v1", Manifest("b"))), TagWrite::kUpdated);
  EXPECT_EQ(PutTag(Put("team/app", "v1", Manifest("c"), version)), TagWrite::kSkippedNewer);
  EXPECT_EQ(PutTag(Put("team/app", "v9", Manifest("c"), 0)), TagWrite::kAdded);
  EXPECT_EQ(PutTag(Put("team/app", "v9", Manifest("d"), 0)), TagWrite::kSkippedNewer);
  EXPECT_EQ(PutTag(Put("new/repo", "v1", Manifest("d"), 5)), TagWrite::kSkippedNewer);
  EXPECT_EQ(store_->GetRepositoryByName("new/repo").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Write([&](CatalogWriter& w) -> absl::Status {
    EXPECT_FALSE(*w.DeleteTag("team/app", "v1", version));  // stale version: kept
    EXPECT_TRUE(*w.DeleteTag("team/app", "v1", std::nullopt));
    EXPECT_FALSE(*w.RemoveRepositoryIfEmpty("team/app"));  // v9 left
    EXPECT_TRUE(*w.DeleteTag("team/app", "v9", std::nullopt));
    EXPECT_TRUE(*w.RemoveRepositoryIfEmpty("team/app"));
    return absl::OkStatus();
  }).ok());
  EXPECT_EQ(*store_->CountTags(), 0);
}

TEST_F(PgCatalogStoreTest, RecordsPullsAtMostOncePerInterval) {
  const ManifestInfo m = Manifest("a");
  PutTag(Put("team/app", "v1", m));
  PutTag(Put("team/app", "v2", m));
  auto pull = [&](const std::string& tag, absl::Time at) {
    int n = -1;
    EXPECT_TRUE(store_->Write([&](CatalogWriter& w) -> absl::Status {
      absl::StatusOr<int> r = w.RecordPull("team/app", tag, m.digest, at, absl::Minutes(1));
      if (r.ok()) n = *r;
      return r.status();
    }).ok());
    return n;
  };
  EXPECT_EQ(pull("v1", kT0), 1);
  EXPECT_EQ(pull("v1", kT0 + absl::Seconds(30)), 0);
  EXPECT_EQ(pull("v1", kT0 + absl::Seconds(60)), 1);
  EXPECT_EQ(pull("", kT0 + absl::Seconds(90)), 1);  // by digest: v2 only (v1 pulled 30 s ago)
  PageRequest all;
  all.all = true;
  auto tags = store_->ListTags(0, {true, {}}, all);
  EXPECT_EQ(tags->first[0].pulled_at, kT0 + absl::Seconds(60));
  EXPECT_EQ(tags->first[1].pulled_at, kT0 + absl::Seconds(90));
}

TEST_F(PgCatalogStoreTest, PutBacksProtectTheirTagsUntilClearedOrExpired) {
  const ManifestInfo m = Manifest("a");
  auto pending = [&](const std::string& tag, const std::string& digest, absl::Time now) {
    bool result = false;
    EXPECT_TRUE(store_->Write([&](CatalogWriter& w) -> absl::Status {
      absl::StatusOr<bool> r = w.PutBackPending("team/app", tag, digest, now);
      if (r.ok()) result = *r;
      return r.status();
    }).ok());
    return result;
  };
  ASSERT_TRUE(store_->Write([&](CatalogWriter& w) {
    return w.RecordPutBacks("team/app", m.digest, {"v2", "v3"}, kT0 + absl::Minutes(10));
  }).ok());
  EXPECT_TRUE(pending("v2", m.digest, kT0));
  EXPECT_TRUE(pending("v3", "", kT0));
  EXPECT_FALSE(pending("v2", Manifest("b").digest, kT0));  // another digest
  EXPECT_FALSE(pending("v1", "", kT0));
  EXPECT_FALSE(pending("v2", "", kT0 + absl::Minutes(10)));  // expired
  // Recording again replaces (a later delete of the same tags).
  ASSERT_TRUE(store_->Write([&](CatalogWriter& w) {
    return w.RecordPutBacks("team/app", m.digest, {"v3"}, kT0 + absl::Minutes(20));
  }).ok());
  EXPECT_TRUE(pending("v3", "", kT0 + absl::Minutes(15)));
  ASSERT_TRUE(store_->Write([&](CatalogWriter& w) {
    return w.ClearPutBacks("team/app", {"v2"}, kT0);
  }).ok());
  EXPECT_FALSE(pending("v2", "", kT0));
  EXPECT_TRUE(pending("v3", "", kT0));
  // A clear also drops every expired record.
  ASSERT_TRUE(store_->Write([&](CatalogWriter& w) {
    return w.ClearPutBacks("other/repo", {}, kT0 + absl::Minutes(30));
  }).ok());
  EXPECT_FALSE(pending("v3", "", kT0));
}

TEST_F(PgCatalogStoreTest, InsertsEventsOncePerIdWhateverTheirBytes) {
  NewEvent garbage;
  garbage.event_id = "rejected:x";
  garbage.status = EventStatus::kRejected;
  garbage.reject_reason = "body is not valid JSON";
  garbage.payload = "valid text only";
  absl::StatusOr<std::vector<bool>> r =
      events_->Insert({Event("a", "team/app"), Event("b", "team/app"), Event("a", "team/app"), garbage});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, ElementsAre(true, true, false, true));
  r = events_->Insert({Event("b", "team/app"), Event("c", "other/app")});
  EXPECT_THAT(*r, ElementsAre(false, true));
  PageRequest all;
  all.all = true;
  auto listed = events_->List(EventFilter{}, all);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->second, 4);  // pending + rejected
  EXPECT_EQ(listed->first[0].event.event_id, "c");  // newest first
  auto rejected = events_->List(EventFilter{{EventStatus::kRejected}, ""}, all);
  ASSERT_EQ(rejected->first.size(), 1u);
  EXPECT_EQ(rejected->first[0].last_error, "body is not valid JSON");
  EXPECT_EQ(rejected->first[0].event.reject_reason, "body is not valid JSON");
  EXPECT_EQ(rejected->first[0].next_attempt_at, rejected->first[0].received_at);
  auto by_repo = events_->List(EventFilter{{}, "other/app"}, all);
  EXPECT_EQ(by_repo->second, 1);
  absl::StatusOr<EventQueueStats> st = events_->Stats(absl::Now());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->pending, 3);
  EXPECT_EQ(st->ready, 3);
  EXPECT_EQ(st->rejected, 1);
  EXPECT_NE(st->oldest_pending_received, absl::InfinitePast());
}

TEST_F(PgCatalogStoreTest, InsertedValuesComeBackByteForByteInTheirOrder) {
  // The columns travel as array literals: quoting, separators, NULL and empty must not leak.
  const std::vector<std::string> values = {
      "", "NULL", "\"quoted\"", "back\\slash\\", "{brace,comma}", "line\nbreak\ttab",
      "caf\u00e9 \u2603", " spaces ", "{\"json\": [1, \"a\\\"b\"]}", "'single'"};
  std::vector<NewEvent> in;
  for (size_t i = 0; i < values.size(); ++i) {
    NewEvent e = Event(absl::StrCat("v", i, values[i]), absl::StrCat("team/app", i));
    e.tag = values[i];
    e.actor = values[i];
    e.payload = values[i];
    e.media_type = values[i];
    if (i == 0) e.event_time = absl::InfinitePast();  // NULL
    in.push_back(e);
  }
  ASSERT_TRUE(events_->Insert(in).ok());
  PageRequest all;
  all.all = true;
  auto listed = events_->List(EventFilter{}, all);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->first.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const NewEvent& got = listed->first[values.size() - 1 - i].event;  // newest first
    EXPECT_EQ(got.event_id, in[i].event_id);
    EXPECT_EQ(got.tag, values[i]);
    EXPECT_EQ(got.actor, values[i]);
    EXPECT_EQ(got.payload, values[i]);
    EXPECT_EQ(got.media_type, values[i]);
    EXPECT_EQ(got.event_time, i == 0 ? absl::InfinitePast() : kT0);
  }
}

TEST_F(PgCatalogStoreTest, InsertsThousandsOfEventsInOneCall) {
  // More rows than one parameter per value would allow (PostgreSQL takes 65,535 a statement).
  std::vector<NewEvent> many;
  for (int i = 0; i < 6000; ++i) many.push_back(Event(absl::StrCat("e-", i), "team/app"));
  many[5500] = Event("e-10", "team/app");  // an id given twice: new once
  absl::StatusOr<std::vector<bool>> r = events_->Insert(many);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 6000u);
  EXPECT_TRUE((*r)[10]);
  EXPECT_FALSE((*r)[5500]);
  EXPECT_EQ(std::count(r->begin(), r->end(), true), 5999);
  absl::StatusOr<EventQueueStats> st = events_->Stats(absl::Now());
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pending, 5999);
}

TEST_F(PgCatalogStoreTest, ProcessesEventsExactlyOnceInRepositoryOrder) {
  ASSERT_TRUE(events_->Insert({Event("a1", "team/app"), Event("b1", "other/app"),
                               Event("a2", "team/app")}).ok());
  RetryPolicy policy;
  policy.max_attempts = 2;
  const absl::Time now = absl::Now();
  std::vector<std::string> applied;
  auto apply_ok = [&](const StoredEvent& e, CatalogWriter& w) -> absl::Status {
    applied.push_back(e.event.event_id);
    return w.PutTag(Put(e.event.repository, e.event.event_id, Manifest(e.event.event_id))).status();
  };
  // a1 fails (registry outage): its catalog write is rolled back, the attempt recorded.
  absl::StatusOr<ProcessOutcome> o = events_->ProcessNext(
      now, policy,
      [&](const StoredEvent& e, CatalogWriter& w) -> absl::Status {
        EXPECT_EQ(e.event.event_id, "a1");
        EXPECT_TRUE(w.PutTag(Put("team/app", "partial", Manifest("p"))).ok());
        return absl::UnavailableError("registry down");
      },
      nullptr);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->processed);
  EXPECT_EQ(o->new_status, EventStatus::kPending);
  EXPECT_EQ(store_->GetRepositoryByName("team/app").status().code(), absl::StatusCode::kNotFound);
  // a2 waits behind a1; b1 goes ahead.
  o = events_->ProcessNext(now, policy, apply_ok, nullptr);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_THAT(applied, ElementsAre("b1"));
  o = events_->ProcessNext(now, policy, apply_ok, nullptr);
  EXPECT_FALSE(o->processed);
  absl::StatusOr<std::optional<absl::Time>> due = events_->NextDue(now);
  ASSERT_TRUE(due.ok() && due->has_value());
  EXPECT_EQ(**due, absl::FromUnixMicros(absl::ToUnixMicros(now + absl::Seconds(1))));
  // After the backoff: a1 then a2.
  o = events_->ProcessNext(now + absl::Seconds(1), policy, apply_ok, nullptr);
  o = events_->ProcessNext(now + absl::Seconds(1), policy, apply_ok, nullptr);
  EXPECT_THAT(applied, ElementsAre("b1", "a1", "a2"));
  EXPECT_FALSE(events_->ProcessNext(now + absl::Seconds(1), policy, apply_ok, nullptr)->processed);
  PageRequest all;
  all.all = true;
  auto done = events_->List(EventFilter{{EventStatus::kDone}, ""}, all);
  ASSERT_EQ(done->second, 3);
  EXPECT_EQ(done->first[2].attempts, 2);  // a1
  EXPECT_EQ(done->first[2].last_error, "");
  EXPECT_FALSE(store_->TagsOf("team/app")->count("partial"));
  // Prune: done events older than the retention go.
  EXPECT_EQ(*events_->Prune(now, now), 0);
  EXPECT_EQ(*events_->Prune(now + absl::Seconds(2), now), 3);
}

// A claim reads about one row per repository with pending events, never the backlog, even
// when the table's statistics date from before the burst (the planner then once chose a hash
// join over every pending event: 38 ms a claim with 14,000 queued).
TEST_F(PgCatalogStoreTest, AClaimReadsTheRepositoryHeadsNotTheBacklog) {
  pqxx::connection c(db_->dsn());
  {
    pqxx::work w(c);
    // Statistics taken while the workers kept up (nearly every event done), then a burst.
    w.exec("INSERT INTO catalog.events (event_id, status, action, repository, payload,"
           " next_attempt_at, processed_at) SELECT 'd' || g, CASE WHEN g <= 5 THEN 'pending'"
           " ELSE 'done' END, 'push', 'team/app' || (g % 3), '{}', '-infinity', now()"
           " FROM generate_series(1, 3000) g");
    w.exec("ANALYZE catalog.events");
    w.exec("INSERT INTO catalog.events (event_id, status, action, repository, payload, next_attempt_at)"
           " SELECT 'e' || g, 'pending', 'push', 'team/app' || (g % 3), '{}', '-infinity'"
           " FROM generate_series(1, 6000) g");
    w.commit();
  }
  // Another worker holds the first event, as during a burst.
  pqxx::work holder(c);
  holder.exec("SELECT id FROM catalog.events WHERE status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE");
  pqxx::connection c2(db_->dsn());
  pqxx::work w(c2);
  const std::string plan_text =
      w.exec_params1("EXPLAIN (ANALYZE, FORMAT JSON) " + PgEventStore::ClaimSql(),
                     "2030-01-01 00:00:00+00")[0]
          .as<std::string>();
  const nlohmann::json plan = nlohmann::json::parse(plan_text)[0]["Plan"];
  // Rows the scans of catalog.events produced or passed over, over all their loops.
  int64_t rows_read = 0;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& node) {
    if (node.value("Relation Name", "") == "events") {
      rows_read += (node.value("Actual Rows", int64_t{0}) +
                    node.value("Rows Removed by Filter", int64_t{0}) +
                    node.value("Rows Removed by Index Recheck", int64_t{0})) *
                   node.value("Actual Loops", int64_t{1});
    }
    for (const nlohmann::json& child : node.value("Plans", nlohmann::json::array())) walk(child);
  };
  walk(plan);
  EXPECT_LE(rows_read, 20) << plan.dump(1);
  EXPECT_EQ(plan["Actual Rows"].get<int64_t>(), 1) << "the next free head, of another repository";
}

TEST_F(PgCatalogStoreTest, FailedEventsStayVisibleAndCanBeRetried) {
  ASSERT_TRUE(events_->Insert({Event("a1", "team/app")}).ok());
  RetryPolicy policy;
  const absl::Time now = absl::Now();
  absl::StatusOr<ProcessOutcome> o = events_->ProcessNext(
      now, policy,
      [](const StoredEvent&, CatalogWriter&) { return absl::InvalidArgumentError("bad manifest"); },
      [](const absl::Status& s) { return absl::IsInvalidArgument(s); });
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->new_status, EventStatus::kFailed);
  PageRequest all;
  all.all = true;
  auto failed = events_->List(EventFilter{{EventStatus::kFailed}, ""}, all);
  ASSERT_EQ(failed->first.size(), 1u);
  EXPECT_EQ(failed->first[0].last_error, "bad manifest");
  EXPECT_EQ(events_->Stats(now)->failed, 1);
  EXPECT_EQ(events_->Retry(failed->first[0].id + 100, now).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<StoredEvent> again = events_->Retry(failed->first[0].id, now);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->event.status, EventStatus::kPending);
  EXPECT_EQ(again->attempts, 0);
  EXPECT_EQ(events_->Retry(failed->first[0].id, now).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PgCatalogStoreTest, WorkersSkipEventsOthersHoldAndTheirRepositories) {
  ASSERT_TRUE(events_->Insert({Event("a1", "team/app"), Event("a2", "team/app"),
                               Event("b1", "other/app")}).ok());
  RetryPolicy policy;
  const absl::Time now = absl::Now();
  absl::Notification holding, release;
  std::thread slow([&] {
    absl::StatusOr<ProcessOutcome> o = events_->ProcessNext(
        now, policy,
        [&](const StoredEvent& e, CatalogWriter&) {
          EXPECT_EQ(e.event.event_id, "a1");
          holding.Notify();
          release.WaitForNotification();
          return absl::OkStatus();
        },
        nullptr);
    EXPECT_TRUE(o.ok() && o->processed);
  });
  holding.WaitForNotification();
  // While a1 is held: a2 (same repository) must wait, b1 is free.
  std::vector<std::string> seen;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ProcessOutcome> o = events_->ProcessNext(
        now, policy,
        [&](const StoredEvent& e, CatalogWriter&) {
          seen.push_back(e.event.event_id);
          return absl::OkStatus();
        },
        nullptr);
    ASSERT_TRUE(o.ok()) << o.status();
  }
  EXPECT_THAT(seen, ElementsAre("b1"));
  release.Notify();
  slow.join();
  ASSERT_TRUE(events_->ProcessNext(now, policy,
                                   [&](const StoredEvent& e, CatalogWriter&) {
                                     seen.push_back(e.event.event_id);
                                     return absl::OkStatus();
                                   },
                                   nullptr)
                  .ok());
  EXPECT_THAT(seen, ElementsAre("b1", "a2"));
}

TEST_F(PgCatalogStoreTest, InsertsNotifyTheListener) {
  std::atomic<int> notified{0};
  PgNotificationListener listener(db_->dsn(), [&] { notified.fetch_add(1); });
  listener.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!listener.listening() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_TRUE(listener.listening());
  const int before = notified.load();
  ASSERT_TRUE(events_->Insert({Event("n1", "team/app")}).ok());
  while (notified.load() == before && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GT(notified.load(), before);
  listener.Stop();
}

TEST_F(PgCatalogStoreTest, InsertsNotifyOnlyWhenAPendingEventIsNew) {
  pqxx::connection c(db_->dsn());
  struct Counter : pqxx::notification_receiver {
    explicit Counter(pqxx::connection_base& conn)
        : pqxx::notification_receiver(conn, kEventsChannel) {}
    void operator()(const std::string&, int) override { ++n; }
    int n = 0;
  } counter(c);
  // A round trip delivers what was committed before it; polled, in case delivery lags.
  auto seen_at_least = [&](int n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    for (;;) {
      pqxx::nontransaction(c).exec("SELECT 1");
      c.get_notifs();
      if (counter.n >= n || absl::Now() > deadline) return counter.n;
      absl::SleepFor(absl::Milliseconds(5));
    }
  };
  ASSERT_TRUE(events_->Insert({Event("p1", "team/app")}).ok());
  ASSERT_EQ(seen_at_least(1), 1);
  NewEvent rejected = Event("r1", "team/app");
  rejected.status = EventStatus::kRejected;
  rejected.reject_reason = "unreadable";
  // Nothing new to apply: a redelivery and a rejected event.
  ASSERT_TRUE(events_->Insert({Event("p1", "team/app"), rejected}).ok());
  ASSERT_TRUE(events_->Insert({Event("p2", "team/app")}).ok());
  // Notifications arrive in commit order: one for the middle insert would come before p2's.
  EXPECT_EQ(seen_at_least(2), 2);
}

TEST_F(PgCatalogStoreTest, SyncRunsAndTheLock) {
  PgSyncRunStore runs(*pool_);
  SyncReport r;
  r.trigger = "api";
  r.strategy = "initial";
  r.started_at = kT0;
  absl::StatusOr<int64_t> id = runs.Start(r);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(runs.Get(*id)->state, SyncState::kRunning);
  EXPECT_FALSE(runs.LastApplied()->has_value());
  r.id = *id;
  r.state = SyncState::kBraked;
  r.finished_at = kT0 + absl::Seconds(3);
  r.added = 4;
  r.brake = SyncBrake{true, 30, 100, 20, "would delete 30 of 100"};
  r.failures = {SyncFailure{"team/app", "503"}};
  r.changes = {SyncChange{SyncChange::Kind::kDelete, "team/app", "v1", Sha256Digest("a"), ""}};
  ASSERT_TRUE(runs.Finish(r).ok());
  absl::StatusOr<SyncReport> back = runs.Get(*id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->state, SyncState::kBraked);
  EXPECT_EQ(back->added, 4);
  EXPECT_EQ(back->finished_at, kT0 + absl::Seconds(3));
  EXPECT_TRUE(back->brake.engaged);
  EXPECT_EQ(back->brake.reason, "would delete 30 of 100");
  EXPECT_EQ(back->failures[0].error, "503");
  EXPECT_EQ(back->changes[0].kind, SyncChange::Kind::kDelete);
  EXPECT_EQ((*runs.LastApplied())->id, *id);
  SyncReport dry;
  dry.dry_run = true;
  dry.started_at = kT0;
  absl::StatusOr<int64_t> dry_id = runs.Start(dry);
  ASSERT_TRUE(runs.AbandonStale(absl::InfiniteFuture()).ok());
  EXPECT_EQ(runs.Get(*dry_id)->state, SyncState::kFailed);
  EXPECT_THAT(runs.Get(*dry_id)->error, HasSubstr("abandoned"));
  EXPECT_EQ((*runs.LastApplied())->id, *id);  // dry runs never count
  EXPECT_EQ(runs.List(10)->size(), 2u);

  PgSyncLock a(db_->dsn()), b(db_->dsn());
  EXPECT_TRUE(*a.TryAcquire());
  EXPECT_FALSE(*b.TryAcquire());
  a.Release();
  EXPECT_TRUE(*b.TryAcquire());
  b.Release();
}

}  // namespace
}  // namespace portunus::catalog
