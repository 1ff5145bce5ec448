#include "cli/documents.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

// Two GitRepos in one file, with a leading separator and a comment-only part.
TEST_CASE("A YAML stream splits on --- lines and drops empty documents", "[documents]") {
  std::string text =
      "---\n"
      "# two gitrepos\n"
      "---\n"
      "kind: GitRepo\n"
      "metadata:\n"
      "  name: a\n"
      "---\r\n"
      "kind: GitRepo\n"
      "spec:\n"
      "  repo: https://example.com/x---y\n"
      "--- \n"
      "\n";
  CHECK(SplitYamlDocuments(text) ==
        std::vector<std::string>{"kind: GitRepo\nmetadata:\n  name: a\n",
                                 "kind: GitRepo\nspec:\n  repo: https://example.com/x---y\n"});
}

// A single document comes back as written.
TEST_CASE("A stream without separators is one document", "[documents]") {
  CHECK(SplitYamlDocuments("kind: GitRepo\n") == std::vector<std::string>{"kind: GitRepo\n"});
  CHECK(SplitYamlDocuments("").empty());
}

// "-" means stdin, as for kubectl apply -f -.
TEST_CASE("Input named - is read from stdin", "[documents]") {
  std::istringstream in("kind: GitRepo\n");
  auto text = ReadInput("-", in);
  REQUIRE(text.ok());
  CHECK(*text == "kind: GitRepo\n");
}

// The path and the system's reason are both in the message.
TEST_CASE("An unreadable input names the path and the reason", "[documents]") {
  testing::ScratchDir dir;
  std::istringstream in;
  auto missing = ReadInput(dir.Path("nope.yaml"), in);
  REQUIRE(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() ==
        "cannot read " + dir.Path("nope.yaml") + ": No such file or directory");

  auto directory = ReadInput(dir.Path(""), in);
  CHECK(directory.status().message() == "cannot read " + dir.Path("") + ": Is a directory");
}

}  // namespace
}  // namespace flotilla::cli
