#include "common/compress.h"

#include <zlib.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {

std::string ZlibCompress(absl::string_view data) {
  uLongf bound = compressBound(static_cast<uLong>(data.size()));
  std::string out(bound, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &bound,
                reinterpret_cast<const Bytef*>(data.data()), static_cast<uLong>(data.size()),
                Z_BEST_COMPRESSION) != Z_OK) {
    std::abort();  // Only fails on out-of-memory or a bound we computed wrongly.
  }
  out.resize(bound);
  return out;
}

absl::StatusOr<std::string> ZlibDecompress(absl::string_view data, size_t max_size) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return absl::InternalError("inflateInit failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(
          absl::StrCat("corrupt compressed content: ", zs.msg ? zs.msg : "inflate failed"));
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_size) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(
          absl::StrCat("compressed content inflates beyond the limit of ", max_size, " bytes"));
    }
    if (ret == Z_BUF_ERROR || (ret == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("compressed content is truncated");
    }
  }
  const bool trailing = zs.avail_in != 0;
  inflateEnd(&zs);
  if (trailing) {
    return absl::InvalidArgumentError("compressed content has data after the end of its stream");
  }
  return out;
}

}  // namespace flotilla::common
