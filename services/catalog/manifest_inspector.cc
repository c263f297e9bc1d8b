#include "services/catalog/manifest_inspector.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"

namespace portunus::catalog {
namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

}  // namespace

absl::StatusOr<ManifestInfo> ParseManifest(const std::string& digest, const std::string& media_type,
                                           const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest ", digest, " is not a JSON object"));
  }
  ManifestInfo info;
  info.digest = digest;
  info.media_type = media_type.empty() ? Str(j, "mediaType") : media_type;
  if (IsIndexMediaType(info.media_type) ||
      (info.media_type.empty() && j.contains("manifests"))) {
    if (!j.contains("manifests") || !j["manifests"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("index ", digest, " has no manifests"));
    }
    for (const nlohmann::json& m : j["manifests"]) {
      if (!m.is_object()) continue;
      const std::string child = Str(m, "digest");
      if (!IsValidDigest(child)) continue;
      Platform p;
      p.digest = child;
      if (m.contains("platform") && m["platform"].is_object()) {
        p.os = Str(m["platform"], "os");
        p.architecture = Str(m["platform"], "architecture");
        p.variant = Str(m["platform"], "variant");
      }
      // Build attestations (BuildKit) are listed as unknown/unknown: not a platform.
      if (p.os == "unknown" && p.architecture == "unknown") continue;
      info.children.push_back(child);
      info.platforms.push_back(std::move(p));
    }
    return info;
  }
  if (info.media_type != kMediaTypeOciManifest && info.media_type != kMediaTypeDockerManifest &&
      !(info.media_type.empty() && j.contains("config"))) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", digest, " has unsupported media type \"", info.media_type, "\""));
  }
  if (!j.contains("config") || !j["config"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("manifest ", digest, " has no config"));
  }
  info.config_digest = Str(j["config"], "digest");
  info.size = Int(j["config"], "size");
  if (j.contains("layers") && j["layers"].is_array()) {
    for (const nlohmann::json& l : j["layers"]) {
      if (!l.is_object()) continue;
      Layer layer{Str(l, "digest"), Int(l, "size"), Str(l, "mediaType")};
      info.size += layer.size;
      info.layers.push_back(std::move(layer));
    }
  }
  return info;
}

absl::Status ManifestInspector::ReadConfig(const std::string& repository, ManifestInfo* info) {
  if (!IsValidDigest(info->config_digest)) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest ", info->digest, " has an invalid config digest"));
  }
  std::string config;
  absl::StatusOr<int64_t> n =
      registry_.GetBlob(repository, info->config_digest, [&](absl::string_view chunk) {
        if (config.size() + chunk.size() > options_.max_config_bytes) {
          return absl::InvalidArgumentError(
              absl::StrCat("config ", info->config_digest, " is larger than ",
                           options_.max_config_bytes, " bytes"));
        }
        config.append(chunk.data(), chunk.size());
        return absl::OkStatus();
      });
  if (!n.ok()) return n.status();
  nlohmann::json j = nlohmann::json::parse(config, nullptr, false);
  if (!j.is_object()) {
    // Artifacts (Helm charts, signatures) have configs that are not image configs.
    return absl::OkStatus();
  }
  Platform p{Str(j, "os"), Str(j, "architecture"), Str(j, "variant"), ""};
  if (!p.os.empty() || !p.architecture.empty()) info->platforms = {p};
  absl::Time created;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, Str(j, "created"), &created, &err)) {
    info->image_created = created;
  }
  return absl::OkStatus();
}

absl::StatusOr<ManifestInfo> ManifestInspector::Inspect(const std::string& repository,
                                                        const std::string& digest) {
  PORTUNUS_ASSIGN_OR_RETURN(FetchedManifest fetched, registry_.GetManifest(repository, digest));
  return InspectFetched(repository, fetched);
}

absl::StatusOr<ManifestInfo> ManifestInspector::InspectFetched(const std::string& repository,
                                                               const FetchedManifest& fetched) {
  PORTUNUS_ASSIGN_OR_RETURN(ManifestInfo info,
                            ParseManifest(fetched.digest, fetched.media_type, fetched.body));
  if (!info.config_digest.empty()) {  // an image manifest
    PORTUNUS_RETURN_IF_ERROR(ReadConfig(repository, &info));
    return info;
  }
  // An index: sizes of its platforms (config + layers of each), read from their manifests.
  size_t read = 0;
  for (const std::string& child : info.children) {
    if (read++ >= options_.max_index_children) break;
    absl::StatusOr<FetchedManifest> m = registry_.GetManifest(repository, child);
    if (absl::IsNotFound(m.status())) continue;  // a platform that was never pushed
    if (!m.ok()) return m.status();
    absl::StatusOr<ManifestInfo> child_info = ParseManifest(child, m->media_type, m->body);
    if (!child_info.ok()) continue;  // nested index or artifact: no size contribution
    info.size += child_info->size;
  }
  // An index has no config of its own: its creation time stays unknown.
  return info;
}

}  // namespace portunus::catalog
