// In-memory ScanStore for domain tests, following PgScanStore's contract (same queue rules,
// result paging and summaries), with a FailNextCall knob. Thread-safe.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/scanner/scan_store.h"

// Returns the injected failure, once.
#define PORTUNUS_FAKE_FAIL()                 \
  if (!fail_.ok()) {                         \
    absl::Status portunus_fail_ = fail_;     \
    fail_ = absl::OkStatus();                \
    return portunus_fail_;                   \
  }

namespace portunus::scanner {

class FakeScanStore final : public ScanStore {
 public:
  explicit FakeScanStore(Clock& clock) : clock_(clock) {}

  void FailNextCall(absl::Status s) {
    absl::MutexLock l(&mu_);
    fail_ = std::move(s);
  }

  absl::StatusOr<int64_t> EnqueueScan(const std::string& repository, const std::string& digest,
                                      bool force, absl::Time not_before) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    if (repository.empty() || digest.empty()) return absl::InvalidArgumentError("repository and digest are required");
    for (auto& [id, j] : jobs_) {
      if (j.job.kind == ScanJob::Kind::kScan && j.job.digest == digest && Pending(j)) return id;
    }
    Job j;
    j.job.id = ++next_id_;
    j.job.repository = repository;
    j.job.digest = digest;
    j.job.force = force;
    j.not_before = not_before;
    jobs_[j.job.id] = j;
    ScanSummary& s = results_[digest].summary;
    s.digest = digest;
    s.status = ScanStatus::kWorking;
    return j.job.id;
  }
  absl::StatusOr<int64_t> EnqueueRescanAll() override {
    std::vector<std::pair<std::string, std::string>> all;
    {
      absl::MutexLock l(&mu_);
      for (const auto& [d, m] : manifests_) all.emplace_back(m.repository, d);
    }
    for (const auto& [repo, d] : all) {
      absl::StatusOr<int64_t> id = EnqueueScan(repo, d, true, clock_.Now());
      if (!id.ok()) return id.status();
    }
    return static_cast<int64_t>(all.size());
  }
  absl::StatusOr<int64_t> EnqueueRematch() override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    for (auto& [id, j] : jobs_) {
      if (j.job.kind == ScanJob::Kind::kRematch && Pending(j)) return id;
    }
    Job j;
    j.job.id = ++next_id_;
    j.job.kind = ScanJob::Kind::kRematch;
    j.not_before = clock_.Now();
    jobs_[j.job.id] = j;
    return j.job.id;
  }
  absl::StatusOr<std::optional<ScanJob>> ClaimJob(const std::string& worker, absl::Duration lease) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    const absl::Time now = clock_.Now();
    for (auto& [id, j] : jobs_) {
      const bool ready = (j.state == "queued" && j.not_before <= now) ||
                         (j.state == "running" && j.lease_until < now);
      if (!ready) continue;
      j.state = "running";
      j.worker = worker;
      j.lease_until = now + lease;
      ++j.job.attempts;
      return std::optional<ScanJob>(j.job);
    }
    return std::optional<ScanJob>();
  }
  absl::Status FinishJob(int64_t id) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::NotFoundError("no such job");
    it->second.state = "done";
    return absl::OkStatus();
  }
  absl::Status FailJob(int64_t id, const std::string& error, std::optional<absl::Time> retry_at) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::NotFoundError("no such job");
    it->second.error = error;
    if (retry_at) {
      it->second.state = "queued";
      it->second.not_before = *retry_at;
    } else {
      it->second.state = "failed";
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> PendingJobs() override {
    absl::MutexLock l(&mu_);
    int64_t n = 0;
    for (auto& [id, j] : jobs_) n += Pending(j) ? 1 : 0;
    return n;
  }

  absl::StatusOr<LayerContent> GetLayer(const std::string& digest) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = layers_.find(digest);
    if (it == layers_.end()) return absl::NotFoundError("layer not read yet");
    return it->second;
  }
  absl::Status PutLayer(const std::string& digest, const LayerContent& content) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    layers_[digest] = content;
    ++layer_puts_;
    return absl::OkStatus();
  }
  absl::StatusOr<ManifestRecord> GetManifest(const std::string& digest) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = manifests_.find(digest);
    if (it == manifests_.end()) return absl::NotFoundError("manifest not inventoried");
    return it->second;
  }
  absl::Status PutManifest(const ManifestRecord& record) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    manifests_[record.digest] = record;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<ManifestRecord>> ListImageManifests(const std::string& after, int64_t limit) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    std::vector<ManifestRecord> out;
    for (auto it = manifests_.upper_bound(after); it != manifests_.end() && static_cast<int64_t>(out.size()) < limit; ++it) {
      if (it->second.children.empty()) out.push_back(it->second);
    }
    return out;
  }
  absl::StatusOr<std::vector<std::string>> IndexesContaining(const std::string& child) override {
    absl::MutexLock l(&mu_);
    std::vector<std::string> out;
    for (const auto& [d, m] : manifests_) {
      if (std::find(m.children.begin(), m.children.end(), child) != m.children.end()) out.push_back(d);
    }
    return out;
  }

  absl::Status PutResult(const ScanSummary& summary, const std::vector<Finding>& findings) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    Result& r = results_[summary.digest];
    r.summary = summary;
    r.summary.error.clear();
    r.findings = findings;
    r.has_findings = true;
    return absl::OkStatus();
  }
  absl::Status PutFailure(const std::string& digest, const std::string& error, absl::Time at) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    Result& r = results_[digest];
    r.summary.digest = digest;
    r.summary.status = ScanStatus::kFailed;
    r.summary.error = error;
    r.summary.scanned_at = at;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Finding>> GetFindings(const std::string& digest) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = results_.find(digest);
    if (it == results_.end() || !it->second.has_findings) return absl::NotFoundError("no result");
    return it->second.findings;
  }
  absl::StatusOr<ResultPage> GetResults(const ResultPageRequest& req) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto it = results_.find(req.digest);
    if (it == results_.end()) return absl::NotFoundError("no scan result for " + req.digest);
    ResultPage page;
    page.summary = it->second.summary;
    std::vector<Finding> filtered;
    for (const Finding& f : it->second.findings) {
      if (f.severity < req.min_severity) continue;
      if (!req.severities.empty() &&
          std::find(req.severities.begin(), req.severities.end(), f.severity) == req.severities.end()) {
        continue;
      }
      filtered.push_back(f);
    }
    page.total = static_cast<int64_t>(filtered.size());
    for (int64_t i = req.offset; i < page.total && i < req.offset + req.limit; ++i) {
      page.findings.push_back(filtered[static_cast<size_t>(i)]);
    }
    return page;
  }
  absl::StatusOr<std::vector<ScanSummary>> GetSummaries(const std::vector<std::string>& digests) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    std::vector<ScanSummary> out;
    for (const std::string& d : digests) {
      auto it = results_.find(d);
      if (it == results_.end()) {
        ScanSummary s;
        s.digest = d;
        out.push_back(s);
      } else {
        out.push_back(it->second.summary);
      }
    }
    return out;
  }
  absl::Status RecordRematchChanges(int64_t generation, const std::vector<RematchChange>& changes) override {
    absl::MutexLock l(&mu_);
    PORTUNUS_FAKE_FAIL();
    auto& v = changes_[generation];
    v.insert(v.end(), changes.begin(), changes.end());
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<RematchChange>> ListRematchChanges(int64_t generation) override {
    absl::MutexLock l(&mu_);
    return changes_[generation];
  }

  int layer_puts() {
    absl::MutexLock l(&mu_);
    return layer_puts_;
  }
  std::string JobState(int64_t id) {
    absl::MutexLock l(&mu_);
    return jobs_.count(id) ? jobs_[id].state : "";
  }
  std::string JobError(int64_t id) {
    absl::MutexLock l(&mu_);
    return jobs_.count(id) ? jobs_[id].error : "";
  }

 private:
  struct Job {
    ScanJob job;
    std::string state = "queued";
    absl::Time not_before;
    absl::Time lease_until;
    std::string worker;
    std::string error;
  };
  struct Result {
    ScanSummary summary;
    std::vector<Finding> findings;
    bool has_findings = false;
  };
  static bool Pending(const Job& j) { return j.state == "queued" || j.state == "running"; }

  Clock& clock_;
  absl::Mutex mu_;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, Job> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, LayerContent> layers_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ManifestRecord> manifests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Result> results_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::vector<RematchChange>> changes_ ABSL_GUARDED_BY(mu_);
  int layer_puts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::scanner

#undef PORTUNUS_FAKE_FAIL
