// absl::Status <-> grpc::Status, used only at RPC edges.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace flotilla::common {

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

}  // namespace flotilla::common
