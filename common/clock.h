// Time is injected: library code never reads the system clock directly.
#pragma once

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace flotilla::common {

// Thread-safe source of wall-clock time.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The system clock. Use RealClock::Get() for a process-wide instance.
class RealClock : public Clock {
 public:
  absl::Time Now() const override;
  static Clock* Get();
};

// A clock that moves only when told to; for tests.
class SimulatedClock : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flotilla::common
