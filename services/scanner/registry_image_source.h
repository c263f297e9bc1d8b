// The scanner's image source in production: manifests and layers from the registry through the
// shared RegistryClient (services/common/registry_client.h), as the internal principal. Layers
// are streamed chunk by chunk into the layer reader and verified against their digest; nothing
// is written to disk.
#pragma once

#include "services/common/registry_client.h"
#include "services/scanner/blob_source.h"

namespace portunus::scanner {

// Thread-safe (the client is). `client` must outlive this.
class RegistryImageSource final : public BlobSource, public ManifestSource {
 public:
  explicit RegistryImageSource(RegistryClient& client) : client_(client) {}

  // Codes as RegistryClient's: kNotFound, kUnavailable (retried by the queue), kDataLoss, ...
  absl::Status StreamBlob(const std::string& repository, const std::string& digest, const BlobSink& sink) override;
  absl::StatusOr<FetchedManifest> FetchManifest(const std::string& repository, const std::string& reference) override;

 private:
  RegistryClient& client_;
};

}  // namespace portunus::scanner
