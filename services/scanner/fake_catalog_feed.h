// In-memory ManifestFeed and FeedCursorStore for tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "services/scanner/catalog_feed.h"

namespace portunus::scanner {

class FakeManifestFeed final : public ManifestFeed {
 public:
  // Appends an entry with the next seq.
  int64_t Add(const std::string& repository, const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back({++latest_, repository, digest});
    return latest_;
  }
  // Forgets entries with seq < `seq` (the catalog's retention).
  void ExpireBefore(int64_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ManifestFeedEntry> kept;
    for (const ManifestFeedEntry& e : entries_) {
      if (e.seq >= seq) kept.push_back(e);
    }
    entries_ = std::move(kept);
  }
  void FailNextCall(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = std::move(s);
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  // What ListTagged reports (the catalog's tagged manifests), in pages of two.
  void SetTagged(std::vector<ManifestFeedEntry> tagged) {
    std::lock_guard<std::mutex> lock(mu_);
    tagged_ = std::move(tagged);
  }
  void FailTagged(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_tagged_ = std::move(s);
  }
  int tagged_calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return tagged_calls_;
  }

  absl::Status ListTagged(
      const std::function<absl::Status(const std::vector<ManifestFeedEntry>& page)>& on_page) override {
    std::vector<ManifestFeedEntry> tagged;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++tagged_calls_;
      if (!fail_tagged_.ok()) return fail_tagged_;
      tagged = tagged_;
    }
    for (size_t i = 0; i < tagged.size(); i += 2) {
      std::vector<ManifestFeedEntry> page(tagged.begin() + static_cast<std::ptrdiff_t>(i),
                                          tagged.begin() + static_cast<std::ptrdiff_t>(std::min(i + 2, tagged.size())));
      absl::Status s = on_page(page);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<ManifestFeedPage> ListSince(int64_t after_seq, int limit) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (!fail_next_.ok()) {
      absl::Status s = fail_next_;
      fail_next_ = absl::OkStatus();
      return s;
    }
    ManifestFeedPage page;
    page.latest_seq = latest_;
    page.oldest_seq = entries_.empty() ? 0 : entries_.front().seq;
    for (const ManifestFeedEntry& e : entries_) {
      if (e.seq > after_seq && static_cast<int>(page.entries.size()) < limit) page.entries.push_back(e);
    }
    return page;
  }

 private:
  std::mutex mu_;
  std::vector<ManifestFeedEntry> entries_;
  int64_t latest_ = 0;
  int calls_ = 0;
  absl::Status fail_next_;
  std::vector<ManifestFeedEntry> tagged_;
  absl::Status fail_tagged_;
  int tagged_calls_ = 0;
};

class FakeFeedCursorStore final : public FeedCursorStore {
 public:
  absl::StatusOr<int64_t> GetCursor(const std::string& feed) override {
    std::lock_guard<std::mutex> lock(mu_);
    return cursors_[feed];
  }
  absl::StatusOr<bool> AdvanceCursor(const std::string& feed, int64_t from, int64_t to) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (to <= from) return absl::InvalidArgumentError("a feed cursor only moves forward");
    if (cursors_[feed] != from) return false;
    cursors_[feed] = to;
    return true;
  }
  void SetForTest(const std::string& feed, int64_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    cursors_[feed] = seq;
  }

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> cursors_;
};

}  // namespace portunus::scanner
