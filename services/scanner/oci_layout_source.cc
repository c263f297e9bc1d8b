#include "services/scanner/oci_layout_source.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/scanner/image_manifest.h"

namespace portunus::scanner {

std::string OciLayoutSource::BlobPath(const std::string& digest) const {
  const size_t colon = digest.find(':');
  return absl::StrCat(root_, "/blobs/", digest.substr(0, colon), "/", digest.substr(colon + 1));
}

absl::StatusOr<FetchedManifest> OciLayoutSource::FetchManifest(const std::string& /*repository*/,
                                                               const std::string& reference) {
  std::string digest = reference;
  std::string media_type;
  if (!IsValidDigest(reference)) {
    if (reference.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("invalid digest \"", reference, "\""));
    }
    std::ifstream in(root_ + "/index.json");
    if (!in) return absl::NotFoundError(absl::StrCat(root_, " is not an OCI layout (no index.json)"));
    nlohmann::json index = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    digest.clear();
    if (index.is_object() && index.contains("manifests") && index["manifests"].is_array()) {
      for (const auto& m : index["manifests"]) {
        if (!m.is_object() || !m.contains("annotations") || !m["annotations"].is_object()) continue;
        if (m["annotations"].value("org.opencontainers.image.ref.name", "") == reference) {
          digest = m.value("digest", "");
          media_type = m.value("mediaType", "");
        }
      }
    }
    if (!IsValidDigest(digest)) return absl::NotFoundError(absl::StrCat("no image tagged ", reference));
  }
  std::ifstream in(BlobPath(digest), std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("manifest ", digest, " not found"));
  std::stringstream ss;
  ss << in.rdbuf();
  FetchedManifest m;
  m.body = ss.str();
  m.digest = digest;
  nlohmann::json doc = nlohmann::json::parse(m.body, nullptr, /*allow_exceptions=*/false);
  m.media_type = doc.is_object() ? doc.value("mediaType", media_type) : media_type;
  return m;
}

absl::Status OciLayoutSource::StreamBlob(const std::string& /*repository*/, const std::string& digest,
                                         const BlobSink& sink) {
  if (!IsValidDigest(digest)) return absl::InvalidArgumentError(absl::StrCat("invalid digest \"", digest, "\""));
  std::ifstream in(BlobPath(digest), std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("blob ", digest, " not found"));
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    absl::Status s = sink(absl::string_view(buf.data(), static_cast<size_t>(n)));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace portunus::scanner
