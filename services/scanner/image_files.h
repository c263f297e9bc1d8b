// The interesting files of a whole image: the layers' kept entries applied bottom to top with
// OCI layer semantics (later layers replace paths, whiteouts delete them, opaque directories
// hide everything below them from earlier layers), with symlinks resolved inside the image.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/scanner/layer_reader.h"

namespace portunus::scanner {

// Immutable after Merge; thread-compatible.
class ImageFiles {
 public:
  // Applies `layers` in order (the manifest's order: base layer first).
  static ImageFiles Merge(const std::vector<const LayerContent*>& layers);

  // The content of the regular file at `path`, following symlinks inside the image (at most
  // 16 hops; an absolute target is relative to the image root); nullptr when there is none.
  const std::string* Find(absl::string_view path) const;

  // Names of the entries directly inside directory `dir` (symlinks on the way followed),
  // sorted.
  std::vector<std::string> List(absl::string_view dir) const;

  bool empty() const { return nodes_.empty(); }

 private:
  struct Node {
    LayerEntry::Type type;
    std::string data;
  };
  void ErasePrefix(const std::string& dir);
  // Rewrites `path` until no component is a symlink; false when it cannot resolve.
  bool Resolve(std::string* path, bool follow_last) const;

  std::map<std::string, Node> nodes_;
};

}  // namespace portunus::scanner
