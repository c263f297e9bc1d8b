// FeedScheduler: keeps the vulnerability data fresh by importing the configured feed URLs on an
// interval (each replica on its own schedule: unchanged feeds cost one conditional request, as
// ETags and content digests make a repeated import a no-op). A changed feed queues a re-match
// of every stored inventory (ScannerApi::Import).
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/scanner/scanner_api.h"

namespace portunus::scanner {

class FeedScheduler {
 public:
  struct Options {
    std::vector<std::string> feeds;  // URLs (or paths)
    absl::Duration interval = absl::Hours(6);  // zero: never on a schedule
  };
  FeedScheduler(Options options, ScannerApi& api) : options_(std::move(options)), api_(api) {}
  ~FeedScheduler() { Stop(); }

  void Start();
  void Stop();
  // Imports every feed once; returns how many imports failed (each is logged and recorded on
  // its source).
  int RunOnce();

 private:
  const Options options_;
  ScannerApi& api_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace portunus::scanner
