// Manifests and blobs from an OCI image layout on disk (image-spec image-layout.md:
// oci-layout, index.json, blobs/<alg>/<hex>), as skopeo, umoci and buildkit write it. Used to
// scan local images and by the tests; the registry is the service's normal source.
#pragma once

#include <string>

#include "services/scanner/blob_source.h"

namespace portunus::scanner {

// Thread-safe (stateless apart from the root path). Repositories are ignored: a layout is one
// repository.
class OciLayoutSource final : public BlobSource, public ManifestSource {
 public:
  explicit OciLayoutSource(std::string root) : root_(std::move(root)) {}

  // `reference` is a digest, or a tag named by an org.opencontainers.image.ref.name annotation
  // in index.json. kNotFound for an unknown one; kInvalidArgument for a malformed digest.
  absl::StatusOr<FetchedManifest> FetchManifest(const std::string& repository,
                                                const std::string& reference) override;
  absl::Status StreamBlob(const std::string& repository, const std::string& digest,
                          const BlobSink& sink) override;

 private:
  std::string BlobPath(const std::string& digest) const;
  const std::string root_;
};

}  // namespace portunus::scanner
