// The Sprig v3 function library (github.com/Masterminds/sprig), implemented
// over the template value model with Sprig's behaviour: argument orders
// made for pipelines ("foo" | trimSuffix "o"), its quirks (toInt64 via
// spf13/cast, merge via mergo), and its error texts. README.md lists every
// function and the differences.
//
// Sources of nondeterminism are injected: the clock (now, ago, date with a
// non-time argument), the local time zone (Go's time.Local) and randomness
// (rand*, shuffle, uuidv4), so tests and hermetic renders are reproducible.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/template/funcs.h"

namespace flotilla::common::tmpl {

// A source of random 64-bit words. Must be thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t Next() = 0;
};

// OpenSSL's generator (what crypto/rand gives Sprig).
std::shared_ptr<RandomSource> SecureRandomSource();
// A deterministic generator for tests and reproducible output.
std::shared_ptr<RandomSource> SeededRandomSource(uint64_t seed);

struct SprigOptions {
  // Time for now, ago and friends. Null: the system clock.
  const Clock* clock = nullptr;
  // What Go calls time.Local: the zone of `now`, and of `date` and `toDate`.
  absl::TimeZone local_zone = absl::UTCTimeZone();
  // Null: SecureRandomSource().
  std::shared_ptr<RandomSource> random;
  // env and expandenv read variables through this. Null: the process
  // environment.
  std::function<std::optional<std::string>(absl::string_view)> getenv;
  // Names left out of the map (a template using one fails to parse with
  // `function "NAME" not defined`).
  std::set<std::string> exclude;
};

// Every implemented Sprig function, minus options.exclude.
FuncMap SprigFunctions(const SprigOptions& options = {});

// The functions Fleet renders `${ }` values templates with: Sprig without
// env, expandenv and getHostByName (FLEET-SEMANTICS.md; include and tpl are
// Helm's, not Sprig's, so they are absent anyway).
FuncMap FleetTemplateFunctions(SprigOptions options = {});

}  // namespace flotilla::common::tmpl
