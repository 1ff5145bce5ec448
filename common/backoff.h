// Exponential backoff with jitter, as gRPC's connection backoff: initial 1s,
// multiplier 1.6, maximum 120s, ±20% jitter. Resettable; randomness injected
// through the seed so tests are deterministic.
#pragma once

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace flotilla::common {

class Backoff {
 public:
  struct Options {
    absl::Duration initial = absl::Seconds(1);
    double multiplier = 1.6;
    absl::Duration max = absl::Seconds(120);
    double jitter = 0.2;
  };
  explicit Backoff(Options options, uint64_t seed = std::random_device{}());
  Backoff() : Backoff(Options{}) {}
  // The delay before the next attempt; grows each call.
  absl::Duration Next();
  void Reset();

 private:
  Options options_;
  absl::Duration current_;
  std::mt19937_64 rng_;
};

}  // namespace flotilla::common
