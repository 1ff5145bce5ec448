#include "common/compress.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

constexpr size_t kLimit = 64 << 20;

// Deterministic pseudo-random bytes: they do not compress, so the compressed
// stream is as long as the data and spans many inflate buffers.
std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Multi-document YAML of about `n` bytes, as a rendered bundle looks.
std::string Manifests(size_t n) {
  std::string out;
  for (int i = 0; out.size() < n; ++i) {
    out += "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-" + std::to_string(i) +
           "\n  namespace: web\ndata:\n  key: value-" + std::to_string(i * 7) + "\n";
  }
  return out;
}

void CheckRoundTrip(const std::string& data) {
  std::string z = ZlibCompress(data);
  auto back = ZlibDecompress(z, kLimit);
  INFO("size " << data.size());
  REQUIRE(back.ok());
  CHECK(back->size() == data.size());
  CHECK(*back == data);
}

// Nothing to compress still gives a valid stream that inflates to nothing,
// even with a limit of 0 bytes.
TEST_CASE("Empty data round-trips through zlib", "[compress]") {
  std::string z = ZlibCompress("");
  CHECK_FALSE(z.empty());
  auto back = ZlibDecompress(z, 0);
  REQUIRE(back.ok());
  CHECK(back->empty());
}

// Small text: a single ConfigMap, and a one-byte string.
TEST_CASE("Small manifests round-trip through zlib", "[compress]") {
  CheckRoundTrip("x");
  CheckRoundTrip("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n");
}

// Large, compressible manifests (several MB) and incompressible bytes both
// span many of the 64 KiB inflate buffers; sizes right around the buffer
// size check the buffer boundaries.
TEST_CASE("Large data round-trips through zlib across inflate buffer boundaries", "[compress]") {
  std::string yaml = Manifests(5 << 20);
  std::string z = ZlibCompress(yaml);
  CHECK(z.size() < yaml.size() / 10);
  CheckRoundTrip(yaml);

  for (size_t n : {65535, 65536, 65537, 131072, 1 << 20}) {
    CheckRoundTrip(RandomBytes(n, n));
    CheckRoundTrip(std::string(n, 'a'));
  }
}

// Binary data: every byte value, NULs included, in and out unchanged.
TEST_CASE("Binary data with NUL and high bytes round-trips through zlib", "[compress]") {
  std::string all;
  for (int rep = 0; rep < 4; ++rep) {
    for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  }
  CheckRoundTrip(all);
  CheckRoundTrip(std::string(1000, '\0'));
  CheckRoundTrip(RandomBytes(10000, 99));
}

// Bytes that are not a zlib stream at all: InvalidArgument naming the
// problem, with zlib's own message.
TEST_CASE("Data that is not a zlib stream is rejected as corrupt", "[compress]") {
  auto r = ZlibDecompress("this is plain text, not zlib", kLimit);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "corrupt compressed content: incorrect header check");
}

// A stream damaged in transit: a flipped byte inside the deflate data or in
// the Adler-32 trailer is caught, not inflated into garbage.
TEST_CASE("A zlib stream with flipped bytes is rejected as corrupt", "[compress]") {
  std::string data = Manifests(20000);
  std::string z = ZlibCompress(data);

  SECTION("in the Adler-32 checksum") {
    z[z.size() - 1] = static_cast<char>(z[z.size() - 1] ^ 0x01);
    auto r = ZlibDecompress(z, kLimit);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "corrupt compressed content: incorrect data check");
  }
  SECTION("in the compressed data") {
    for (size_t i = 2; i < z.size(); i += 7) {
      std::string bad = z;
      bad[i] = static_cast<char>(bad[i] ^ 0x5a);
      auto r = ZlibDecompress(bad, kLimit);
      INFO("flipped byte " << i);
      // Either zlib notices (invalid code, distance, check) or the stream ends
      // short: never a crash, never success with other content.
      if (r.ok()) {
        FAIL("a damaged stream inflated to " << r->size() << " bytes");
      } else {
        CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
        CHECK_THAT(std::string(r.status().message()),
                   StartsWith("corrupt compressed content: ") ||
                       Contains("compressed content is truncated"));
      }
    }
  }
}

// The connection dropped mid-message: a stream cut short says it is
// truncated.
TEST_CASE("A truncated zlib stream is rejected as truncated", "[compress]") {
  std::string data = RandomBytes(10000, 5);
  std::string z = ZlibCompress(data);
  for (size_t keep : {z.size() - 1, z.size() - 4, z.size() / 2, size_t{2}}) {
    INFO("keeping " << keep << " of " << z.size() << " bytes");
    auto r = ZlibDecompress(z.substr(0, keep), kLimit);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "compressed content is truncated");
  }
}

// No bytes at all is not a zlib stream either: an error, not an empty
// manifest.
TEST_CASE("Empty input is rejected instead of inflating to nothing", "[compress]") {
  auto r = ZlibDecompress("", kLimit);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "compressed content is truncated");
}

// Cut short where the output fills the 64 KiB inflate buffer exactly, only the
// checksum missing: still an error (zlib can make no progress), never a
// silent success.
TEST_CASE("A stream cut off after exactly one inflate buffer of output is rejected", "[compress]") {
  std::string z = ZlibCompress(std::string(65536, 'q'));
  for (size_t cut = 1; cut <= 8; ++cut) {
    INFO("cutting " << cut << " bytes");
    auto r = ZlibDecompress(z.substr(0, z.size() - cut), kLimit);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "compressed content is truncated");
  }
}

// Bytes after the end of the zlib stream are not silently dropped.
TEST_CASE("Data after the end of the stream is rejected", "[compress]") {
  auto r = ZlibDecompress(ZlibCompress("manifest") + "GARBAGE", kLimit);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "compressed content has data after the end of its stream");
}

// The limit is on the inflated size: exactly at the limit is accepted, one
// byte over is refused, with a message naming the limit.
TEST_CASE("Content inflating to exactly the limit is accepted and one byte more is not",
          "[compress]") {
  for (size_t n : {size_t{1}, size_t{1000}, size_t{65536}, size_t{65537}, size_t{200000}}) {
    INFO("size " << n);
    std::string z = ZlibCompress(std::string(n, 'z'));

    auto at = ZlibDecompress(z, n);
    REQUIRE(at.ok());
    CHECK(at->size() == n);

    auto over = ZlibDecompress(z, n - 1);
    REQUIRE_FALSE(over.ok());
    CHECK(over.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(over.status().message() ==
          "compressed content inflates beyond the limit of " + std::to_string(n - 1) + " bytes");
  }
}

// A decompression bomb: 64 MiB of zeros compress to about 64 KiB.
// With a 1 MiB limit inflating stops early with a clear error instead of
// allocating the whole output.
TEST_CASE("A decompression bomb is stopped at the size limit", "[compress]") {
  const std::string bomb_data(64u << 20, '\0');
  const std::string bomb = ZlibCompress(bomb_data);
  REQUIRE(bomb.size() < (128u << 10));

  auto r = ZlibDecompress(bomb, 1 << 20);

  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "compressed content inflates beyond the limit of 1048576 bytes");
}

}  // namespace
}  // namespace flotilla::common
