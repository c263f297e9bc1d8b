// Test helper: writes OCI image layouts (image-spec image-layout.md) with images made of given
// layer blobs, as skopeo and umoci read them. Header-only.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "services/scanner/image_manifest.h"

namespace portunus::scanner::testing {

class OciLayoutBuilder {
 public:
  explicit OciLayoutBuilder(std::string dir) : dir_(std::move(dir)) {
    mkdir(dir_.c_str(), 0755);
    mkdir((dir_ + "/blobs").c_str(), 0755);
    mkdir((dir_ + "/blobs/sha256").c_str(), 0755);
    std::ofstream(dir_ + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    WriteIndex();
  }

  std::string AddBlob(const std::string& data) {
    const std::string digest = Sha256Digest(data);
    std::ofstream(dir_ + "/blobs/sha256/" + digest.substr(7), std::ios::binary) << data;
    return digest;
  }

  // Layers are (blob, media type); returns the manifest digest. `docker` writes a Docker
  // schema2 manifest instead of an OCI one.
  std::string AddImage(const std::vector<std::pair<std::string, std::string>>& layers,
                       const std::string& tag = "", bool docker = false) {
    nlohmann::json config = {{"architecture", "amd64"}, {"os", "linux"},
                             {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
    const std::string config_blob = config.dump();
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", docker ? std::string(kDockerManifest) : std::string(kOciManifest)},
                        {"config", {{"mediaType", docker ? "application/vnd.docker.container.image.v1+json"
                                                         : "application/vnd.oci.image.config.v1+json"},
                                    {"digest", AddBlob(config_blob)},
                                    {"size", config_blob.size()}}},
                        {"layers", nlohmann::json::array()}};
    for (const auto& [blob, type] : layers) {
      m["layers"].push_back({{"mediaType", type}, {"digest", AddBlob(blob)}, {"size", blob.size()}});
    }
    return AddManifest(m.dump(), m["mediaType"], tag);
  }

  // Images are (manifest digest, "os/arch").
  std::string AddIndex(const std::vector<std::pair<std::string, std::string>>& images,
                       const std::string& tag = "") {
    nlohmann::json idx = {{"schemaVersion", 2}, {"mediaType", std::string(kOciIndex)},
                          {"manifests", nlohmann::json::array()}};
    for (const auto& [digest, platform] : images) {
      const size_t slash = platform.find('/');
      idx["manifests"].push_back({{"mediaType", std::string(kOciManifest)}, {"digest", digest},
                                  {"size", 1},
                                  {"platform", {{"os", platform.substr(0, slash)},
                                                {"architecture", platform.substr(slash + 1)}}}});
    }
    return AddManifest(idx.dump(), std::string(kOciIndex), tag);
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string AddManifest(const std::string& body, const std::string& type, const std::string& tag) {
    const std::string digest = AddBlob(body);
    if (!tag.empty()) {
      tags_.push_back({{"mediaType", type}, {"digest", digest}, {"size", body.size()},
                       {"annotations", {{"org.opencontainers.image.ref.name", tag}}}});
      WriteIndex();
    }
    return digest;
  }
  void WriteIndex() {
    nlohmann::json index = {{"schemaVersion", 2}, {"manifests", tags_}};
    std::ofstream(dir_ + "/index.json") << index.dump();
  }

  std::string dir_;
  nlohmann::json tags_ = nlohmann::json::array();
};

}  // namespace portunus::scanner::testing
