// ManifestInspector reads what Portunus records about a manifest from the registry: media
// type, total size (config + layers), config digest, image creation time, os/arch of each
// platform, and the layers. For an image manifest it fetches the manifest and its config blob;
// for an index (OCI index or Docker manifest list) the index and each platform's manifest
// (platforms from the index, sizes summed over them).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/catalog/catalog_types.h"
#include "services/common/registry_client.h"

namespace portunus::catalog {

// Parses manifest bytes of `media_type` (image manifest or index). kInvalidArgument for bytes
// that are not such a manifest, or an unsupported media type (schema1).
absl::StatusOr<ManifestInfo> ParseManifest(const std::string& digest, const std::string& media_type,
                                           const std::string& body);

// Thread-safe (stateless); the registry client must outlive it.
class ManifestInspector {
 public:
  struct Options {
    size_t max_index_children = 64;   // platforms read per index
    size_t max_config_bytes = 1 << 20;
  };
  explicit ManifestInspector(RegistryClient& registry) : ManifestInspector(Options(), registry) {}
  ManifestInspector(Options options, RegistryClient& registry)
      : options_(options), registry_(registry) {}

  // The manifest `digest` of `repository`. Registry errors pass through (kNotFound when the
  // manifest is gone); kInvalidArgument for content that cannot be understood.
  absl::StatusOr<ManifestInfo> Inspect(const std::string& repository, const std::string& digest);
  // Like Inspect, for a manifest already fetched (by tag, during sync).
  absl::StatusOr<ManifestInfo> InspectFetched(const std::string& repository,
                                              const FetchedManifest& fetched);

 private:
  absl::Status ReadConfig(const std::string& repository, ManifestInfo* info);

  const Options options_;
  RegistryClient& registry_;
};

}  // namespace portunus::catalog
