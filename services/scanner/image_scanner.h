// ImageScanner: inventories one manifest (an index: each of its linux platform images) from its
// source, reading each layer only once across all images (the store keeps what a layer holds),
// matches the inventory against the vulnerability data of its distribution release, and stores
// the result. It also re-matches stored inventories after a feed update, without fetching
// anything.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/scanner/advisory_store.h"
#include "services/scanner/blob_source.h"
#include "services/scanner/image_manifest.h"
#include "services/scanner/layer_reader.h"
#include "services/scanner/rpm_database.h"
#include "services/scanner/scan_store.h"

namespace portunus::scanner {

// Caches the advisory index of each ecosystem for the store's current feed generation; any
// import (a new generation) drops the cache. Thread-safe.
class AdvisoryCache {
 public:
  explicit AdvisoryCache(AdvisoryStore& store) : store_(store) {}
  struct Entry {
    std::shared_ptr<const AdvisoryIndex> index;
    int64_t generation = 0;
    std::string feed_versions;  // "name@time, ..." of every source
  };
  // Errors: the store's.
  absl::StatusOr<Entry> Get(const std::string& ecosystem);

 private:
  AdvisoryStore& store_;
  std::mutex mu_;
  int64_t generation_ = -1;
  std::string feed_versions_;
  std::map<std::string, std::shared_ptr<const AdvisoryIndex>> indexes_;
};

class ImageScanner {
 public:
  struct Options {
    LayerLimits limits;
    std::string scanner_version = "portunus-scanner";
    int max_platforms = 32;  // platform images scanned per index
  };
  // Everything borrowed must outlive the scanner. `rpm` may be null (rpm images then fail).
  ImageScanner(Options options, ManifestSource& manifests, BlobSource& blobs, ScanStore& store,
               AdvisoryCache& advisories, const RpmDatabaseReader* rpm, Clock& clock)
      : options_(std::move(options)), manifests_(manifests), blobs_(blobs), store_(store),
        advisories_(advisories), rpm_(rpm), clock_(clock) {}

  // Scans `digest` of `repository` and stores its result (and its platform images' results).
  // Errors (nothing stored for them; the caller records failures): the source's kNotFound /
  // kUnavailable, kInvalidArgument for a manifest that does not match its digest or is not a
  // container image, the layer reader's errors for a hostile layer, the inventory's for garbage
  // package databases, the store's.
  absl::Status Scan(const std::string& repository, const std::string& digest);

  // Matches a stored platform-image inventory again and stores the result. Returns the
  // vulnerability ids the manifest did not have before.
  absl::StatusOr<std::vector<std::string>> Rematch(const ManifestRecord& record);

  // Recomputes an index's result from its platform images' results.
  absl::Status AggregateIndex(const std::string& index_digest);

  // Re-matches every stored inventory (indexes included) and records which manifests gained
  // vulnerabilities at the current feed generation. Returns those changes.
  absl::StatusOr<std::vector<RematchChange>> RematchAll();

 private:
  absl::StatusOr<ManifestRecord> Inventory(const std::string& repository, const std::string& digest,
                                           const ParsedManifest& manifest, const std::string& platform);
  absl::StatusOr<std::vector<Finding>> MatchAndStore(const ManifestRecord& record, bool full_scan);

  const Options options_;
  ManifestSource& manifests_;
  BlobSource& blobs_;
  ScanStore& store_;
  AdvisoryCache& advisories_;
  const RpmDatabaseReader* const rpm_;
  Clock& clock_;
};

}  // namespace portunus::scanner
