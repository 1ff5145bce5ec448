// The executor behind TemplateSet::Execute (internal to this folder).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/template/ast.h"
#include "common/template/template.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl {

// Runs `tree` of `set` with `data` as dot; `session` must be non-null.
absl::StatusOr<std::string> ExecuteTree(const TemplateSet& set, const Tree& tree, const Value& data,
                                        ExecSession* session);

}  // namespace flotilla::common::tmpl
