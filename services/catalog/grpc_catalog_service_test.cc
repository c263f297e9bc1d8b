// The gRPC transport in process (InProcessChannel) over the domain with fakes.
#include "services/catalog/grpc_catalog_service.h"

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "portunus/catalog/v1/events.grpc.pb.h"
#include "portunus/catalog/v1/sync.grpc.pb.h"
#include "services/catalog/fake_catalog_store.h"
#include "services/catalog/testdata/registry_events.h"
#include "services/common/metrics.h"
#include "services/common/status_mapping.h"
#include "services/common/testing/fake_clock.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::catalog {
namespace {

namespace pb = ::portunus::catalog::v1;
using ::testing::HasSubstr;

class GrpcCatalogServiceTest : public ::testing::Test {
 protected:
  GrpcCatalogServiceTest()
      : runtime_{"catalog", common_, nullptr, workers_, metrics_, readiness_, clock_},
        store_(clock_),
        events_(store_, clock_),
        processor_({}, events_, registry_, access_, clock_),
        ingestor_({"s3cret"}, events_),
        syncer_({}, store_, registry_, access_, clock_),
        lock_(lock_shared_),
        sync_({true, "update-delete", absl::Hours(1), "test", nullptr}, syncer_, runs_, lock_,
              store_, clock_),
        api_({}, store_, registry_, access_, clock_) {
    readiness_.Set(true, "");
    access_.AddNamespace("team", false, {"alice"}, {"alice"});
    access_.AddNamespace("public", true);
    access_.AddCaller("Basic alice", Caller{Caller::Kind::kUser, 1, "alice", false});
    access_.AddCaller("Basic admin", Caller{Caller::Kind::kUser, 2, "admin", true});
    CatalogTransportDeps deps{runtime_, api_, ingestor_, events_, processor_, sync_, clock_};
    catalog_ = MakeCatalogGrpcService(deps);
    event_ = MakeEventGrpcService(deps);
    sync_service_ = MakeSyncGrpcService(deps);
    grpc::ServerBuilder builder;
    builder.RegisterService(catalog_.get());
    builder.RegisterService(event_.get());
    builder.RegisterService(sync_service_.get());
    server_ = builder.BuildAndStart();
    auto channel = server_->InProcessChannel(grpc::ChannelArguments());
    catalog_stub_ = pb::CatalogService::NewStub(channel);
    event_stub_ = pb::EventService::NewStub(channel);
    sync_stub_ = pb::SyncService::NewStub(channel);
  }
  ~GrpcCatalogServiceTest() override {
    server_->Shutdown();
    sync_.Stop();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& who) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!who.empty()) ctx->AddMetadata("authorization", "Basic " + who);
    return ctx;
  }

  void Sync() { ASSERT_TRUE(sync_.RunPass("api", false, false).ok()); }

  CommonConfig common_;
  WorkerPool workers_{2};
  MetricsServer metrics_;
  Readiness readiness_;
  testing::FakeClock clock_;
  ServiceRuntime runtime_;
  testing::FakeRegistryClient registry_;
  FakeAccessClient access_;
  FakeCatalogStore store_;
  FakeEventStore events_;
  FakeSyncRunStore runs_;
  EventProcessor processor_;
  EventIngestor ingestor_;
  CatalogSyncer syncer_;
  FakeSyncLock::Shared lock_shared_;
  FakeSyncLock lock_;
  SyncCoordinator sync_;
  CatalogApi api_;
  std::unique_ptr<grpc::Service> catalog_, event_, sync_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::CatalogService::Stub> catalog_stub_;
  std::unique_ptr<pb::EventService::Stub> event_stub_;
  std::unique_ptr<pb::SyncService::Stub> sync_stub_;
};

