#include "services/scanner/image_manifest.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace portunus::scanner {
namespace {

using json = nlohmann::json;

std::string Str(const json& o, const char* k) {
  if (!o.is_object()) return "";
  auto it = o.find(k);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

absl::StatusOr<Descriptor> ParseDescriptor(const json& d, absl::string_view what) {
  if (!d.is_object()) return absl::InvalidArgumentError(absl::StrCat(what, " is not an object"));
  Descriptor out;
  out.media_type = Str(d, "mediaType");
  out.digest = Str(d, "digest");
  if (!IsValidDigest(out.digest)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has an invalid digest"));
  }
  if (d.contains("size") && d["size"].is_number_integer()) out.size = d["size"].get<int64_t>();
  if (d.contains("platform") && d["platform"].is_object()) {
    out.os = Str(d["platform"], "os");
    out.architecture = Str(d["platform"], "architecture");
    out.variant = Str(d["platform"], "variant");
  }
  return out;
}

}  // namespace

bool IsValidDigest(absl::string_view digest) {
  size_t hex_len;
  if (absl::ConsumePrefix(&digest, "sha256:")) {
    hex_len = 64;
  } else if (absl::ConsumePrefix(&digest, "sha512:")) {
    hex_len = 128;
  } else {
    return false;
  }
  if (digest.size() != hex_len) return false;
  for (char c : digest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Sha256Digest(absl::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  return "sha256:" + absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(d), sizeof d));
}

absl::StatusOr<ParsedManifest> ParseManifest(absl::string_view content_type, absl::string_view body) {
  if (body.size() > kMaxManifestSize) {
    return absl::InvalidArgumentError(absl::StrCat("manifest is ", body.size(), " bytes, too large"));
  }
  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("manifest is not valid JSON: ", e.what()));
  }
  if (!doc.is_object()) return absl::InvalidArgumentError("manifest is not a JSON object");
  std::string type = Str(doc, "mediaType");
  if (type.empty()) {
    std::string ct(content_type.substr(0, content_type.find(';')));
    type = ct;
  }
  if (type.empty()) {
    // OCI allows omitting mediaType: tell them apart by shape.
    type = doc.contains("manifests") ? std::string(kOciIndex) : std::string(kOciManifest);
  }
  if (absl::StartsWith(type, "application/vnd.docker.distribution.manifest.v1")) {
    return absl::InvalidArgumentError("schema1 manifests are not supported (push with schema2 or OCI)");
  }
  ParsedManifest m;
  m.media_type = type;
  if (type == kOciIndex || type == kDockerList) {
    m.kind = ParsedManifest::Kind::kIndex;
    if (!doc.contains("manifests") || !doc["manifests"].is_array()) {
      return absl::InvalidArgumentError("index has no manifests array");
    }
    for (const json& d : doc["manifests"]) {
      absl::StatusOr<Descriptor> desc = ParseDescriptor(d, "index entry");
      if (!desc.ok()) return desc.status();
      m.manifests.push_back(*std::move(desc));
    }
    return m;
  }
  if (type != kOciManifest && type != kDockerManifest) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported manifest media type \"", type, "\""));
  }
  absl::StatusOr<Descriptor> config = ParseDescriptor(doc.value("config", json()), "config");
  if (!config.ok()) return config.status();
  m.config = *std::move(config);
  if (m.config.media_type != "application/vnd.oci.image.config.v1+json" &&
      m.config.media_type != "application/vnd.docker.container.image.v1+json") {
    return absl::InvalidArgumentError(absl::StrCat("not a container image (config media type \"",
                                                   m.config.media_type, "\")"));
  }
  if (!doc.contains("layers") || !doc["layers"].is_array()) {
    return absl::InvalidArgumentError("manifest has no layers array");
  }
  for (const json& d : doc["layers"]) {
    absl::StatusOr<Descriptor> layer = ParseDescriptor(d, "layer");
    if (!layer.ok()) return layer.status();
    m.layers.push_back(*std::move(layer));
  }
  return m;
}

}  // namespace portunus::scanner
