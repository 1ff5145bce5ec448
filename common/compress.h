// zlib compression for manifest content on the wire and in caches.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {

std::string ZlibCompress(absl::string_view data);
// Fails if the data is corrupt or would inflate beyond `max_size` bytes.
absl::StatusOr<std::string> ZlibDecompress(absl::string_view data, size_t max_size);

}  // namespace flotilla::common
