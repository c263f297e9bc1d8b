#include "services/scanner/image_files.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/scanner/image_paths.h"

namespace portunus::scanner {
namespace {

constexpr int kMaxHops = 16;

// Where a symlink at `link` pointing to `target` leads, as a normalised image path.
std::string LinkDestination(absl::string_view link, absl::string_view target) {
  if (absl::StartsWith(target, "/")) return NormalizeImagePath(target);
  return NormalizeImagePath(absl::StrCat(PathDirname(link), "/", target));
}

}  // namespace

void ImageFiles::ErasePrefix(const std::string& dir) {
  if (dir.empty()) {
    nodes_.clear();
    return;
  }
  const std::string prefix = dir + "/";
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && absl::StartsWith(it->first, prefix);) {
    it = nodes_.erase(it);
  }
}

ImageFiles ImageFiles::Merge(const std::vector<const LayerContent*>& layers) {
  ImageFiles out;
  for (const LayerContent* layer : layers) {
    // Whiteouts and opaque markers act on the layers below only, so they go first.
    for (const LayerEntry& e : layer->entries) {
      if (e.type == LayerEntry::Type::kWhiteout) {
        out.nodes_.erase(e.path);
        out.ErasePrefix(e.path);
      } else if (e.type == LayerEntry::Type::kOpaque) {
        out.ErasePrefix(e.path);
      }
    }
    for (const LayerEntry& e : layer->entries) {
      switch (e.type) {
        case LayerEntry::Type::kWhiteout:
        case LayerEntry::Type::kOpaque:
          break;
        case LayerEntry::Type::kDirectory:
          out.nodes_.erase(e.path);  // a directory replaced the file; what is below stays
          break;
        case LayerEntry::Type::kFile:
        case LayerEntry::Type::kSymlink:
        case LayerEntry::Type::kOther:
          // A non-directory replaces whatever was at this path, including a whole directory.
          out.ErasePrefix(e.path);
          out.nodes_[e.path] = Node{e.type, e.data};
          break;
      }
    }
  }
  return out;
}

bool ImageFiles::Resolve(std::string* path, bool follow_last) const {
  for (int hops = 0; hops <= kMaxHops; ++hops) {
    bool rewritten = false;
    // Check every proper prefix (and the path itself when following it) for a symlink.
    size_t pos = 0;
    while (!rewritten) {
      const size_t slash = path->find('/', pos);
      const bool last = slash == std::string::npos;
      if (last && !follow_last) return true;
      const std::string prefix = last ? *path : path->substr(0, slash);
      auto it = nodes_.find(prefix);
      if (it != nodes_.end()) {
        if (it->second.type == LayerEntry::Type::kSymlink) {
          const std::string rest = last ? "" : path->substr(slash);
          *path = LinkDestination(prefix, it->second.data) + rest;
          if (!path->empty() && (*path)[0] == '/') path->erase(0, 1);
          rewritten = true;
          break;
        }
        if (!last && it->second.type != LayerEntry::Type::kSymlink) {
          return false;  // a file where a directory should be
        }
      }
      if (last) return true;
      pos = slash + 1;
    }
  }
  return false;  // symlink loop or too many hops
}

const std::string* ImageFiles::Find(absl::string_view path) const {
  std::string p = NormalizeImagePath(path);
  if (!Resolve(&p, /*follow_last=*/true)) return nullptr;
  auto it = nodes_.find(p);
  if (it == nodes_.end() || it->second.type != LayerEntry::Type::kFile) return nullptr;
  return &it->second.data;
}

std::vector<std::string> ImageFiles::List(absl::string_view dir) const {
  std::vector<std::string> names;
  std::string d = NormalizeImagePath(dir);
  if (!Resolve(&d, /*follow_last=*/true)) return names;
  const std::string prefix = d + "/";
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && absl::StartsWith(it->first, prefix);
       ++it) {
    absl::string_view rest = absl::string_view(it->first).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == absl::string_view::npos) names.emplace_back(rest);
  }
  return names;
}

}  // namespace portunus::scanner
