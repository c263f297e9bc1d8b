#include "services/catalog/sync_coordinator.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace portunus::catalog {

bool IsValidSyncStrategy(const std::string& s) {
  return s == "update-delete" || s == "update" || s == "on-start" || s == "initial";
}

SyncCoordinator::SyncCoordinator(Options options, CatalogSyncer& syncer, SyncRunStore& runs,
                                 SyncLock& lock, CatalogStore& store, const Clock& clock)
    : options_(std::move(options)),
      syncer_(syncer),
      runs_(runs),
      lock_(lock),
      store_(store),
      clock_(clock) {}

SyncCoordinator::~SyncCoordinator() { Stop(); }

absl::StatusOr<SyncReport> SyncCoordinator::Begin(const std::string& trigger, bool dry_run,
                                                  bool force) {
  {
    absl::MutexLock lock(&mu_);
    if (running_) return absl::AbortedError("a sync pass is already running");
    if (stopping_) return absl::UnavailableError("the catalog service is shutting down");
    running_ = true;
  }
  auto release_local = [this] {
    absl::MutexLock lock(&mu_);
    running_ = false;
  };
  absl::StatusOr<bool> got = lock_.TryAcquire();
  if (!got.ok() || !*got) {
    release_local();
    if (!got.ok()) return got.status();
    return absl::AbortedError("a sync pass is already running on another catalog replica");
  }
  // Holding the lock, nobody else is syncing: RUNNING records are leftovers of dead replicas.
  absl::Status stale = runs_.AbandonStale(absl::InfiniteFuture());
  if (!stale.ok()) LogWarn("cannot mark abandoned sync passes", {{"error", stale}});
  SyncReport report;
  report.trigger = trigger;
  report.strategy = options_.strategy;
  report.dry_run = dry_run;
  report.force = force;
  report.replica = options_.replica;
  report.started_at = clock_.Now();
  absl::StatusOr<int64_t> id = runs_.Start(report);
  if (!id.ok()) {
    lock_.Release();
    release_local();
    return id.status();
  }
  report.id = *id;
  return report;
}

void SyncCoordinator::Execute(SyncReport report) {
  syncer_.Run(deletes(), &report, &cancel_);
  absl::Status s = runs_.Finish(report);
  if (!s.ok()) LogError("cannot record the sync pass", {{"id", report.id}, {"error", s}});
  lock_.Release();
  absl::MutexLock lock(&mu_);
  running_ = false;
}

absl::StatusOr<SyncReport> SyncCoordinator::RunPass(const std::string& trigger, bool dry_run,
                                                    bool force) {
  absl::StatusOr<SyncReport> report = Begin(trigger, dry_run, force);
  if (!report.ok()) return report.status();
  const int64_t id = report->id;
  Execute(std::move(*report));
  return runs_.Get(id);
}

absl::StatusOr<SyncReport> SyncCoordinator::StartPass(const std::string& trigger, bool dry_run,
                                                      bool force) {
  absl::StatusOr<SyncReport> report = Begin(trigger, dry_run, force);
  if (!report.ok()) return report.status();
  absl::MutexLock lock(&mu_);
  passes_.emplace_back([this, r = *report]() mutable { Execute(std::move(r)); });
  return *report;
}

void SyncCoordinator::WaitIdle() {
  std::vector<std::thread> done;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](bool* running) { return !*running; }, &running_));
    done.swap(passes_);
  }
  for (std::thread& t : done) t.join();
}

absl::StatusOr<SyncStatusInfo> SyncCoordinator::Status() {
  SyncStatusInfo info;
  info.enabled = options_.enabled;
  info.strategy = options_.strategy;
  if (options_.strategy == "update-delete" || options_.strategy == "update") {
    info.interval = options_.interval;
  }
  {
    absl::MutexLock lock(&mu_);
    info.running = running_;
  }
  absl::StatusOr<std::vector<SyncReport>> latest = runs_.List(1);
  if (!latest.ok()) return latest.status();
  if (!latest->empty() && latest->front().state == SyncState::kRunning) info.running = true;
  absl::StatusOr<std::optional<SyncReport>> applied = runs_.LastApplied();
  if (!applied.ok()) return applied.status();
  if (applied->has_value() && (*applied)->state == SyncState::kBraked) {
    info.brake_engaged = true;
    info.brake_reason = (*applied)->brake.reason;
  }
  absl::StatusOr<std::optional<SyncReport>> last = runs_.LastFinished();
  if (!last.ok()) return last.status();
  info.last_run = *last;
  return info;
}

void SyncCoordinator::Schedule() {
  const bool repeat = options_.strategy == "update-delete" || options_.strategy == "update";
  while (options_.ready && !options_.ready()) {
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500))) {
      startup_done_.Notify();
      return;
    }
  }
  bool first = true;
  for (;;) {
    bool run = true;
    if (first && options_.strategy == "initial") {
      absl::StatusOr<std::vector<std::string>> names = store_.RepositoryNames();
      run = names.ok() && names->empty();
      if (!names.ok()) LogWarn("sync: cannot read the catalog", {{"error", names.status()}});
    }
    if (run) {
      absl::StatusOr<SyncReport> r = RunPass(first ? "startup" : "schedule", false, false);
      if (!r.ok() && !absl::IsAborted(r.status())) {
        LogWarn("sync: pass not run", {{"error", r.status()}});
      }
    }
    if (first) startup_done_.Notify();
    first = false;
    if (!repeat) return;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

void SyncCoordinator::Start() {
  if (!options_.enabled) {
    startup_done_.Notify();
    return;
  }
  scheduler_ = std::thread([this] { Schedule(); });
}

void SyncCoordinator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cancel_.store(true);
  if (scheduler_.joinable()) scheduler_.join();
  WaitIdle();
}

}  // namespace portunus::catalog
