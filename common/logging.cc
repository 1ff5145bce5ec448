#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

#include "absl/strings/string_view.h"

namespace flotilla::common {
namespace {

std::mutex& LoggerMutex() {
  static std::mutex mu;
  return mu;
}

spdlog::level::level_enum& DefaultLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> Logger(absl::string_view component) {
  std::lock_guard<std::mutex> lock(LoggerMutex());
  std::string name(component);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = spdlog::stderr_color_mt(name);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ [%n] %v", spdlog::pattern_time_type::utc);
  logger->set_level(DefaultLevel());
  return logger;
}

bool SetLogLevel(absl::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") return false;
  std::lock_guard<std::mutex> lock(LoggerMutex());
  DefaultLevel() = parsed;
  spdlog::apply_all([parsed](const std::shared_ptr<spdlog::logger>& l) { l->set_level(parsed); });
  return true;
}

}  // namespace flotilla::common
