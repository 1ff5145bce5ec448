// One named spdlog logger per component ("manager.git", "agent.stream", ...).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

#include "absl/strings/string_view.h"

// Debian's Abseil has its own string_view (not std::string_view): teach fmt
// to print it, so status.message() can be logged directly.
template <>
struct fmt::formatter<absl::string_view> : fmt::formatter<fmt::string_view> {
  template <typename FormatContext>
  auto format(absl::string_view s, FormatContext& ctx) const {
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(s.data(), s.size()), ctx);
  }
};

namespace flotilla::common {

// Returns the logger for a component, creating it (stderr, shared format) on
// first use. Thread-safe.
std::shared_ptr<spdlog::logger> Logger(absl::string_view component);

// Sets the level of every logger, present and future: trace|debug|info|warn|error.
// Returns false for an unknown level name.
bool SetLogLevel(absl::string_view level);

}  // namespace flotilla::common
