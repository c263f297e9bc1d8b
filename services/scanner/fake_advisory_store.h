// In-memory AdvisoryStore for domain tests, with a FailNextCall knob. Thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/scanner/advisory_store.h"

namespace portunus::scanner {

class FakeAdvisoryStore final : public AdvisoryStore {
 public:
  void FailNextCall(absl::Status s) {
    absl::MutexLock l(&mu_);
    fail_ = std::move(s);
  }

  absl::StatusOr<int64_t> ReplaceSource(const FeedSource& source, const FeedData& data) override {
    absl::MutexLock l(&mu_);
    if (absl::Status s = TakeFailure(); !s.ok()) return s;
    std::vector<Affected> kept;
    for (Affected& a : affected_) {
      if (a.source != source.name) kept.push_back(std::move(a));
    }
    affected_ = std::move(kept);
    return Commit(source, data);
  }

  absl::StatusOr<int64_t> UpsertRecords(const FeedSource& source, const FeedData& data) override {
    absl::MutexLock l(&mu_);
    if (absl::Status s = TakeFailure(); !s.ok()) return s;
    std::set<std::string> ids(data.withdrawn.begin(), data.withdrawn.end());
    for (const Vulnerability& v : data.vulnerabilities) ids.insert(v.id);
    std::vector<Affected> kept;
    for (Affected& a : affected_) {
      if (a.source != source.name || !ids.count(a.vuln_id)) kept.push_back(std::move(a));
    }
    affected_ = std::move(kept);
    return Commit(source, data);
  }

  absl::Status RecordFailure(const std::string& name, const std::string& location,
                             const std::string& error, absl::Time at) override {
    absl::MutexLock l(&mu_);
    FeedSource& s = sources_[name];
    s.name = name;
    s.location = location;
    s.last_error = error;
    s.last_attempt = at;
    return absl::OkStatus();
  }

  absl::StatusOr<AdvisoryIndex> LoadIndex(const std::vector<std::string>& ecosystems) override {
    absl::MutexLock l(&mu_);
    if (absl::Status s = TakeFailure(); !s.ok()) return s;
    ++index_loads_;
    std::set<std::string> want(ecosystems.begin(), ecosystems.end());
    AdvisoryIndex index;
    for (const Affected& a : affected_) {
      if (want.empty() || want.count(a.ecosystem)) index.Add(a);
    }
    for (const auto& [id, v] : vulns_) index.AddVulnerability(id, v.severity, v.aliases);
    return index;
  }

  absl::StatusOr<std::map<std::string, Vulnerability>> GetVulnerabilities(
      const std::vector<std::string>& ids) override {
    absl::MutexLock l(&mu_);
    if (absl::Status s = TakeFailure(); !s.ok()) return s;
    std::map<std::string, Vulnerability> out;
    for (const std::string& id : ids) {
      auto it = vulns_.find(id);
      if (it != vulns_.end()) out[id] = it->second;
    }
    return out;
  }

  absl::StatusOr<std::vector<FeedSource>> ListSources() override {
    absl::MutexLock l(&mu_);
    std::vector<FeedSource> out;
    for (const auto& [name, s] : sources_) out.push_back(s);
    return out;
  }

  absl::StatusOr<FeedSource> GetSource(const std::string& name) override {
    absl::MutexLock l(&mu_);
    auto it = sources_.find(name);
    if (it == sources_.end()) return absl::NotFoundError("no such feed source: " + name);
    return it->second;
  }

  absl::StatusOr<int64_t> Generation() override {
    absl::MutexLock l(&mu_);
    return generation_;
  }

  size_t affected_count() {
    absl::MutexLock l(&mu_);
    return affected_.size();
  }
  int index_loads() {
    absl::MutexLock l(&mu_);
    return index_loads_;
  }

 private:
  absl::Status TakeFailure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::Status s = std::move(fail_);
    fail_ = absl::OkStatus();
    return s;
  }
  int64_t Commit(const FeedSource& source, const FeedData& data) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const Vulnerability& v : data.vulnerabilities) {
      Vulnerability& stored = vulns_[v.id];
      if (stored.id.empty()) stored = v;
      if (stored.description.empty()) stored.description = v.description;
      if (stored.summary.empty()) stored.summary = v.summary;
      if (v.severity != Severity::kUnknown) stored.severity = v.severity;
      if (!v.aliases.empty()) stored.aliases = v.aliases;
      if (stored.links.empty()) stored.links = v.links;
    }
    for (const Affected& a : data.affected) affected_.push_back(a);
    FeedSource s = source;
    s.affected = 0;
    std::set<std::string> ids;
    for (const Affected& a : affected_) {
      if (a.source == s.name) {
        ++s.affected;
        ids.insert(a.vuln_id);
      }
    }
    s.vulnerabilities = static_cast<int64_t>(ids.size());
    s.last_error.clear();
    sources_[s.name] = s;
    return ++generation_;
  }

  absl::Mutex mu_;
  absl::Status fail_ ABSL_GUARDED_BY(mu_);
  std::vector<Affected> affected_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Vulnerability> vulns_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, FeedSource> sources_ ABSL_GUARDED_BY(mu_);
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int index_loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace portunus::scanner
