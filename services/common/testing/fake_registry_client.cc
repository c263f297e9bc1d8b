#include "services/common/testing/fake_registry_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace portunus::testing {

BuiltImage BuildImage(const FakeImage& image) {
  BuiltImage built;
  nlohmann::json diff_ids = nlohmann::json::array();
  nlohmann::json layers = nlohmann::json::array();
  for (const std::string& content : image.layers) {
    const std::string d = Sha256Digest(content);
    built.layers.push_back(content);
    built.total_size += static_cast<int64_t>(content.size());
    diff_ids.push_back(d);
    layers.push_back({{"mediaType", image.docker_schema2
                                        ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                                        : "application/vnd.oci.image.layer.v1.tar+gzip"},
                      {"digest", d},
                      {"size", content.size()}});
  }
  nlohmann::json config = {{"architecture", image.architecture},
                           {"os", image.os},
                           {"created", image.created},
                           {"config", nlohmann::json::object()},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!image.variant.empty()) config["variant"] = image.variant;
  built.config = config.dump();
  built.config_digest = Sha256Digest(built.config);
  built.total_size += static_cast<int64_t>(built.config.size());
  built.media_type = image.docker_schema2 ? kMediaTypeDockerManifest : kMediaTypeOciManifest;
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", built.media_type},
      {"config",
       {{"mediaType", image.docker_schema2 ? "application/vnd.docker.container.image.v1+json"
                                           : "application/vnd.oci.image.config.v1+json"},
        {"digest", built.config_digest},
        {"size", built.config.size()}}},
      {"layers", layers}};
  built.manifest = manifest.dump();
  built.digest = Sha256Digest(built.manifest);
  return built;
}

std::string FakeRegistryClient::PushImageLocked(const std::string& repository,
                                                const std::string& tag, const FakeImage& image,
                                                std::string* config_digest,
                                                int64_t* manifest_size) {
  Repo& repo = repos_[repository];
  const BuiltImage built = BuildImage(image);
  for (const std::string& layer : built.layers) repo.blobs[Sha256Digest(layer)] = layer;
  repo.blobs[built.config_digest] = built.config;
  repo.manifests[built.digest] = Manifest{built.media_type, built.manifest};
  if (!tag.empty()) repo.tags[tag] = built.digest;
  if (config_digest != nullptr) *config_digest = built.config_digest;
  if (manifest_size != nullptr) *manifest_size = static_cast<int64_t>(built.manifest.size());
  return built.digest;
}

std::string FakeRegistryClient::PushImage(const std::string& repository, const std::string& tag,
                                          const FakeImage& image) {
  absl::MutexLock lock(&mu_);
  return PushImageLocked(repository, tag, image, nullptr, nullptr);
}

std::string FakeRegistryClient::PushIndex(const std::string& repository, const std::string& tag,
                                          const std::vector<FakeImage>& images) {
  absl::MutexLock lock(&mu_);
  nlohmann::json manifests = nlohmann::json::array();
  for (const FakeImage& image : images) {
    int64_t size = 0;
    const std::string d = PushImageLocked(repository, "", image, nullptr, &size);
    nlohmann::json platform = {{"os", image.os}, {"architecture", image.architecture}};
    if (!image.variant.empty()) platform["variant"] = image.variant;
    manifests.push_back({{"mediaType", image.docker_schema2 ? kMediaTypeDockerManifest
                                                            : kMediaTypeOciManifest},
                         {"digest", d},
                         {"size", size},
                         {"platform", platform}});
  }
  nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", kMediaTypeOciIndex}, {"manifests", manifests}};
  const std::string body = index.dump();
  const std::string digest = Sha256Digest(body);
  Repo& repo = repos_[repository];
  repo.manifests[digest] = Manifest{kMediaTypeOciIndex, body};
  repo.tags[tag] = digest;
  return digest;
}

std::string FakeRegistryClient::PutRawManifest(const std::string& repository,
                                               const std::string& tag,
                                               const std::string& media_type,
                                               const std::string& body) {
  absl::MutexLock lock(&mu_);
  const std::string digest = Sha256Digest(body);
  Repo& repo = repos_[repository];
  repo.manifests[digest] = Manifest{media_type, body};
  if (!tag.empty()) repo.tags[tag] = digest;
  return digest;
}

