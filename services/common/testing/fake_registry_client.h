// FakeRegistryClient: an in-memory registry for domain tests (catalog processing and sync,
// scanner layer streaming). It keeps repositories, tags, manifests and blobs, applies the
// registry's semantics (deleting a digest removes every tag pointing at it, tag lists come back
// sorted), counts calls, and can fail on demand. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/common/registry_client.h"

namespace portunus::testing {

// What PushImage builds: an OCI (or Docker schema2) image manifest with its config blob.
struct FakeImage {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;
  std::string created = "2026-11-01T10:00:00Z";  // config "created"
  std::vector<std::string> layers = {"layer-1"};  // layer contents (one blob each)
  bool docker_schema2 = false;
};

// The blobs and manifest of a FakeImage, exactly as pushed.
struct BuiltImage {
  std::string config;               // config blob bytes
  std::string config_digest;
  std::vector<std::string> layers;  // layer blob bytes
  std::string media_type;           // manifest media type
  std::string manifest;             // manifest bytes
  std::string digest;               // manifest digest
  int64_t total_size = 0;           // config + layers
};
BuiltImage BuildImage(const FakeImage& image);

class FakeRegistryClient final : public RegistryClient {
 public:
  // --- setting up content ---
  // Stores the config and layer blobs and the manifest, tags it, returns the manifest digest.
  std::string PushImage(const std::string& repository, const std::string& tag,
                        const FakeImage& image = FakeImage());
  // Pushes one image per entry (untagged) and an OCI index over them tagged `tag`.
  std::string PushIndex(const std::string& repository, const std::string& tag,
                        const std::vector<FakeImage>& images);
  // Stores raw manifest bytes under `tag` (digest = sha256 of body).
  std::string PutRawManifest(const std::string& repository, const std::string& tag,
                             const std::string& media_type, const std::string& body);
  void PutBlob(const std::string& repository, const std::string& digest, std::string content);
  void RemoveTag(const std::string& repository, const std::string& tag);
  void RemoveRepository(const std::string& repository);

  // --- failure injection ---
  // The next call (any method) fails with `status`.
  void FailNextCall(absl::Status status);
  // Every call touching `repository` fails with `status` until cleared with OkStatus().
  void FailRepository(const std::string& repository, absl::Status status);
  // Every catalog call fails with `status` until cleared with OkStatus().
  void FailCatalog(absl::Status status);
  // Every call of `method` ("PutManifest", ...) fails with `status` until cleared.
  void FailMethod(const std::string& method, absl::Status status);

  // --- inspection ---
  int64_t calls(const std::string& method) const;  // "GetManifest", "HeadManifest", ...
  std::map<std::string, std::string> Tags(const std::string& repository) const;  // tag -> digest
  bool HasManifest(const std::string& repository, const std::string& digest) const;
  std::vector<std::string> Repositories() const;

  // --- RegistryClient ---
  absl::Status Ping() override;
  absl::Status Catalog(int page_size,
                       const std::function<absl::Status(std::vector<std::string> page)>& on_page) override;
  absl::StatusOr<std::vector<std::string>> ListTags(absl::string_view repository) override;
  absl::StatusOr<FetchedManifest> GetManifest(absl::string_view repository,
                                              absl::string_view reference) override;
  absl::StatusOr<ManifestHead> HeadManifest(absl::string_view repository,
                                            absl::string_view reference) override;
  absl::StatusOr<int64_t> GetBlob(
      absl::string_view repository, absl::string_view digest,
      const std::function<absl::Status(absl::string_view chunk)>& on_chunk) override;
  absl::StatusOr<std::string> PutManifest(absl::string_view repository, absl::string_view reference,
                                          absl::string_view media_type,
                                          absl::string_view body) override;
  absl::Status DeleteManifest(absl::string_view repository, absl::string_view digest) override;

 private:
  struct Manifest {
    std::string media_type;
    std::string body;
  };
  struct Repo {
    std::map<std::string, std::string> tags;  // tag -> digest
    std::map<std::string, Manifest> manifests;
    std::map<std::string, std::string> blobs;
  };
  absl::Status Enter(const std::string& method, absl::string_view repository)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string PushImageLocked(const std::string& repository, const std::string& tag,
                              const FakeImage& image, std::string* config_digest,
                              int64_t* manifest_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Repo> repos_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_next_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_catalog_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> fail_repo_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> fail_method_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::testing
