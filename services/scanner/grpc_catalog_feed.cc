#include "services/scanner/grpc_catalog_feed.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "portunus/catalog/v1/catalog.grpc.pb.h"
#include "services/common/request_context.h"
#include "services/common/status_mapping.h"

namespace portunus::scanner {

struct GrpcCatalogManifestFeed::Stub {
  std::unique_ptr<catalog::v1::CatalogService::Stub> stub;
};

GrpcCatalogManifestFeed::GrpcCatalogManifestFeed(std::shared_ptr<grpc::Channel> catalog,
                                                 std::string internal_secret, absl::Duration timeout)
    : stub_(new Stub{catalog::v1::CatalogService::NewStub(catalog)}),
      authorization_(absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat("portunus:", internal_secret)))),
      timeout_(timeout) {}

GrpcCatalogManifestFeed::~GrpcCatalogManifestFeed() = default;

absl::StatusOr<ManifestFeedPage> GrpcCatalogManifestFeed::ListSince(int64_t after_seq, int limit) {
  grpc::ClientContext ctx;
  PrepareClientContext(&ctx, timeout_, "");
  ctx.AddMetadata(kAuthorizationMetadata, authorization_);
  catalog::v1::ListManifestsSinceRequest req;
  req.set_after_seq(after_seq);
  req.set_limit(limit);
  catalog::v1::ListManifestsSinceResponse resp;
  const grpc::Status s = stub_->stub->ListManifestsSince(&ctx, req, &resp);
  if (!s.ok()) {
    absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("catalog ListManifestsSince: ", status.message()));
  }
  ManifestFeedPage page;
  page.oldest_seq = resp.oldest_seq();
  page.latest_seq = resp.latest_seq();
  for (const catalog::v1::ManifestFeedEntry& e : resp.entries()) {
    page.entries.push_back({e.seq(), e.repository(), e.digest()});
  }
  return page;
}

absl::Status GrpcCatalogManifestFeed::ListTagged(
    const std::function<absl::Status(const std::vector<ManifestFeedEntry>& page)>& on_page) {
  constexpr int kPerPage = 500;  // the catalog's largest page
  for (int32_t page = 1;; ++page) {
    grpc::ClientContext ctx;
    PrepareClientContext(&ctx, timeout_, "");
    ctx.AddMetadata(kAuthorizationMetadata, authorization_);
    catalog::v1::ListAllTagsRequest req;
    req.mutable_page()->set_page(page);
    req.mutable_page()->set_per_page(kPerPage);
    catalog::v1::ListTagsResponse resp;
    const grpc::Status s = stub_->stub->ListAllTags(&ctx, req, &resp);
    if (!s.ok()) {
      absl::Status status = FromGrpcStatus(s);
      return absl::Status(status.code(), absl::StrCat("catalog ListAllTags: ", status.message()));
    }
    std::vector<ManifestFeedEntry> entries;
    for (const catalog::v1::Tag& t : resp.tags()) entries.push_back({0, t.repository(), t.digest()});
    if (!entries.empty()) {
      absl::Status st = on_page(entries);
      if (!st.ok()) return st;
    }
    if (resp.tags_size() < kPerPage || static_cast<int64_t>(page) * kPerPage >= resp.page().total()) {
      return absl::OkStatus();
    }
  }
}

}  // namespace portunus::scanner