void FakeRegistryClient::PutBlob(const std::string& repository, const std::string& digest,
                                 std::string content) {
  absl::MutexLock lock(&mu_);
  repos_[repository].blobs[digest] = std::move(content);
}

void FakeRegistryClient::RemoveTag(const std::string& repository, const std::string& tag) {
  absl::MutexLock lock(&mu_);
  auto it = repos_.find(repository);
  if (it != repos_.end()) it->second.tags.erase(tag);
}

void FakeRegistryClient::RemoveRepository(const std::string& repository) {
  absl::MutexLock lock(&mu_);
  repos_.erase(repository);
}

void FakeRegistryClient::FailNextCall(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

void FakeRegistryClient::FailRepository(const std::string& repository, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    fail_repo_.erase(repository);
  } else {
    fail_repo_[repository] = std::move(status);
  }
}

void FakeRegistryClient::FailMethod(const std::string& method, absl::Status status) {
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    fail_method_.erase(method);
  } else {
    fail_method_[method] = std::move(status);
  }
}

void FakeRegistryClient::FailCatalog(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_catalog_ = std::move(status);
}

int64_t FakeRegistryClient::calls(const std::string& method) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(method);
  return it == calls_.end() ? 0 : it->second;
}

std::map<std::string, std::string> FakeRegistryClient::Tags(const std::string& repository) const {
  absl::MutexLock lock(&mu_);
  auto it = repos_.find(repository);
  return it == repos_.end() ? std::map<std::string, std::string>() : it->second.tags;
}

bool FakeRegistryClient::HasManifest(const std::string& repository,
                                     const std::string& digest) const {
  absl::MutexLock lock(&mu_);
  auto it = repos_.find(repository);
  return it != repos_.end() && it->second.manifests.count(digest) != 0;
}

std::vector<std::string> FakeRegistryClient::Repositories() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, repo] : repos_) {
    if (!repo.tags.empty()) out.push_back(name);
  }
  return out;
}

absl::Status FakeRegistryClient::Enter(const std::string& method, absl::string_view repository) {
  ++calls_[method];
  if (!fail_next_.ok()) {
    absl::Status s = fail_next_;
    fail_next_ = absl::OkStatus();
    return s;
  }
  auto it = fail_repo_.find(std::string(repository));
  if (it != fail_repo_.end()) return it->second;
  auto m = fail_method_.find(method);
  if (m != fail_method_.end()) return m->second;
  return absl::OkStatus();
}

absl::Status FakeRegistryClient::Ping() {
  absl::MutexLock lock(&mu_);
  return Enter("Ping", "");
}

absl::Status FakeRegistryClient::Catalog(
    int page_size, const std::function<absl::Status(std::vector<std::string> page)>& on_page) {
  std::vector<std::string> names;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Enter("Catalog", ""); !s.ok()) return s;
    if (!fail_catalog_.ok()) return fail_catalog_;
    // Like the registry: repositories that ever had content stay listed, even with no tags.
    for (const auto& [name, repo] : repos_) names.push_back(name);
  }
  if (page_size < 1) return absl::InvalidArgumentError("catalog page size must be at least 1");
  for (size_t i = 0; i < names.size(); i += static_cast<size_t>(page_size)) {
    std::vector<std::string> page(
        names.begin() + static_cast<std::ptrdiff_t>(i),
        names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), i + page_size)));
    if (absl::Status s = on_page(std::move(page)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakeRegistryClient::ListTags(
    absl::string_view repository) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("ListTags", repository); !s.ok()) return s;
  auto it = repos_.find(std::string(repository));
  if (it == repos_.end()) {
    return absl::NotFoundError(absl::StrCat("GET /v2/", repository, "/tags/list: 404 NAME_UNKNOWN"));
  }
  std::vector<std::string> tags;
  for (const auto& [tag, digest] : it->second.tags) tags.push_back(tag);
  return tags;
}

