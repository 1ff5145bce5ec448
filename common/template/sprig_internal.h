// Shared pieces of the Sprig implementation (internal to this folder).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/template/funcs.h"
#include "common/template/sprig.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl::sprig {

// The resolved SprigOptions every area registers against.
struct Env {
  const Clock* clock;
  absl::TimeZone local;
  std::shared_ptr<RandomSource> random;
  std::function<std::optional<std::string>(absl::string_view)> getenv;
};

void AddStringFunctions(FuncMap* m, const Env& env);
void AddEncodingFunctions(FuncMap* m, const Env& env);
void AddRegexFunctions(FuncMap* m, const Env& env);
void AddDefaultsFunctions(FuncMap* m, const Env& env);
void AddMathFunctions(FuncMap* m, const Env& env);
void AddListFunctions(FuncMap* m, const Env& env);
void AddDictFunctions(FuncMap* m, const Env& env);
void AddDateFunctions(FuncMap* m, const Env& env);
void AddOsFunctions(FuncMap* m, const Env& env);
void AddCryptoFunctions(FuncMap* m, const Env& env);

// sprig's strval: strings as they are, Stringers (time, semver) through
// String(), everything else with %v (nil is "<nil>").
std::string Strval(const Value& v);
// sprig's strslice (toStrings): []string as is, other lists element-wise
// (dropping nils), nil -> [], anything else -> [strval(v)].
std::vector<std::string> StrSlice(const Value& v);
// A []string value.
Value StringList(std::vector<std::string> items);

// spf13/cast's ToInt64 / ToFloat64 as Sprig uses them (errors become 0).
int64_t ToInt64(const Value& v);
double ToFloat64(const Value& v);

// Go's int64(f) on amd64 (NaN and out-of-range give math.MinInt64).
int64_t FloatToInt64(double f);

// The reflect.Kind name Sprig's list errors print ("Cannot find first on
// type string").
std::string KindName(const Value& v);

// The error a nil argument causes where Sprig calls reflect.TypeOf(x).Kind().
absl::Status NilDereference();

// Charges `n` elements of work; used by functions that build or walk values.
absl::Status ChargeElements(CallContext& ctx, size_t n);

// Fails if a string of `size` bytes would exceed the output limit.
absl::Status CheckStringSize(CallContext& ctx, size_t size);

// A uniformly random integer in [0, n).
uint64_t RandomBelow(RandomSource& r, uint64_t n);

}  // namespace flotilla::common::tmpl::sprig
