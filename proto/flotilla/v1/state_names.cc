#include "flotilla/v1/state_names.h"

#include <array>
#include <utility>

namespace flotilla::v1 {
namespace {

constexpr std::array<std::pair<BundleDeploymentState, const char*>, 7> kNames = {{
    {READY, "Ready"},
    {NOT_READY, "NotReady"},
    {PENDING, "Pending"},
    {OUT_OF_SYNC, "OutOfSync"},
    {MODIFIED, "Modified"},
    {WAIT_APPLIED, "WaitApplied"},
    {ERR_APPLIED, "ErrApplied"},
}};

}  // namespace

std::string FleetStateName(int state) {
  for (const auto& [value, name] : kNames) {
    if (value == state) return name;
  }
  return "";
}

std::optional<BundleDeploymentState> StateFromFleetName(const std::string& name) {
  for (const auto& [value, spelled] : kNames) {
    if (name == spelled) return value;
  }
  return std::nullopt;
}

}  // namespace flotilla::v1
