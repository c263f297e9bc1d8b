// GrpcCatalogManifestFeed against an in-process CatalogService (a test double of the catalog's
// gRPC surface, on a loopback port): the request carries the position and page size, the call
// authenticates as the internal principal, entries map one to one, errors keep their code and
// name the call.
#include "services/scanner/grpc_catalog_feed.h"

#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "portunus/catalog/v1/catalog.grpc.pb.h"

namespace portunus::scanner {
namespace {

using ::testing::HasSubstr;
namespace cv1 = ::portunus::catalog::v1;

class CatalogDouble final : public cv1::CatalogService::Service {
 public:
  grpc::Status ListManifestsSince(grpc::ServerContext* ctx, const cv1::ListManifestsSinceRequest* req,
                                  cv1::ListManifestsSinceResponse* resp) override {
    absl::MutexLock lock(&mu_);
    auto auth = ctx->client_metadata().find("authorization");
    authorization_ = auth == ctx->client_metadata().end() ? "" : std::string(auth->second.data(), auth->second.size());
    after_seq_ = req->after_seq();
    limit_ = req->limit();
    if (!fail_.empty()) return grpc::Status(fail_code_, fail_);
    resp->set_oldest_seq(3);
    resp->set_latest_seq(7);
    for (int64_t seq = req->after_seq() + 1; seq <= 7 && seq <= req->after_seq() + req->limit(); ++seq) {
      cv1::ManifestFeedEntry* e = resp->add_entries();
      e->set_seq(seq);
      e->set_repository(seq % 2 == 0 ? "team/app" : "other/x");
      e->set_digest("sha256:" + std::string(64, static_cast<char>('a' + seq)));
      e->set_media_type("application/vnd.oci.image.manifest.v1+json");
      e->set_tag("v" + std::to_string(seq));
    }
    return grpc::Status::OK;
  }

  // 1201 tags: t<i> of team/app, digest from i.
  grpc::Status ListAllTags(grpc::ServerContext* ctx, const cv1::ListAllTagsRequest* req,
                           cv1::ListTagsResponse* resp) override {
    absl::MutexLock lock(&mu_);
    auto auth = ctx->client_metadata().find("authorization");
    authorization_ = auth == ctx->client_metadata().end() ? "" : std::string(auth->second.data(), auth->second.size());
    ++tag_pages_;
    if (req->page().per_page() > 500) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "per_page");
    constexpr int kTotal = 1201;
    const int per_page = req->page().per_page();
    for (int i = (req->page().page() - 1) * per_page; i < kTotal && i < req->page().page() * per_page; ++i) {
      cv1::Tag* t = resp->add_tags();
      t->set_id(i + 1);
      t->set_repository("team/app");
      t->set_name("t" + std::to_string(i));
      t->set_digest(absl::StrCat("sha256:", absl::StrFormat("%064d", i)));
    }
    resp->mutable_page()->set_total(kTotal);
    return grpc::Status::OK;
  }

  absl::Mutex mu_;
  int tag_pages_ = 0;
  std::string authorization_;
  int64_t after_seq_ = -1;
  int limit_ = -1;
  std::string fail_;
  grpc::StatusCode fail_code_ = grpc::StatusCode::OK;
};

class GrpcCatalogFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder b;
    int port = 0;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&catalog_);
    server_ = b.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    ASSERT_GT(port, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  CatalogDouble catalog_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcCatalogFeedTest, ReadsAPageAsTheInternalPrincipal) {
  GrpcCatalogManifestFeed feed(channel_, "s3cret", absl::Seconds(5));
  absl::StatusOr<ManifestFeedPage> page = feed.ListSince(4, 2);
  ASSERT_TRUE(page.ok()) << page.status();
  {
    absl::MutexLock lock(&catalog_.mu_);
    EXPECT_EQ(catalog_.authorization_, "Basic " + absl::Base64Escape("portunus:s3cret"));
    EXPECT_EQ(catalog_.after_seq_, 4);
    EXPECT_EQ(catalog_.limit_, 2);
  }
  EXPECT_EQ(page->oldest_seq, 3);
  EXPECT_EQ(page->latest_seq, 7);
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].seq, 5);
  EXPECT_EQ(page->entries[0].repository, "other/x");
  EXPECT_EQ(page->entries[0].digest, "sha256:" + std::string(64, 'f'));
  EXPECT_EQ(page->entries[1].seq, 6);
  EXPECT_EQ(page->entries[1].repository, "team/app");

  page = feed.ListSince(7, 100);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->entries.empty());
  EXPECT_EQ(page->latest_seq, 7);
}

TEST_F(GrpcCatalogFeedTest, ListsEveryTaggedManifestPageByPage) {
  GrpcCatalogManifestFeed feed(channel_, "s3cret", absl::Seconds(5));
  std::vector<ManifestFeedEntry> all;
  ASSERT_TRUE(feed.ListTagged([&](const std::vector<ManifestFeedEntry>& page) {
                    EXPECT_LE(page.size(), 500u);
                    all.insert(all.end(), page.begin(), page.end());
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(all.size(), 1201u);
  EXPECT_EQ(all[0].repository, "team/app");
  EXPECT_EQ(all[1200].digest, absl::StrCat("sha256:", absl::StrFormat("%064d", 1200)));
  {
    absl::MutexLock lock(&catalog_.mu_);
    EXPECT_EQ(catalog_.tag_pages_, 3);
    EXPECT_EQ(catalog_.authorization_, "Basic " + absl::Base64Escape("portunus:s3cret"));
  }
  // on_page's error stops the listing.
  int pages = 0;
  absl::Status stopped = feed.ListTagged([&](const std::vector<ManifestFeedEntry>&) {
    ++pages;
    return absl::CancelledError("enough");
  });
  EXPECT_EQ(stopped.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(pages, 1);
}

TEST_F(GrpcCatalogFeedTest, ErrorsKeepTheirCodeAndNameTheCall) {
  GrpcCatalogManifestFeed feed(channel_, "wrong", absl::Seconds(5));
  {
    absl::MutexLock lock(&catalog_.mu_);
    catalog_.fail_ = "the internal secret was refused";
    catalog_.fail_code_ = grpc::StatusCode::UNAUTHENTICATED;
  }
  absl::StatusOr<ManifestFeedPage> page = feed.ListSince(0, 10);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(page.status().message(), HasSubstr("ListManifestsSince"));
  EXPECT_THAT(page.status().message(), HasSubstr("refused"));

  // The catalog down: kUnavailable, which the follower retries on its next poll.
  server_->Shutdown();
  server_.reset();
  GrpcCatalogManifestFeed fast(channel_, "s3cret", absl::Milliseconds(500));
  page = fast.ListSince(0, 10);
  ASSERT_FALSE(page.ok());
  EXPECT_TRUE(page.status().code() == absl::StatusCode::kUnavailable ||
              page.status().code() == absl::StatusCode::kDeadlineExceeded)
      << page.status();
}

}  // namespace
}  // namespace portunus::scanner
