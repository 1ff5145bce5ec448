// Fleet's spelling of a BundleDeploymentState ("Ready", "NotReady", ...,
// "ErrApplied"), as in status messages, dependsOn.acceptedStates and the CLI.
// Hand-written; lives with the generated code so every process shares it.
#pragma once

#include <optional>
#include <string>

#include "flotilla/v1/types.pb.h"

namespace flotilla::v1 {

// "" for STATE_UNSPECIFIED or an unknown value.
std::string FleetStateName(int state);
// The state Fleet calls `name`; std::nullopt for an unknown name.
std::optional<BundleDeploymentState> StateFromFleetName(const std::string& name);

}  // namespace flotilla::v1
