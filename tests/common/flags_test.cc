#include "common/flags.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

namespace flotilla::common {
namespace {

// Runs NormalizeFlagNames over `args` as a main() would receive them.
std::vector<std::string> Normalize(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return NormalizeFlagNames(static_cast<int>(args.size()), argv.data());
}

// kubectl-style `--data-dir=/a-b`: the name gets underscores, the value after
// '=' keeps its dashes.
TEST_CASE("Dashes in a flag name before '=' become underscores and the value is untouched",
          "[flags]") {
  CHECK(Normalize({"flotilla-agent", "--data-dir=/a-b"}) ==
        std::vector<std::string>{"flotilla-agent", "--data_dir=/a-b"});
  CHECK(Normalize({"x", "--tls-cert-file=/etc/x-y/cert.pem"}) ==
        std::vector<std::string>{"x", "--tls_cert_file=/etc/x-y/cert.pem"});
  // Only the first '=' ends the name; later ones are part of the value.
  CHECK(Normalize({"x", "--label-selector=env=prod-eu"}) ==
        std::vector<std::string>{"x", "--label_selector=env=prod-eu"});
  // An empty value stays empty.
  CHECK(Normalize({"x", "--data-dir="}) == std::vector<std::string>{"x", "--data_dir="});
}

// `--data-dir /a-b`: the value is its own argument and keeps its dashes.
TEST_CASE("A flag value given as the next argument is untouched", "[flags]") {
  CHECK(Normalize({"x", "--data-dir", "/a-b"}) ==
        std::vector<std::string>{"x", "--data_dir", "/a-b"});
  CHECK(Normalize({"x", "--cluster-name", "edge-cluster-1"}) ==
        std::vector<std::string>{"x", "--cluster_name", "edge-cluster-1"});
}

// Boolean flags and names without dashes.
TEST_CASE("Flags without a value are normalized and dashless names are unchanged", "[flags]") {
  CHECK(Normalize({"x", "--no-color", "--verbose", "--data_dir=/a"}) ==
        std::vector<std::string>{"x", "--no_color", "--verbose", "--data_dir=/a"});
}

// Only "--name" arguments are flags to normalize: single-dash options, a bare
// "-" (stdin), and positional arguments keep every dash.
TEST_CASE("Single-dash options and positional arguments are untouched", "[flags]") {
  std::vector<std::string> args = {"x",     "-v-v",      "-data-dir=/a-b", "-",
                                   "apply", "my-bundle", "./path-to/dir",  "a--b"};
  CHECK(Normalize(args) == args);
}

// Flags after a positional argument are still normalized (Abseil accepts
// flags anywhere before "--").
TEST_CASE("Flags after a positional argument are still normalized", "[flags]") {
  CHECK(Normalize({"flotilla", "apply", "--repo-url=https://x/a-b.git", "my-bundle"}) ==
        std::vector<std::string>{"flotilla", "apply", "--repo_url=https://x/a-b.git", "my-bundle"});
}

// "--" ends the flags: it is kept as is, and everything after it, even what
// looks like a flag, is passed through untouched.
TEST_CASE("Arguments after the -- terminator are passed through untouched", "[flags]") {
  CHECK(Normalize({"x", "--data-dir=/a-b", "--", "--not-a-flag=c-d", "--other-one", "pos-arg"}) ==
        std::vector<std::string>{"x", "--data_dir=/a-b", "--", "--not-a-flag=c-d", "--other-one",
                                 "pos-arg"});
  // A second "--" after the first is just another argument.
  CHECK(Normalize({"x", "--", "--", "--a-b"}) ==
        std::vector<std::string>{"x", "--", "--", "--a-b"});
}

// argv[0] is the program, whatever it looks like.
TEST_CASE("The program name is never rewritten", "[flags]") {
  CHECK(Normalize({"--odd-program-name", "--a-b"}) ==
        std::vector<std::string>{"--odd-program-name", "--a_b"});
  CHECK(Normalize({"/usr/local/bin/flotilla-agent"}) ==
        std::vector<std::string>{"/usr/local/bin/flotilla-agent"});
}

// No arguments at all (argc 0, as execve allows) gives an empty list.
TEST_CASE("An empty argv normalizes to nothing", "[flags]") {
  char* argv[] = {nullptr};
  CHECK(NormalizeFlagNames(0, argv).empty());
}

// The input argv is not modified: normalizing works on copies.
TEST_CASE("NormalizeFlagNames leaves the caller's argv unchanged", "[flags]") {
  std::string prog = "x", flag = "--data-dir=/a-b";
  char* argv[] = {prog.data(), flag.data(), nullptr};

  auto out = NormalizeFlagNames(2, argv);

  CHECK(out[1] == "--data_dir=/a-b");
  CHECK(std::strcmp(argv[1], "--data-dir=/a-b") == 0);
}

// ArgvPointers gives a main()-style array: one pointer per argument into the
// storage it was given (NUL-terminated strings), then a null pointer.
TEST_CASE("ArgvPointers points into the argument storage and ends with a null pointer", "[flags]") {
  std::vector<std::string> args = Normalize({"flotilla-agent", "--data-dir", "/a-b", "--x-y=1"});

  std::vector<char*> argv = ArgvPointers(args);

  REQUIRE(argv.size() == args.size() + 1);
  CHECK(argv.back() == nullptr);
  for (size_t i = 0; i < args.size(); ++i) {
    INFO("argument " << i);
    CHECK(argv[i] == args[i].data());
    CHECK(std::strlen(argv[i]) == args[i].size());
    CHECK(std::string(argv[i]) == args[i]);
  }
  CHECK(std::string(argv[1]) == "--data_dir");
  CHECK(std::string(argv[3]) == "--x_y=1");

  // The pointers are mutable views of the storage (flag parsers may write).
  argv[2][0] = '#';
  CHECK(args[2] == "#a-b");
}

// An empty argument list still gives a valid, null-terminated array.
TEST_CASE("ArgvPointers of no arguments is just the null terminator", "[flags]") {
  std::vector<std::string> args;
  std::vector<char*> argv = ArgvPointers(args);
  REQUIRE(argv.size() == 1);
  CHECK(argv[0] == nullptr);
}

}  // namespace
}  // namespace flotilla::common
