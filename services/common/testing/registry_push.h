// Pushing test content to a real registry over HTTP (blob uploads and manifest PUTs), for
// adapter tests that need images without skopeo.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/common/testing/fake_registry_client.h"

namespace portunus::testing {

// Uploads `content` as a blob of `repository` (POST + PUT ?digest=). `bearer` may be empty for a
// registry without auth. Returns the digest.
absl::StatusOr<std::string> UploadBlob(const std::string& registry_url, const std::string& bearer,
                                       const std::string& repository, const std::string& content);

// Uploads the image's blobs and puts its manifest under `tag`. Returns what was pushed.
absl::StatusOr<BuiltImage> PushTestImage(const std::string& registry_url,
                                         const std::string& bearer, const std::string& repository,
                                         const std::string& tag, const FakeImage& image);

}  // namespace portunus::testing
