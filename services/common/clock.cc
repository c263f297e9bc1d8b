#include "services/common/clock.h"

namespace portunus {

Clock& RealClock::Get() {
  static RealClock* const clock = new RealClock();
  return *clock;
}

}  // namespace portunus
