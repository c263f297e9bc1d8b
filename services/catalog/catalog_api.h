// CatalogApi: the catalog's answers to callers (REST through the gateway, portunusctl, the
// scanner), each filtered by what the caller may pull, and the two deletes.
//
// Visibility: listings contain only repositories of namespaces the caller may pull
// (AccessClient::PullableNamespaces) plus the global namespace (always public); a single item
// the caller may not see is kNotFound, never kPermissionDenied, so its existence does not leak.
// Anonymous callers browse public namespaces while anonymous browsing is enabled and get
// kUnauthenticated otherwise.
//
// Deleting a tag deletes only that tag. The registry can only delete a manifest by digest,
// which takes every tag pointing at it (Portus deleted them all, SUSE/Portus#2238), so when
// sibling tags share the digest the manifest is deleted and the exact same bytes are put back
// under each sibling. During that window (two registry round trips per sibling, milliseconds)
// the siblings are missing: a pull of a sibling in that moment gets 404. The siblings are
// recorded as put-backs before the delete (CatalogWriter::RecordPutBacks), so the registry's
// delete events and sync passes applied inside the window keep them and their repository: ids
// never change. Thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/catalog/access_client.h"
#include "services/catalog/catalog_store.h"
#include "services/common/clock.h"
#include "services/common/registry_client.h"

namespace portunus::catalog {

struct TagGroupRecord {
  std::string digest;
  std::vector<TagRecord> tags;
};

class CatalogApi {
 public:
  struct Options {
    bool anonymous_browsing = true;
    int put_back_attempts = 3;  // per sibling tag, when deleting a tag
    // How long a recorded put-back protects its tag (CatalogWriter::RecordPutBacks) when the
    // delete never finishes (its replica died); a finished delete forgets it at once.
    absl::Duration put_back_ttl = absl::Minutes(10);
  };

  CatalogApi(Options options, CatalogStore& store, RegistryClient& registry, AccessClient& access,
             const Clock& clock);

  // kUnauthenticated for wrong credentials; kUnavailable when auth is down.
  absl::StatusOr<Caller> Authenticate(const CallerCredentials& credentials);

  // namespace_id > 0: one namespace; `query`: full-name substring (search).
  absl::StatusOr<std::pair<std::vector<RepositoryRecord>, int64_t>> ListRepositories(
      const Caller& caller, int64_t namespace_id, const std::string& query,
      const PageRequest& page);
  absl::StatusOr<RepositoryRecord> GetRepository(const Caller& caller, int64_t id);
  absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> ListTags(const Caller& caller,
                                                                      int64_t repository_id,
                                                                      const PageRequest& page);
  // Tags of the repository grouped by digest, the most recently updated group first.
  absl::StatusOr<std::vector<TagGroupRecord>> GroupedTags(const Caller& caller,
                                                          int64_t repository_id);
  absl::StatusOr<TagRecord> GetTag(const Caller& caller, int64_t id);
  // Admins only (kPermissionDenied otherwise): every tag.
  absl::StatusOr<std::pair<std::vector<TagRecord>, int64_t>> ListAllTags(const Caller& caller,
                                                                         const PageRequest& page);

  // Deletes one tag in the registry and the catalog (see above). Returns the sibling tags put
  // back. kPermissionDenied without the delete permission; kFailedPrecondition when the
  // registry has deletes disabled, or when it refuses to let the catalog put a manifest back
  // (tried on the first sibling before deleting anything: nothing is deleted then); when
  // putting a sibling back fails after retries, kUnavailable naming the tags that are missing
  // from the registry (they leave the catalog too).
  absl::StatusOr<std::vector<std::string>> DeleteTag(const Caller& caller, int64_t id);
  // Deletes every manifest of the repository in the registry, then the repository. Returns the
  // number of manifests deleted.
  absl::StatusOr<int> DeleteRepository(const Caller& caller, int64_t id);

  // The new-manifest feed and stored manifests: INTERNAL principal or admins.
  absl::StatusOr<CatalogStore::FeedPage> ListFeed(const Caller& caller, int64_t after_seq,
                                                  int limit);
  absl::StatusOr<ManifestInfo> GetManifest(const Caller& caller, const std::string& repository,
                                           const std::string& digest);

  // kOk for admins and the internal principal; kUnauthenticated (anonymous) or
  // kPermissionDenied otherwise.
  static absl::Status RequirePrivileged(const Caller& caller);

 private:
  absl::StatusOr<NamespaceFilter> Visible(const Caller& caller);
  absl::Status RequireDelete(const Caller& caller, const std::string& repository);
  void ForgetPutBacks(const std::string& repository, const std::vector<std::string>& tags);

  const Options options_;
  CatalogStore& store_;
  RegistryClient& registry_;
  AccessClient& access_;
  const Clock& clock_;
};

}  // namespace portunus::catalog
