#include "common/backoff.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"

namespace flotilla::common {
namespace {

// Backoff options without jitter, so every delay is the nominal one.
Backoff::Options NoJitter(absl::Duration initial, double multiplier, absl::Duration max) {
  Backoff::Options o;
  o.initial = initial;
  o.multiplier = multiplier;
  o.max = max;
  o.jitter = 0;
  return o;
}

std::vector<double> NextSeconds(Backoff& b, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(absl::ToDoubleSeconds(b.Next()));
  return out;
}

// The nominal (unjittered) delay before attempt `i` (0-based): initial times
// multiplier^i, capped at max.
double NominalSeconds(const Backoff::Options& o, int i) {
  double d = absl::ToDoubleSeconds(o.initial);
  for (int k = 0; k < i; ++k) d = std::min(d * o.multiplier, absl::ToDoubleSeconds(o.max));
  return d;
}

// Without jitter the delays are initial, initial*m, initial*m^2, ...
TEST_CASE("Each delay is the previous one times the multiplier", "[backoff]") {
  Backoff b(NoJitter(absl::Seconds(1), 1.6, absl::Seconds(120)), 1);

  std::vector<double> got = NextSeconds(b, 5);

  REQUIRE(got.size() == 5);
  CHECK(got[0] == Approx(1.0));
  CHECK(got[1] == Approx(1.6));
  CHECK(got[2] == Approx(2.56));
  CHECK(got[3] == Approx(4.096));
  CHECK(got[4] == Approx(6.5536));
}

// Growth stops at max and stays there however many attempts follow.
TEST_CASE("Delays stop growing at the maximum", "[backoff]") {
  Backoff b(NoJitter(absl::Milliseconds(100), 2, absl::Seconds(1)), 1);

  std::vector<double> got = NextSeconds(b, 12);

  std::vector<double> want = {0.1, 0.2, 0.4, 0.8, 1, 1, 1, 1, 1, 1, 1, 1};
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("attempt " << i);
    CHECK(got[i] == Approx(want[i]));
  }
}

// The gRPC defaults (1s, x1.6, 120s, ±20%): over many attempts and many
// seeds every delay lies within ±20% of its nominal value, the jitter is
// really used (delays near both ends of the band occur), and the jitter is
// applied after the cap, as gRPC's connection backoff does.
TEST_CASE("Every jittered delay lies within the jitter band around the nominal delay",
          "[backoff]") {
  const Backoff::Options o;  // defaults
  REQUIRE(o.initial == absl::Seconds(1));
  REQUIRE(o.multiplier == 1.6);
  REQUIRE(o.max == absl::Seconds(120));
  REQUIRE(o.jitter == 0.2);

  double min_ratio = 2;
  double max_ratio = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    Backoff b(o, seed);
    for (int i = 0; i < 20; ++i) {
      double nominal = NominalSeconds(o, i);
      double got = absl::ToDoubleSeconds(b.Next());
      INFO("seed " << seed << " attempt " << i << " nominal " << nominal << " got " << got);
      CHECK(got >= nominal * 0.8 * (1 - 1e-9));
      CHECK(got <= nominal * 1.2 * (1 + 1e-9));
      min_ratio = std::min(min_ratio, got / nominal);
      max_ratio = std::max(max_ratio, got / nominal);
    }
  }
  // 4000 uniform draws: both ends of the band are reached closely.
  CHECK(min_ratio < 0.81);
  CHECK(max_ratio > 1.19);
}

// Reset after a run of failures: the next delay is the initial one again, and
// growth restarts from there.
TEST_CASE("Reset returns the delay to the initial value", "[backoff]") {
  Backoff b(NoJitter(absl::Seconds(1), 2, absl::Seconds(30)), 1);
  NextSeconds(b, 10);  // well into the cap

  b.Reset();

  std::vector<double> got = NextSeconds(b, 3);
  CHECK(got[0] == Approx(1.0));
  CHECK(got[1] == Approx(2.0));
  CHECK(got[2] == Approx(4.0));
}

// With jitter, the first delay after Reset is within the band around initial.
TEST_CASE("The first jittered delay after Reset is near the initial value", "[backoff]") {
  Backoff b(Backoff::Options{}, 7);
  NextSeconds(b, 15);

  b.Reset();

  double first = absl::ToDoubleSeconds(b.Next());
  CHECK(first >= 0.8);
  CHECK(first <= 1.2);
}

// Randomness comes only from the seed: two backoffs with the same seed give
// the same sequence, and a different seed gives a different one.
TEST_CASE("The same seed gives the same sequence of delays", "[backoff]") {
  Backoff a(Backoff::Options{}, 42);
  Backoff b(Backoff::Options{}, 42);
  Backoff c(Backoff::Options{}, 43);

  std::vector<absl::Duration> da, db, dc;
  for (int i = 0; i < 30; ++i) {
    da.push_back(a.Next());
    db.push_back(b.Next());
    dc.push_back(c.Next());
  }

  CHECK(da == db);
  CHECK(da != dc);
}

}  // namespace
}  // namespace flotilla::common
