// Parsing of image manifests and indexes as a registry serves them: OCI image manifest and
// index, Docker schema2 manifest and manifest list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace portunus::scanner {

inline constexpr absl::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr absl::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr absl::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr absl::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr size_t kMaxManifestSize = 4 * 1024 * 1024;

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::string os, architecture, variant;  // index entries' platform
};

struct ParsedManifest {
  enum class Kind { kImage, kIndex };
  Kind kind = Kind::kImage;
  std::string media_type;
  Descriptor config;                   // image
  std::vector<Descriptor> layers;      // image, base first
  std::vector<Descriptor> manifests;   // index
};

// True for "sha256:<64 hex>" and "sha512:<128 hex>" (lower case), the digests the scanner
// accepts anywhere (they become storage keys and file names).
bool IsValidDigest(absl::string_view digest);

// Parses `body` served with `content_type` (the body's own mediaType wins when the content
// type is generic). kInvalidArgument when it is not JSON, too large, has invalid digests, or is
// a manifest of another kind (a schema1 manifest, an artifact whose config is not an image
// configuration: "not a container image"). Pure and thread-safe.
absl::StatusOr<ParsedManifest> ParseManifest(absl::string_view content_type, absl::string_view body);

// "sha256:<hex>" of `data`.
std::string Sha256Digest(absl::string_view data);

}  // namespace portunus::scanner
