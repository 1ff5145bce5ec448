#include "common/backoff.h"

#include <algorithm>

namespace flotilla::common {

Backoff::Backoff(Options options, uint64_t seed)
    : options_(options), current_(options.initial), rng_(seed) {}

absl::Duration Backoff::Next() {
  std::uniform_real_distribution<double> dist(1.0 - options_.jitter, 1.0 + options_.jitter);
  absl::Duration d = current_ * dist(rng_);
  current_ = std::min(current_ * options_.multiplier, options_.max);
  return d;
}

void Backoff::Reset() { current_ = options_.initial; }

}  // namespace flotilla::common
