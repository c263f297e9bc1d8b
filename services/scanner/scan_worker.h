// ScanWorker: the background loop of every scanner replica. Its threads claim jobs from the
// durable queue (ScanStore), run them (ImageScanner::Scan or RematchAll) and settle them: done;
// retried with exponential backoff when the failure is transient (registry or database
// unreachable, a damaged transfer); failed for good, with the reason stored as the manifest's
// result, when the image itself is the problem (hostile layer, garbage database, not an image)
// or the retries ran out.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/scanner/image_scanner.h"
#include "services/scanner/scan_store.h"

namespace portunus::scanner {

// True for failures worth retrying later (the image is not to blame).
bool IsTransient(const absl::Status& status);

class ScanWorker {
 public:
  struct Options {
    int threads = 2;
    absl::Duration poll_interval = absl::Seconds(1);
    absl::Duration lease = absl::Minutes(15);
    int max_attempts = 5;
    absl::Duration retry_backoff = absl::Seconds(30);  // doubled per attempt, at most 1 h
    std::string worker_id = "scanner";                 // host/pid, for the queue's locked_by
  };
  ScanWorker(Options options, ScanStore& store, ImageScanner& scanner, Clock& clock)
      : options_(std::move(options)), store_(store), scanner_(scanner), clock_(clock) {}
  ~ScanWorker() { Stop(absl::InfinitePast()); }

  // Starts the threads. Not thread-safe against Stop.
  void Start();
  // Asks the threads to stop after their current job and joins them.
  void Stop(absl::Time deadline);
  // Wakes idle threads (after an enqueue in this process).
  void Wake();

  // Claims and runs one job on the calling thread. Returns false when the queue had nothing
  // ready. Errors: the queue's (claiming or settling); a job's own failure is settled, not
  // returned.
  absl::StatusOr<bool> RunOnce(const std::string& worker);

 private:
  void Loop(int index);

  const Options options_;
  ScanStore& store_;
  ImageScanner& scanner_;
  Clock& clock_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int wakeups_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace portunus::scanner
