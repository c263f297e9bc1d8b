// Builds OCI images offline for tests (there is no container engine here): a C++ front end to
// tests/tools/mkoci.py (run with /usr/bin/python3). Layers hold arbitrary files (e.g.
// var/lib/dpkg/status for the scanner), directories, symlinks and whiteouts; an image may have
// several platforms, which makes an OCI index. Digests are deterministic.
//
//   OciImageBuilder b;
//   b.File("var/lib/dpkg/status", "Package: openssl\n...").Layer().Whiteout("etc/passwd");
//   absl::StatusOr<OciImage> img = b.Build(dir.Sub("layout"), "v1");
//   skopeo.Copy(img->ref(), "docker://" + registry->host_port() + "/ns/app:v1", ...);
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace portunus::harness {

struct OciImage {
  std::string layout;  // the OCI layout directory
  std::string tag;
  std::string digest;      // the manifest's (or, for several platforms, the index's) digest
  std::string media_type;  // OCI manifest or OCI index
  // One entry per platform: {"digest", "platform": {...}, "config": {...}, "layers": [...]}.
  nlohmann::json manifests;
  // "oci:<layout>:<tag>", the skopeo source reference.
  std::string ref() const { return "oci:" + layout + ":" + tag; }
};

class OciImageBuilder {
 public:
  // The first platform (linux/amd64 with one empty layer) exists from the start.
  OciImageBuilder();

  // Sets the current platform's os/architecture/variant.
  OciImageBuilder& Platform(const std::string& os, const std::string& arch,
                            const std::string& variant = "");
  // Starts another platform (linux/amd64 by default, one empty layer) for a multi-platform index.
  OciImageBuilder& AddPlatform(const std::string& os, const std::string& arch,
                               const std::string& variant = "");
  // Starts a new layer in the current platform.
  OciImageBuilder& Layer();
  // Entries of the current layer. Paths are relative ("var/lib/dpkg/status").
  OciImageBuilder& File(const std::string& path, const std::string& content, int mode = 0644);
  OciImageBuilder& Dir(const std::string& path, int mode = 0755);
  OciImageBuilder& Symlink(const std::string& path, const std::string& target);
  // `path` deleted by this layer (.wh.<name>); OpaqueDir hides everything below `path` from
  // lower layers (.wh..wh..opq).
  OciImageBuilder& Whiteout(const std::string& path);
  OciImageBuilder& OpaqueDir(const std::string& path);
  // A file of `size` zero bytes (for size limits and upload tests).
  OciImageBuilder& ZeroFile(const std::string& path, size_t size);
  // The current platform's image config ("Env", "Cmd", "Labels", ...).
  OciImageBuilder& Config(nlohmann::json config);
  // Store the current layer uncompressed (application/vnd.oci.image.layer.v1.tar).
  OciImageBuilder& Uncompressed();
  // Always write an index, even for one platform.
  OciImageBuilder& ForceIndex();

  // Writes the image into `layout` (created, or extended when it holds other tags) as `tag`.
  absl::StatusOr<OciImage> Build(const std::string& layout, const std::string& tag) const;

  // The spec handed to mkoci.py.
  const nlohmann::json& spec() const { return spec_; }

 private:
  nlohmann::json& CurrentImage();
  nlohmann::json& CurrentEntries();
  nlohmann::json spec_;
};

}  // namespace portunus::harness
