#include "common/clock.h"

namespace flotilla::common {

absl::Time RealClock::Now() const { return absl::Now(); }

Clock* RealClock::Get() {
  static RealClock* clock = new RealClock();
  return clock;
}

SimulatedClock::SimulatedClock(absl::Time start) : now_(start) {}

absl::Time SimulatedClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void SimulatedClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

}  // namespace flotilla::common
