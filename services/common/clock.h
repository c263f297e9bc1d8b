// Clock abstracts "now" so domain code (token lifetimes, lockouts, retries, heartbeats) can be
// tested with a hand-advanced FakeClock (services/common/testing/fake_clock.h) instead of sleeps.
#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace portunus {

// Thread-safe. Implementations must be monotonic enough for expiry decisions; they are not
// required to be steady across NTP steps (the real clock is absl::Now()).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The process's wall clock. A single shared instance is returned by RealClock::Get(); it has no
// state, so sharing it is safe.
class RealClock final : public Clock {
 public:
  static Clock& Get();
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace portunus
