#include "services/scanner/registry_image_source.h"

namespace portunus::scanner {

absl::Status RegistryImageSource::StreamBlob(const std::string& repository, const std::string& digest,
                                             const BlobSink& sink) {
  return client_.GetBlob(repository, digest, sink).status();
}

absl::StatusOr<FetchedManifest> RegistryImageSource::FetchManifest(const std::string& repository,
                                                                   const std::string& reference) {
  absl::StatusOr<portunus::FetchedManifest> m = client_.GetManifest(repository, reference);
  if (!m.ok()) return m.status();
  FetchedManifest out;
  out.media_type = m->media_type;
  out.digest = m->digest;
  out.body = std::move(m->body);
  return out;
}

}  // namespace portunus::scanner
