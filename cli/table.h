// Plain-text tables as kubectl prints them: columns left-aligned, separated by
// three spaces, no trailing spaces.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace flotilla::cli {

struct Table {
  std::vector<std::string> headers;  // empty: no header line
  std::vector<std::vector<std::string>> rows;
};

// Renders `table`, one "\n"-terminated line per row. Each column is as wide as
// its widest cell (in UTF-8 characters); line breaks and tabs inside a cell
// become spaces so that a message cannot break the layout. Rows shorter than
// the header are padded with empty cells.
std::string RenderTable(const Table& table);

// An age as kubectl's AGE column shows it (k8s.io/apimachinery
// duration.HumanDuration): "45s", "3m20s", "15m", "2h30m", "10h", "3d4h",
// "20d", "2y30d"; "<invalid>" for more than a second in the future.
std::string HumanDuration(absl::Duration d);

}  // namespace flotilla::cli
