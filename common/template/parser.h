// The template parser: Go's text/template/parse grammar and error messages.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/template/ast.h"

namespace flotilla::common::tmpl {

struct ParseOptions {
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  // Whether a function of that name exists; an unknown name is a parse
  // error ("function \"x\" not defined"), as in Go.
  std::function<bool(absl::string_view)> has_function;
  // Deepest nesting of control structures and parentheses.
  int max_depth = 100;
};

// Parses `text`, read from the file or string called `name`. Returns the
// top-level tree (named `name`) and one tree per {{define}} and {{block}}, in
// the order they were completed. Errors are InvalidArgument and read
// "template: NAME:LINE:COL: problem" (ResourceExhausted beyond max_depth).
absl::StatusOr<std::vector<std::unique_ptr<Tree>>> ParseTemplateText(absl::string_view name,
                                                                     absl::string_view text,
                                                                     const ParseOptions& options);

}  // namespace flotilla::common::tmpl
