// ManifestFeed over the catalog's CatalogService.ListManifestsSince (and ListAllTags for the
// catch-up), called as the internal principal (Basic portunus:<internal.secret>), each call with
// the internal RPC deadline.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/scanner/catalog_feed.h"

namespace grpc {
class Channel;
}

namespace portunus::scanner {

class GrpcCatalogManifestFeed final : public ManifestFeed {
 public:
  GrpcCatalogManifestFeed(std::shared_ptr<grpc::Channel> catalog, std::string internal_secret,
                          absl::Duration timeout);
  ~GrpcCatalogManifestFeed() override;
  absl::StatusOr<ManifestFeedPage> ListSince(int64_t after_seq, int limit) override;
  // CatalogService.ListAllTags, 500 tags a page.
  absl::Status ListTagged(
      const std::function<absl::Status(const std::vector<ManifestFeedEntry>& page)>& on_page) override;

 private:
  struct Stub;
  std::unique_ptr<Stub> stub_;
  const std::string authorization_;
  const absl::Duration timeout_;
};

}  // namespace portunus::scanner
