// Template functions: a FuncMap of named functions, each with a Go-style
// signature. The signature is what makes calls behave as in Go: arguments are
// checked and converted by parameter type before the function runs
// ("wrong type for value; expected int; got int64", "expected string; found
// 5", "wrong number of args for upper: want 1 got 2"), literal numbers take
// the parameter's type, and a missing value reaches an interface{} parameter
// as nil.
//
// Functions must be thread-safe: one FuncMap serves concurrent executions.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/template/options.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl {

// The Go parameter types functions declare.
enum class ParamType {
  kAny,      // interface{}: any value; missing arrives as nil
  kValue,    // reflect.Value (builtins): the value as it is, missing included
  kString,   // string
  kBool,     // bool
  kInt,      // int
  kInt64,    // int64
  kFloat64,  // float64
  kMap,      // map[string]interface{}; missing or the nil literal give a nil map
  kTime,     // time.Time
  kSemver,   // *semver.Version
};

// The Go spelling of a parameter type, for error messages.
std::string ParamTypeName(ParamType t);

struct Signature {
  std::vector<ParamType> params;
  bool variadic = false;  // the last parameter takes any number of arguments
};

// What a running function can ask of the execution calling it.
class CallContext {
 public:
  virtual ~CallContext() = default;

  virtual const Limits& limits() const = 0;
  // Charges `units` of work to the execution's step budget; fails with
  // ResourceExhausted when it is spent. Functions that walk or build large
  // values charge per element.
  virtual absl::Status Charge(int64_t units) = 0;
  // Records that `map` now holds another map or list: if that made a cycle,
  // it is broken when the execution's session ends.
  virtual void NoteMutation(const Value& map) = 0;
  // Runs the named template with `data` inside this execution (depth and
  // limits carry over); what Helm's `include` needs.
  virtual absl::StatusOr<std::string> ExecuteTemplate(absl::string_view name,
                                                      const Value& data) = 0;
  // Parses `text` as a template next to this execution's templates and runs
  // it with `data`; what Helm's `tpl` needs.
  virtual absl::StatusOr<std::string> ExecuteText(absl::string_view name, absl::string_view text,
                                                  const Value& data) = 0;
};

// A function gets its arguments already converted to its parameter types.
// An error it returns stops execution as "error calling NAME: MESSAGE".
using TemplateFn = std::function<absl::StatusOr<Value>(std::vector<Value>& args, CallContext& ctx)>;

struct Function {
  Signature signature;
  TemplateFn fn;
};

// Methods of a map value (MapRep::methods), bound to their receiver by the
// closure that implements them.
struct MethodTable {
  std::map<std::string, Function, std::less<>> methods;
};

// A map[string]interface{} value whose `.Name` with a method of that name
// calls the method (with the arguments that follow) instead of reading an
// entry: how Go types with methods (Helm's Files, Capabilities.APIVersions)
// are offered to templates.
Value MapWithMethods(std::map<std::string, Value> entries, MethodTable methods);

class FuncMap {
 public:
  // Adds or replaces `name`.
  void Add(std::string name, Signature signature, TemplateFn fn);
  void Remove(absl::string_view name);
  const Function* Find(absl::string_view name) const;
  bool Has(absl::string_view name) const { return Find(name) != nullptr; }
  // Adds every function of `other`, replacing functions of the same name.
  void Merge(const FuncMap& other);
  std::vector<std::string> Names() const;
  size_t size() const { return funcs_.size(); }

 private:
  std::map<std::string, Function, std::less<>> funcs_;
};

// text/template's builtins: and, or, not, len, index, slice, print, printf,
// println, html, js, urlquery, eq, ne, lt, le, gt, ge.
const FuncMap& BuiltinFunctions();

// Helpers for writing functions.
Signature Sig(std::vector<ParamType> params);
Signature VariadicSig(std::vector<ParamType> params);

}  // namespace flotilla::common::tmpl
