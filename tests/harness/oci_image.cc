#include "tests/harness/oci_image.h"

#include "absl/strings/str_cat.h"
#include "tests/harness/process.h"
#include "tests/harness/util.h"

namespace portunus::harness {
namespace {

nlohmann::json NewImage(const std::string& os, const std::string& arch,
                        const std::string& variant) {
  nlohmann::json image = {{"os", os},
                          {"architecture", arch},
                          {"layers", nlohmann::json::array({{{"entries", nlohmann::json::array()}}})}};
  if (!variant.empty()) image["variant"] = variant;
  return image;
}

}  // namespace

OciImageBuilder::OciImageBuilder() {
  spec_["images"] = nlohmann::json::array({NewImage("linux", "amd64", "")});
}

nlohmann::json& OciImageBuilder::CurrentImage() { return spec_["images"].back(); }
nlohmann::json& OciImageBuilder::CurrentEntries() {
  return CurrentImage()["layers"].back()["entries"];
}

OciImageBuilder& OciImageBuilder::Platform(const std::string& os, const std::string& arch,
                                           const std::string& variant) {
  CurrentImage()["os"] = os;
  CurrentImage()["architecture"] = arch;
  if (variant.empty()) {
    CurrentImage().erase("variant");
  } else {
    CurrentImage()["variant"] = variant;
  }
  return *this;
}

OciImageBuilder& OciImageBuilder::AddPlatform(const std::string& os, const std::string& arch,
                                              const std::string& variant) {
  spec_["images"].push_back(NewImage(os, arch, variant));
  return *this;
}

OciImageBuilder& OciImageBuilder::Layer() {
  CurrentImage()["layers"].push_back({{"entries", nlohmann::json::array()}});
  return *this;
}

OciImageBuilder& OciImageBuilder::File(const std::string& path, const std::string& content,
                                       int mode) {
  // Base64 keeps arbitrary bytes intact through JSON.
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  size_t i = 0;
  for (; i + 2 < content.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(content[i]) << 16) |
                       (static_cast<unsigned char>(content[i + 1]) << 8) |
                       static_cast<unsigned char>(content[i + 2]);
    b64 += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == content.size()) {
    const unsigned v = static_cast<unsigned char>(content[i]) << 16;
    b64 += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == content.size()) {
    const unsigned v = (static_cast<unsigned char>(content[i]) << 16) |
                       (static_cast<unsigned char>(content[i + 1]) << 8);
    b64 += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  CurrentEntries().push_back(
      {{"type", "file"}, {"path", path}, {"content_base64", b64}, {"mode", mode}});
  return *this;
}

OciImageBuilder& OciImageBuilder::Dir(const std::string& path, int mode) {
  CurrentEntries().push_back({{"type", "dir"}, {"path", path}, {"mode", mode}});
  return *this;
}

OciImageBuilder& OciImageBuilder::Symlink(const std::string& path, const std::string& target) {
  CurrentEntries().push_back({{"type", "symlink"}, {"path", path}, {"target", target}});
  return *this;
}

OciImageBuilder& OciImageBuilder::Whiteout(const std::string& path) {
  CurrentEntries().push_back({{"type", "whiteout"}, {"path", path}});
  return *this;
}

OciImageBuilder& OciImageBuilder::OpaqueDir(const std::string& path) {
  CurrentEntries().push_back({{"type", "opaque"}, {"path", path}});
  return *this;
}

OciImageBuilder& OciImageBuilder::ZeroFile(const std::string& path, size_t size) {
  CurrentEntries().push_back({{"type", "file"}, {"path", path}, {"size", size}});
  return *this;
}

OciImageBuilder& OciImageBuilder::Config(nlohmann::json config) {
  CurrentImage()["config"] = std::move(config);
  return *this;
}

OciImageBuilder& OciImageBuilder::Uncompressed() {
  CurrentImage()["layers"].back()["compression"] = "none";
  return *this;
}

OciImageBuilder& OciImageBuilder::ForceIndex() {
  spec_["index"] = true;
  return *this;
}

absl::StatusOr<OciImage> OciImageBuilder::Build(const std::string& layout,
                                                const std::string& tag) const {
  nlohmann::json spec = spec_;
  spec["layout"] = layout;
  spec["tag"] = tag;
  absl::StatusOr<CommandResult> r =
      RunCommand(kSystemPython, {SourceDir() + "/tests/tools/mkoci.py", "--spec", "-"},
                 absl::Seconds(120), spec.dump());
  if (!r.ok()) return r.status();
  if (!r->ok()) return absl::InternalError(r->Describe());
  nlohmann::json out = nlohmann::json::parse(r->out, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded() || !out.contains("digest")) {
    return absl::InternalError(absl::StrCat("mkoci.py printed no summary: ", r->out));
  }
  OciImage image;
  image.layout = layout;
  image.tag = tag;
  image.digest = out["digest"].get<std::string>();
  image.media_type = out["mediaType"].get<std::string>();
  image.manifests = out["manifests"];
  return image;
}

}  // namespace portunus::harness
