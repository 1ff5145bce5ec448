#include "cli/table.h"

#include <catch2/catch.hpp>
#include <string>

namespace flotilla::cli {
namespace {

// Columns are as wide as their widest cell plus three spaces; the last
// column is not padded and empty trailing cells leave no spaces behind.
TEST_CASE("A table aligns columns with three spaces and no trailing spaces", "[table]") {
  Table table{{"NAME", "READY", "STATUS"},
              {{"a", "1/1", ""}, {"much-longer-name", "10/12", "NotReady"}}};
  CHECK(RenderTable(table) ==
        "NAME               READY   STATUS\n"
        "a                  1/1\n"
        "much-longer-name   10/12   NotReady\n");
}

// A message with line breaks must not break the table.
TEST_CASE("Line breaks and tabs in a cell become spaces", "[table]") {
  Table table{{"A", "B"}, {{"x\ny", "1\t2"}}};
  CHECK(RenderTable(table) ==
        "A     B\n"
        "x y   1 2\n");
}

// Widths count characters, not bytes.
TEST_CASE("Multi-byte UTF-8 cells take one column per character", "[table]") {
  Table table{{"NAME", "X"}, {{"zürich", "1"}, {"bern", "2"}}};
  CHECK(RenderTable(table) ==
        "NAME     X\n"
        "zürich   1\n"
        "bern     2\n");
}

// Help text uses tables without a header line.
TEST_CASE("A table without headers prints only its rows", "[table]") {
  Table table{{}, {{"  --server HOST:PORT", "address"}, {"  -h, --help", "help"}}};
  CHECK(RenderTable(table) ==
        "  --server HOST:PORT   address\n"
        "  -h, --help           help\n");
}

// The AGE column of kubectl, at each of its thresholds.
TEST_CASE("Ages are shown as kubectl shows them", "[table]") {
  CHECK(HumanDuration(absl::Seconds(-5)) == "<invalid>");
  CHECK(HumanDuration(absl::Milliseconds(-500)) == "0s");
  CHECK(HumanDuration(absl::Seconds(0)) == "0s");
  CHECK(HumanDuration(absl::Seconds(5)) == "5s");
  CHECK(HumanDuration(absl::Seconds(119)) == "119s");
  CHECK(HumanDuration(absl::Minutes(3)) == "3m");
  CHECK(HumanDuration(absl::Seconds(200)) == "3m20s");
  CHECK(HumanDuration(absl::Minutes(45)) == "45m");
  CHECK(HumanDuration(absl::Hours(2)) == "120m");
  CHECK(HumanDuration(absl::Hours(3)) == "3h");
  CHECK(HumanDuration(absl::Minutes(150)) == "150m");
  CHECK(HumanDuration(absl::Minutes(270)) == "4h30m");
  CHECK(HumanDuration(absl::Hours(20)) == "20h");
  CHECK(HumanDuration(absl::Hours(24 * 4)) == "4d");
  CHECK(HumanDuration(absl::Hours(24 * 3 + 5)) == "3d5h");
  CHECK(HumanDuration(absl::Hours(24 * 100)) == "100d");
  CHECK(HumanDuration(absl::Hours(24 * (365 * 3 + 10))) == "3y10d");
  CHECK(HumanDuration(absl::Hours(24 * 365 * 9)) == "9y");
}

}  // namespace
}  // namespace flotilla::cli
