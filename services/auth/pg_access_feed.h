// PgAccessFeed: keeps this replica's view of the access model fresh with PostgreSQL
// LISTEN/NOTIFY. A dedicated connection (not from the pool) LISTENs on channel portunus_auth,
// which triggers on the auth tables notify on every committed change (migrations/0001). On
// connect and on every reconnect it loads everything again (notifications sent while it was
// away are lost), then applies each batch of notifications by re-reading the named rows.
//
// What it does with that is up to its AccessChangeListener (the auth module: refresh the
// AccessCache, drop cached credentials, bump the permissions generation).
//
// It is also the ChangeSync of the management directories: AwaitCatchUp() sends a marker
// notification after a write and waits until the feed has seen it, so this replica has applied
// the write (notifications are delivered in commit order).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "pqxx/pqxx"
#include "services/auth/access_cache.h"
#include "services/auth/directory_common.h"
#include "services/common/pg_pool.h"

namespace portunus::auth {

// Called on the feed's thread, one call at a time.
class AccessChangeListener {
 public:
  virtual ~AccessChangeListener() = default;
  // (Re)connected: `snapshot` is the whole model (null when the feed does not load facts).
  // Anything learned before may be stale.
  virtual void OnReload(std::shared_ptr<const AccessSnapshot> snapshot) = 0;
  // Committed changes. `changes` is empty when the feed does not load facts; `accounts` lists
  // the accounts whose credentials or access changed (users, and owners of revoked tokens).
  virtual void OnChanges(const AccessChanges& changes, const std::vector<int64_t>& accounts) = 0;
};

// Thread-safe.
class PgAccessFeed final : public ChangeSync {
 public:
  struct Options {
    std::string dsn;                                    // the feed's own connection
    bool load_facts = true;                             // false: only invalidations (cache off)
    absl::Duration poll = absl::Milliseconds(200);      // how often the loop checks for Stop
    absl::Duration reconnect_backoff = absl::Seconds(1);
    absl::Duration catch_up_timeout = absl::Seconds(2); // bound of AwaitCatchUp
    size_t full_reload_threshold = 500;                 // a bigger batch reloads everything
  };
  // `pool` sends the catch-up markers; it and `listener` must outlive the feed.
  PgAccessFeed(Options options, PgPool& pool, AccessChangeListener& listener);
  ~PgAccessFeed() override;

  // Starts the background thread. It keeps reconnecting until Stop().
  void Start();
  // Stops the thread (waits for it).
  void Stop();

  // True once the first load has been delivered and the connection is up.
  bool connected() const { return connected_.load(std::memory_order_acquire); }
  // Full loads delivered so far (1 after the first connect).
  int64_t reloads() const { return reloads_.load(std::memory_order_acquire); }
  // Waits until the first load was delivered, up to `timeout`; false on timeout.
  bool WaitUntilConnected(absl::Duration timeout);

  // ChangeSync: after a committed write, waits (at most catch_up_timeout) until the feed has
  // applied every change committed before this call. Returns at once while disconnected.
  void AwaitCatchUp() override;

 private:
  class Receiver;
  void Run();
  // One connection's life; returns when it breaks or Stop() was called.
  void Session();
  void HandleBatch(pqxx::connection& c, std::vector<std::string>& payloads);
  void Reload(pqxx::connection& c);

  const Options options_;
  PgPool& pool_;
  AccessChangeListener& listener_;
  const std::string marker_prefix_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> reloads_{0};
  std::atomic<uint64_t> next_marker_{0};
  std::thread thread_;
  absl::Notification stop_;

  absl::Mutex mu_;
  absl::CondVar markers_cv_;
  std::set<std::string> seen_markers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace portunus::auth
