#include "services/auth/pg_access_feed.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/auth/pg_access_loader.h"
#include "services/auth/secret_digest.h"
#include "services/common/log.h"

namespace portunus::auth {
namespace {

constexpr char kChannel[] = "portunus_auth";
constexpr char kMarkerPrefix[] = "sync:";
// Without notifications, the connection is checked this often (a silently dead connection, or
// one libpqxx re-opened behind our back, would otherwise miss notifications unnoticed).
constexpr absl::Duration kHealthCheck = absl::Seconds(5);

}  // namespace

class PgAccessFeed::Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& c, std::vector<std::string>* out)
      : pqxx::notification_receiver(c, kChannel), out_(out) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override { out_->push_back(payload); }

 private:
  std::vector<std::string>* out_;
};

PgAccessFeed::PgAccessFeed(Options options, PgPool& pool, AccessChangeListener& listener)
    : options_(std::move(options)),
      pool_(pool),
      listener_(listener),
      marker_prefix_(HexEncode(RandomBytes(8))) {}

PgAccessFeed::~PgAccessFeed() { Stop(); }

void PgAccessFeed::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void PgAccessFeed::Stop() {
  stopping_.store(true, std::memory_order_release);
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  connected_.store(false, std::memory_order_release);
  absl::MutexLock lock(&mu_);
  markers_cv_.SignalAll();
}

bool PgAccessFeed::WaitUntilConnected(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!connected()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

void PgAccessFeed::Run() {
  while (!stopping_.load(std::memory_order_acquire)) {
    Session();
    connected_.store(false, std::memory_order_release);
    if (stopping_.load(std::memory_order_acquire)) break;
    stop_.WaitForNotificationWithTimeout(options_.reconnect_backoff);
  }
}

void PgAccessFeed::Reload(pqxx::connection& c) {
  const absl::Time start = absl::Now();
  std::shared_ptr<const AccessSnapshot> snapshot;
  if (options_.load_facts) {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> w(c);
    std::shared_ptr<AccessSnapshot> loaded = LoadAllAccessFacts(w);
    w.commit();
    LogInfo("access model loaded", {{"accounts", loaded->user_count()},
                                    {"namespaces", loaded->namespaces().size()},
                                    {"seconds", absl::Now() - start}});
    snapshot = std::move(loaded);
  }
  listener_.OnReload(std::move(snapshot));
  reloads_.fetch_add(1, std::memory_order_acq_rel);
}

void PgAccessFeed::Session() {
  try {
    pqxx::connection c(options_.dsn);
    std::vector<std::string> payloads;
    Receiver receiver(c, &payloads);  // issues LISTEN before the load below
    const int pid = c.backendpid();
    Reload(c);
    if (!connected_.exchange(true)) LogInfo("access change feed connected");
    absl::Time last_check = absl::Now();
    const int64_t poll_us = absl::ToInt64Microseconds(options_.poll);
    while (!stopping_.load(std::memory_order_acquire)) {
      c.await_notification(poll_us / 1000000, poll_us % 1000000);
      if (!payloads.empty()) {
        // Take the whole batch before touching the connection again.
        std::vector<std::string> batch;
        batch.swap(payloads);
        while (c.get_notifs() > 0) {
          batch.insert(batch.end(), payloads.begin(), payloads.end());
          payloads.clear();
        }
        HandleBatch(c, batch);
        last_check = absl::Now();
      } else if (absl::Now() - last_check >= kHealthCheck) {
        pqxx::nontransaction n(c);
        n.exec("SELECT 1");
        if (c.backendpid() != pid) throw pqxx::broken_connection("connection was re-opened");
        last_check = absl::Now();
      }
    }
  } catch (const std::exception& e) {
    if (!stopping_.load(std::memory_order_acquire)) {
      LogWarn("access change feed disconnected; will reload on reconnect", {{"error", e.what()}});
    }
  }
}

void PgAccessFeed::HandleBatch(pqxx::connection& c, std::vector<std::string>& payloads) {
  std::set<int64_t> users, teams, namespaces, accounts;
  std::vector<std::string> markers;
  size_t objects = 0;
  for (const std::string& p : payloads) {
    if (absl::StartsWith(p, kMarkerPrefix)) {
      markers.push_back(p.substr(sizeof(kMarkerPrefix) - 1));
      continue;
    }
    const size_t colon = p.find(':');
    int64_t id = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(p.substr(colon + 1), &id)) {
      LogWarn("ignoring malformed access notification", {{"payload", p}});
      continue;
    }
    const std::string kind = p.substr(0, colon);
    ++objects;
    if (kind == "user") {
      users.insert(id);
      accounts.insert(id);
    } else if (kind == "token") {
      accounts.insert(id);
    } else if (kind == "team") {
      teams.insert(id);
    } else if (kind == "namespace") {
      namespaces.insert(id);
    }
  }
  if (objects > 0) {
    const std::vector<int64_t> changed_accounts(accounts.begin(), accounts.end());
    if (options_.load_facts && objects >= options_.full_reload_threshold) {
      Reload(c);
    } else {
      AccessChanges changes;
      if (options_.load_facts && (!users.empty() || !teams.empty() || !namespaces.empty())) {
        pqxx::read_transaction w(c);
        changes = LoadAccessChanges(w, users, teams, namespaces);
        w.commit();
      }
      listener_.OnChanges(changes, changed_accounts);
    }
  }
  if (!markers.empty()) {
    absl::MutexLock lock(&mu_);
    for (const std::string& m : markers) {
      if (absl::StartsWith(m, marker_prefix_)) seen_markers_.insert(m);
    }
    if (seen_markers_.size() > 1000) seen_markers_.clear();  // waiters that gave up
    markers_cv_.SignalAll();
  }
}

void PgAccessFeed::AwaitCatchUp() {
  if (!connected()) return;
  const std::string marker =
      absl::StrCat(marker_prefix_, ":", next_marker_.fetch_add(1, std::memory_order_relaxed));
  absl::Status sent = pool_.Transact([&](pqxx::work& w) {
    w.exec_params("SELECT pg_notify($1, $2)", std::string(kChannel), kMarkerPrefix + marker);
    return absl::OkStatus();
  });
  if (!sent.ok()) {
    LogWarn("cannot send access cache catch-up marker", {{"error", sent}});
    return;
  }
  const absl::Time deadline = absl::Now() + options_.catch_up_timeout;
  absl::MutexLock lock(&mu_);
  while (seen_markers_.count(marker) == 0) {
    if (!connected() || markers_cv_.WaitWithDeadline(&mu_, deadline)) {
      if (seen_markers_.count(marker) != 0) break;
      LogWarn("access cache did not catch up in time", {{"timeout", options_.catch_up_timeout}});
      return;
    }
  }
  seen_markers_.erase(marker);
}

}  // namespace portunus::auth