absl::StatusOr<FetchedManifest> FakeRegistryClient::GetManifest(absl::string_view repository,
                                                                absl::string_view reference) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("GetManifest", repository); !s.ok()) return s;
  auto it = repos_.find(std::string(repository));
  if (it == repos_.end()) return absl::NotFoundError("404 NAME_UNKNOWN");
  std::string digest(reference);
  if (!IsValidDigest(reference)) {
    auto t = it->second.tags.find(digest);
    if (t == it->second.tags.end()) return absl::NotFoundError("404 MANIFEST_UNKNOWN");
    digest = t->second;
  }
  auto m = it->second.manifests.find(digest);
  if (m == it->second.manifests.end()) return absl::NotFoundError("404 MANIFEST_UNKNOWN");
  return FetchedManifest{digest, m->second.media_type, m->second.body};
}

absl::StatusOr<ManifestHead> FakeRegistryClient::HeadManifest(absl::string_view repository,
                                                              absl::string_view reference) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("HeadManifest", repository); !s.ok()) return s;
  auto it = repos_.find(std::string(repository));
  if (it == repos_.end()) return absl::NotFoundError("404 NAME_UNKNOWN");
  std::string digest(reference);
  if (!IsValidDigest(reference)) {
    auto t = it->second.tags.find(digest);
    if (t == it->second.tags.end()) return absl::NotFoundError("404 MANIFEST_UNKNOWN");
    digest = t->second;
  }
  auto m = it->second.manifests.find(digest);
  if (m == it->second.manifests.end()) return absl::NotFoundError("404 MANIFEST_UNKNOWN");
  return ManifestHead{digest, m->second.media_type, static_cast<int64_t>(m->second.body.size())};
}

absl::StatusOr<int64_t> FakeRegistryClient::GetBlob(
    absl::string_view repository, absl::string_view digest,
    const std::function<absl::Status(absl::string_view chunk)>& on_chunk) {
  std::string content;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = Enter("GetBlob", repository); !s.ok()) return s;
    auto it = repos_.find(std::string(repository));
    if (it == repos_.end()) return absl::NotFoundError("404 NAME_UNKNOWN");
    auto b = it->second.blobs.find(std::string(digest));
    if (b == it->second.blobs.end()) return absl::NotFoundError("404 BLOB_UNKNOWN");
    content = b->second;
  }
  // Deliver in small chunks, like a network would.
  constexpr size_t kChunk = 4096;
  for (size_t i = 0; i < content.size(); i += kChunk) {
    if (absl::Status s = on_chunk(absl::string_view(content).substr(i, kChunk)); !s.ok()) return s;
  }
  return static_cast<int64_t>(content.size());
}

absl::StatusOr<std::string> FakeRegistryClient::PutManifest(absl::string_view repository,
                                                            absl::string_view reference,
                                                            absl::string_view media_type,
                                                            absl::string_view body) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("PutManifest", repository); !s.ok()) return s;
  const std::string digest = Sha256Digest(body);
  Repo& repo = repos_[std::string(repository)];
  repo.manifests[digest] = Manifest{std::string(media_type), std::string(body)};
  if (!IsValidDigest(reference)) repo.tags[std::string(reference)] = digest;
  return digest;
}

absl::Status FakeRegistryClient::DeleteManifest(absl::string_view repository,
                                                absl::string_view digest) {
  absl::MutexLock lock(&mu_);
  if (absl::Status s = Enter("DeleteManifest", repository); !s.ok()) return s;
  if (!IsValidDigest(digest)) return absl::InvalidArgumentError("manifests are deleted by digest");
  auto it = repos_.find(std::string(repository));
  if (it == repos_.end() || it->second.manifests.erase(std::string(digest)) == 0) {
    return absl::NotFoundError("404 MANIFEST_UNKNOWN");
  }
  for (auto t = it->second.tags.begin(); t != it->second.tags.end();) {
    t = t->second == digest ? it->second.tags.erase(t) : std::next(t);
  }
  return absl::OkStatus();
}

}  // namespace portunus::testing
