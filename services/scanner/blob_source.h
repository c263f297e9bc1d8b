// Where the scanner gets images from: manifests and blobs by digest. The registry client in
// services/common implements these against the registry (as the internal principal); an OCI
// image layout on disk implements them for local scans and tests (oci_layout_source.h).
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace portunus::scanner {

// Receives a blob chunk by chunk; a non-OK return stops the transfer and is returned by
// StreamBlob.
using BlobSink = std::function<absl::Status(absl::string_view chunk)>;

// Thread-safe implementations only: several scans stream at once.
class BlobSource {
 public:
  virtual ~BlobSource() = default;
  // Streams blob `digest` ("sha256:<hex>") of `repository` to `sink` without holding it whole.
  // kNotFound: no such blob. kUnavailable: the source cannot be reached (retry later).
  // Otherwise the sink's own error.
  virtual absl::Status StreamBlob(const std::string& repository, const std::string& digest,
                                  const BlobSink& sink) = 0;
};

struct FetchedManifest {
  std::string media_type;  // Content-Type as served
  std::string digest;      // "sha256:<hex>" of `body`
  std::string body;
};

class ManifestSource {
 public:
  virtual ~ManifestSource() = default;
  // Fetches a manifest or index by digest (or tag), accepting the OCI and Docker schema2
  // manifest and index types. kNotFound: unknown. kUnavailable: cannot reach the source.
  virtual absl::StatusOr<FetchedManifest> FetchManifest(const std::string& repository,
                                                        const std::string& reference) = 0;
};

}  // namespace portunus::scanner
