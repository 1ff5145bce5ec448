// Go text/template for Flotilla: a set of named templates parsed from one or
// more texts, executed over JSON-like data. See README.md for the language,
// the value model and the differences from Go.
//
// A TemplateSet is built by Parse calls and then only read: Execute is const
// and may run on many threads at once (the functions in the FuncMap must be
// thread-safe too). Every error is an absl::Status whose message reads like
// Go's ("template: NAME:LINE:COL: ..."): InvalidArgument for mistakes in the
// template or its data, ResourceExhausted when a limit (Options::limits)
// stopped it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/template/ast.h"
#include "common/template/funcs.h"
#include "common/template/options.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl {

// Holds what executions leave behind that plain reference counting would
// not free: maps that a template made contain themselves (`set $d "me" $d`).
// Destroying the session breaks such cycles by emptying those maps. A caller
// that runs several templates over one shared Value (as Helm does with
// .Values across files) keeps one session for all of them. A session is not
// thread-safe: executions sharing one run one at a time.
class ExecSession {
 public:
  ExecSession() = default;
  ExecSession(const ExecSession&) = delete;
  ExecSession& operator=(const ExecSession&) = delete;
  ~ExecSession();

  void NoteMutation(const Value& map);

 private:
  std::vector<std::weak_ptr<Object>> mutated_;
};

class TemplateSet {
 public:
  // `funcs` are added to (and take precedence over) the builtins.
  explicit TemplateSet(Options options = {}, FuncMap funcs = {});

  // Parses `text` as the template `name`; its {{define}} and {{block}}
  // templates join the set. A definition replaces an earlier one of the same
  // name unless it is empty (only whitespace), as in Go; two non-empty
  // definitions of one name in the same text are an error.
  absl::Status Parse(absl::string_view name, absl::string_view text);

  // Runs template `name` with `data` as dot. Integers in `data` stay ints
  // (not Go's float64; see README).
  absl::StatusOr<std::string> Execute(absl::string_view name, const Json& data) const;
  // The same over a prepared value. Maps in `data` may be changed by the
  // template (sprig's set, merge); `session` (optional) outlives the call so
  // several executions can share data.
  absl::StatusOr<std::string> ExecuteValue(absl::string_view name, const Value& data,
                                           ExecSession* session = nullptr) const;

  bool Has(absl::string_view name) const;
  // Sorted names of the templates in the set.
  std::vector<std::string> Names() const;
  const Options& options() const { return options_; }
  const FuncMap& funcs() const { return *funcs_; }

  // The parse tree of `name`, or null.
  const Tree* Lookup(absl::string_view name) const;

 private:
  Options options_;
  std::shared_ptr<const FuncMap> funcs_;
  std::map<std::string, std::shared_ptr<const Tree>, std::less<>> trees_;
};

}  // namespace flotilla::common::tmpl
