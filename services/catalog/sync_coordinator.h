// SyncCoordinator decides when sync passes run and makes sure only one runs at a time across
// every catalog replica (SyncLock: a PostgreSQL advisory lock) and within this one. Strategies
// (Portus's names and meanings):
//   update-delete  a pass at startup and every `interval`, adding, updating and deleting;
//   update         the same, but never deleting;
//   on-start       one update-delete pass at startup;
//   initial        one update-delete pass at startup, only while the catalog is empty
//                  (the default: notifications are the primary source).
// Passes requested through the API (POST /api/v1/sync, portunusctl sync) run whatever the
// strategy (deleting unless the strategy is `update`), with dry_run and force as asked. Every
// pass is recorded (SyncRunStore); the last applied pass's brake is the current brake state.
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "services/catalog/catalog_store.h"
#include "services/catalog/catalog_syncer.h"
#include "services/common/clock.h"

namespace portunus::catalog {

struct SyncStatusInfo {
  bool enabled = false;
  std::string strategy;
  absl::Duration interval;  // ZeroDuration for the one-off strategies
  bool running = false;
  bool brake_engaged = false;
  std::string brake_reason;
  std::optional<SyncReport> last_run;  // last finished pass
};

// The valid strategy names.
bool IsValidSyncStrategy(const std::string& strategy);

class SyncCoordinator {
 public:
  struct Options {
    bool enabled = true;  // false: no scheduled passes (API passes still run)
    std::string strategy = "initial";
    absl::Duration interval = absl::Minutes(15);
    std::string replica;  // recorded with each pass
    // The schedule waits until this says yes (database migrated); null: always.
    std::function<bool()> ready;
  };

  SyncCoordinator(Options options, CatalogSyncer& syncer, SyncRunStore& runs, SyncLock& lock,
                  CatalogStore& store, const Clock& clock);
  ~SyncCoordinator();

  // Starts the schedule in the background (the startup pass first, per the strategy).
  void Start();
  // Stops the schedule and waits for a running pass to finish.
  void Stop();

  // Starts a pass in the background and returns it as RUNNING. kAborted when a pass is
  // running here or on another replica.
  absl::StatusOr<SyncReport> StartPass(const std::string& trigger, bool dry_run, bool force);
  // Runs a pass to completion on the calling thread (same locking; kAborted when busy).
  absl::StatusOr<SyncReport> RunPass(const std::string& trigger, bool dry_run, bool force);

  absl::StatusOr<SyncStatusInfo> Status();
  absl::StatusOr<SyncReport> Get(int64_t id) { return runs_.Get(id); }
  absl::StatusOr<std::vector<SyncReport>> List(int limit) { return runs_.List(limit); }

  // Blocks until no pass started by this coordinator is running (tests).
  void WaitIdle();
  // Blocks until the startup step of the schedule (a pass or the decision not to run one) is
  // over (tests).
  void WaitStartup() { startup_done_.WaitForNotification(); }

 private:
  // Takes both locks and records the pass; the caller must run and Finish it.
  absl::StatusOr<SyncReport> Begin(const std::string& trigger, bool dry_run, bool force);
  void Execute(SyncReport report);
  void Schedule();
  bool deletes() const { return options_.strategy != "update"; }

  const Options options_;
  CatalogSyncer& syncer_;
  SyncRunStore& runs_;
  SyncLock& lock_;
  CatalogStore& store_;
  const Clock& clock_;

  absl::Mutex mu_;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};
  std::thread scheduler_;
  absl::Notification startup_done_;
  std::vector<std::thread> passes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::catalog
