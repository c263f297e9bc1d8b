// CatalogSyncer: one reconciliation pass of the catalog against the registry's Catalog API,
// because notifications get lost (endpoint down, registry restarted). A pass:
//   1. lists /v2/_catalog completely (a failure here ends the pass: nothing is changed);
//   2. per repository, with bounded parallelism: reads what the catalog knows, lists the tags,
//      and learns each tag's digest (HEAD for known tags; GET for new ones, whose manifest is
//      then recorded with its config), and applies additions and updates in one short
//      transaction per repository (never one long transaction for the whole pass, which Portus
//      rolled back whenever an event arrived);
//   3. plans deletions: tags the registry no longer lists, and repositories it no longer lists
//      at all, but never for a repository whose listing failed in any way;
//   4. safety brake: when the deletions exceed max_delete_percent of the known tags (and
//      brake_min_deletes), deletes nothing unless `force`;
//   5. applies deletions per repository, each guarded by the tag's version so a tag an event
//      changed during the pass is left alone (the same guard protects additions and updates).
// A dry run does 1-4 and reports the difference without changing anything.
// Thread-safe to construct; one Run at a time (SyncCoordinator holds the cross-replica lock).
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "services/catalog/access_client.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/manifest_inspector.h"
#include "services/common/clock.h"
#include "services/common/registry_client.h"

namespace portunus::catalog {

class CatalogSyncer {
 public:
  struct Options {
    int page_size = 1000;          // /v2/_catalog?n= (the registry's default maximum)
    int parallelism = 8;           // repositories crawled at once
    double max_delete_percent = 20;
    int64_t brake_min_deletes = 10;  // the brake never engages for fewer deletions
    size_t max_changes = 1000;     // changes listed in a report
  };

  CatalogSyncer(Options options, CatalogStore& store, RegistryClient& registry,
                AccessClient& access, const Clock& clock);

  // Runs a pass. `report` carries trigger, strategy, dry_run and force in, and is filled with
  // the outcome (state, counts, failures, brake, changes). `deletes` false: never delete (the
  // `update` strategy). When `*cancel` becomes true the crawl stops early and the pass ends
  // FAILED without deleting anything.
  void Run(bool deletes, SyncReport* report, const std::atomic<bool>* cancel = nullptr);

 private:
  struct RepoResult;
  void CrawlRepository(const std::string& name, bool known, bool dry_run, RepoResult* result);
  absl::StatusOr<int64_t> NamespaceId(const std::string& name);
  void AddChange(SyncReport* report, SyncChange change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  CatalogStore& store_;
  RegistryClient& registry_;
  AccessClient& access_;
  const Clock& clock_;
  ManifestInspector inspector_;
  absl::Mutex mu_;
  std::map<std::string, int64_t> namespace_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::catalog