TEST_F(GrpcCatalogServiceTest, IngestChecksTheSecretAndCounts) {
  pb::IngestNotificationRequest req;
  req.set_authorization("Bearer nope");
  req.set_content_type("application/vnd.docker.distribution.events.v1+json");
  req.set_body(testdata::kPushManifestOci);
  pb::IngestNotificationResponse resp;
  grpc::ClientContext c1;
  grpc::Status s = event_stub_->IngestNotification(&c1, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  req.set_authorization("Bearer s3cret");
  grpc::ClientContext c2;
  s = event_stub_->IngestNotification(&c2, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.stored(), 1);
  req.set_body("][");
  grpc::ClientContext c3;
  ASSERT_TRUE(event_stub_->IngestNotification(&c3, req, &resp).ok());
  EXPECT_EQ(resp.rejected(), 1);

  pb::ListEventsRequest list;
  pb::ListEventsResponse events;
  s = event_stub_->ListEvents(As("alice").get(), list, &events);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  s = event_stub_->ListEvents(As("").get(), list, &events);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  s = event_stub_->ListEvents(As("admin").get(), list, &events);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(events.events_size(), 2);
  EXPECT_EQ(events.events(0).status(), pb::Event::REJECTED);
  EXPECT_THAT(events.events(0).last_error(), HasSubstr("not valid JSON"));
  EXPECT_EQ(events.events(1).status(), pb::Event::PENDING);
  EXPECT_EQ(events.events(1).actor(), "alice");
  EXPECT_TRUE(events.events(1).has_event_time());
  EXPECT_FALSE(events.events(1).has_processed_at());
  list.add_statuses(pb::Event::REJECTED);
  s = event_stub_->ListEvents(As("admin").get(), list, &events);
  EXPECT_EQ(events.page().total(), 1);

  pb::EventStats stats;
  s = event_stub_->GetEventStats(As("admin").get(), pb::GetEventStatsRequest(), &stats);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(stats.pending(), 1);
  EXPECT_EQ(stats.rejected(), 1);
}

TEST_F(GrpcCatalogServiceTest, IngestingSeveralNotificationsAnswersEachInOrder) {
  pb::IngestNotificationsRequest req;
  for (const char* auth : {"Bearer s3cret", "Bearer nope", "Bearer s3cret"}) {
    pb::IngestNotificationRequest* n = req.add_notifications();
    n->set_authorization(auth);
    n->set_content_type("application/vnd.docker.distribution.events.v1+json");
    n->set_body(testdata::kPushManifestOci);
  }
  pb::IngestNotificationsResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = event_stub_->IngestNotifications(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.results_size(), 3);
  EXPECT_EQ(resp.results(0).code(), 0);
  EXPECT_EQ(resp.results(0).counts().stored(), 1);
  EXPECT_EQ(resp.results(1).code(), static_cast<int>(grpc::StatusCode::UNAUTHENTICATED));
  EXPECT_THAT(resp.results(1).message(), HasSubstr("catalog.webhook_secret"));
  EXPECT_EQ(resp.results(2).code(), 0);
  EXPECT_EQ(resp.results(2).counts().duplicates(), 1);

  pb::IngestNotificationsResponse none;
  grpc::ClientContext empty;
  const pb::IngestNotificationsRequest no_notifications;
  ASSERT_TRUE(event_stub_->IngestNotifications(&empty, no_notifications, &none).ok());
  EXPECT_EQ(none.results_size(), 0);
}

TEST_F(GrpcCatalogServiceTest, RepositoriesAndTagsAsTheCallerMaySeeThem) {
  testing::FakeImage img;
  img.architecture = "arm64";
  const std::string d = registry_.PushImage("team/app", "v1", img);
  registry_.PushImage("public/web", "latest");
  Sync();
  pb::ListRepositoriesRequest req;
  pb::ListRepositoriesResponse resp;
  ASSERT_TRUE(catalog_stub_->ListRepositories(As("").get(), req, &resp).ok());
  ASSERT_EQ(resp.repositories_size(), 1);
  EXPECT_EQ(resp.repositories(0).full_name(), "public/web");
  EXPECT_EQ(resp.repositories(0).name(), "web");
  EXPECT_EQ(resp.repositories(0).namespace_().name(), "public");
  EXPECT_EQ(resp.page().total(), 1);
  EXPECT_EQ(resp.page().per_page(), 15);
  ASSERT_TRUE(catalog_stub_->ListRepositories(As("alice").get(), req, &resp).ok());
  EXPECT_EQ(resp.repositories_size(), 2);
  const pb::Repository& team = resp.repositories(1);
  EXPECT_EQ(team.full_name(), "team/app");
  EXPECT_EQ(team.tags_count(), 1);

  pb::GetRepositoryRequest get;
  get.set_id(team.id());
  pb::Repository repo;
  grpc::Status s = catalog_stub_->GetRepository(As("").get(), get, &repo);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(catalog_stub_->GetRepository(As("alice").get(), get, &repo).ok());
  ASSERT_EQ(repo.tags_size(), 1);
  const pb::Tag& tag = repo.tags(0);
  EXPECT_EQ(tag.digest(), d);
  EXPECT_EQ(tag.image_id(), testing::BuildImage(img).config_digest.substr(7));
  EXPECT_EQ(tag.size(), testing::BuildImage(img).total_size);
  ASSERT_EQ(tag.platforms_size(), 1);
  EXPECT_EQ(tag.platforms(0).architecture(), "arm64");
  EXPECT_TRUE(tag.has_created_at());
  EXPECT_FALSE(tag.has_pulled_at());

  // Bad input names the field.
  req.mutable_page()->set_per_page(501);
  s = catalog_stub_->ListRepositories(As("alice").get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "per_page");
  req.mutable_page()->set_per_page(10);
  req.mutable_page()->set_sort_order("sideways");
  s = catalog_stub_->ListRepositories(As("alice").get(), req, &resp);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "sort_order");
  get.set_id(0);
  s = catalog_stub_->GetRepository(As("alice").get(), get, &repo);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "id");
  pb::SearchRequest search;
  s = catalog_stub_->Search(As("alice").get(), search, &resp);
  EXPECT_EQ(ErrorField(FromGrpcStatus(s)), "q");
  search.set_q("APP");
  ASSERT_TRUE(catalog_stub_->Search(As("alice").get(), search, &resp).ok());
  EXPECT_EQ(resp.repositories_size(), 1);
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", "Basic mallory");
  s = catalog_stub_->ListRepositories(&wrong, pb::ListRepositoriesRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(GrpcCatalogServiceTest, SyncPassesAndTheFeed) {
  registry_.PushImage("team/app", "v1");
  pb::StartSyncRequest start;
  start.set_dry_run(true);
  pb::SyncRun run;
  grpc::Status s = sync_stub_->StartSync(As("alice").get(), start, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(sync_stub_->StartSync(As("admin").get(), start, &run).ok());
  EXPECT_EQ(run.state(), pb::SyncRun::RUNNING);
  EXPECT_TRUE(run.dry_run());
  sync_.WaitIdle();
  pb::GetSyncRunRequest get;
  get.set_id(run.id());
  ASSERT_TRUE(sync_stub_->GetSyncRun(As("admin").get(), get, &run).ok());
  EXPECT_EQ(run.state(), pb::SyncRun::SUCCEEDED);
  EXPECT_EQ(run.added(), 1);
  ASSERT_EQ(run.changes_size(), 1);
  EXPECT_EQ(run.changes(0).kind(), pb::SyncChange::ADD);
  EXPECT_TRUE(run.has_finished_at());
  pb::SyncStatus status;
  ASSERT_TRUE(sync_stub_->GetSyncStatus(As("admin").get(), pb::GetSyncStatusRequest(), &status).ok());
  EXPECT_FALSE(status.brake_engaged());
  EXPECT_EQ(status.strategy(), "update-delete");
  EXPECT_EQ(status.interval(), "1h");

  Sync();
  pb::ListManifestsSinceRequest feed_req;
  pb::ListManifestsSinceResponse feed;
  s = catalog_stub_->ListManifestsSince(As("alice").get(), feed_req, &feed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(catalog_stub_->ListManifestsSince(As("admin").get(), feed_req, &feed).ok());
  ASSERT_EQ(feed.entries_size(), 1);
  EXPECT_EQ(feed.entries(0).repository(), "team/app");
  EXPECT_EQ(feed.latest_seq(), feed.entries(0).seq());
}

}  // namespace
}  // namespace portunus::catalog
