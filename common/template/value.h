// The values a template computes with: a model of the Go values that
// text/template sees when it runs over JSON-like data (map[string]interface{},
// []interface{}, string, int, float64, bool, nil) plus the few non-JSON types
// Sprig returns (time.Time, *semver.Version, []string, map[string]string).
//
// Go's semantics that this model keeps:
//   * Maps are references: a map reached through two paths is one map, and
//     `set` on it is seen through both (Helm charts rely on this). Lists are
//     never changed in place (no template function does), so they are shared
//     immutably.
//   * "missing" (Go's invalid reflect.Value: a missing map key, an unset
//     variable) differs from "nil" (a nil interface{} stored in a map or list,
//     or the untyped nil constant). The former prints as "<no value>".
//   * A value read out of an interface{}-typed slot (a map[string]interface{}
//     entry, a []interface{} element) is "boxed": Go then reports its type as
//     "interface {}" in some errors ("nil pointer evaluating interface {}.x").
//   * Integer values carry their Go type (int or int64), containers their
//     element type, so %T, typeOf and Go's strict argument typing
//     ("expected int; got int64") come out as in Go.
//
// Values are cheap to copy (containers are shared). Destroying a very deep
// value does not recurse (children are released iteratively), so hostile
// templates cannot overflow the stack that way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace flotilla::common::tmpl {

using Json = nlohmann::json;

struct SemverVersion;

// Go type of an integer value.
enum class IntType : uint8_t { kInt, kInt64, kUint8 };
// Go element type of a slice or map.
enum class ElemType : uint8_t { kInterface, kString, kInt };

// Base of the shared parts of a value.
struct Object {
  virtual ~Object() = default;
};

class Value;
struct ListRep;
struct MapRep;
struct MethodTable;  // funcs.h

class Value {
 public:
  enum class Kind : uint8_t {
    kMissing,  // Go's invalid reflect.Value
    kNil,      // a nil interface{}
    kBool,
    kInt,    // int or int64 (see int_type())
    kUint,   // uint64 (only from JSON integers above INT64_MAX)
    kFloat,  // float64
    kString,
    kList,    // a slice; null rep = nil slice
    kMap,     // map[string]...; null rep = nil map
    kTime,    // time.Time
    kSemver,  // *semver.Version
  };

  Value() = default;  // missing
  static Value Missing() { return Value(); }
  static Value Nil();
  static Value Bool(bool b);
  static Value Int(int64_t i, IntType type = IntType::kInt);
  static Value Uint(uint64_t u);
  static Value Float(double f);
  static Value String(std::string s);
  static Value List(std::vector<Value> items, ElemType elem = ElemType::kInterface);
  static Value NilList(ElemType elem = ElemType::kInterface);
  static Value Map(std::map<std::string, Value> entries = {}, ElemType elem = ElemType::kInterface);
  static Value NilMap(ElemType elem = ElemType::kInterface);
  static Value Time(absl::Time t, absl::TimeZone zone);
  static Value Semver(const SemverVersion& v);

  Kind kind() const { return kind_; }
  bool is_missing() const { return kind_ == Kind::kMissing; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  // Missing or nil: what Go's fmt prints as <nil> and sprig treats as nil.
  bool is_nilish() const { return kind_ == Kind::kMissing || kind_ == Kind::kNil; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_number() const {
    return kind_ == Kind::kInt || kind_ == Kind::kUint || kind_ == Kind::kFloat;
  }

  bool boxed() const { return boxed_; }
  Value& set_boxed(bool b) {
    boxed_ = b;
    return *this;
  }
  Value Unboxed() const {
    Value v = *this;
    v.boxed_ = false;
    return v;
  }

  bool bool_value() const { return b_; }
  int64_t int_value() const { return i_; }
  IntType int_type() const { return int_type_; }
  uint64_t uint_value() const { return u_; }
  double float_value() const { return f_; }
  const std::string& str() const { return s_; }

  // Lists: null for a nil slice. Elements are read with ListElem().
  const ListRep* list() const;
  // Maps: null for a nil map. Go maps are references, so this is mutable.
  MapRep* map() const;
  ElemType elem_type() const;
  size_t Len() const;  // strings (bytes), lists, maps; 0 otherwise

  absl::Time time() const;
  absl::TimeZone time_zone() const;
  const SemverVersion& semver() const;

  // Releases the shared part; used to destroy deep values iteratively.
  std::shared_ptr<Object> TakeObject() { return std::move(obj_); }
  std::weak_ptr<Object> WeakObject() const { return obj_; }
  // The shared part's address: pointer identity, as Go compares pointers.
  const void* identity() const { return obj_.get(); }

 private:
  Kind kind_ = Kind::kMissing;
  IntType int_type_ = IntType::kInt;
  bool boxed_ = false;
  union {
    bool b_;
    int64_t i_ = 0;
    uint64_t u_;
    double f_;
  };
  std::string s_;
  std::shared_ptr<Object> obj_;
};

struct ListRep : Object {
  ~ListRep() override;
  ElemType elem = ElemType::kInterface;
  std::vector<Value> items;
};

struct MapRep : Object {
  ~MapRep() override;
  ElemType elem = ElemType::kInterface;
  std::map<std::string, Value> entries;
  // Methods callable on this map as `.Map.Name args...` (Go methods on a
  // map type, such as Helm's Files.Get). Null for plain maps; a method of a
  // name shadows the entry of that name.
  std::shared_ptr<const MethodTable> methods;
};

struct TimeRep : Object {
  absl::Time t;
  absl::TimeZone zone;
};

// Reading an element marks it boxed when the container holds interface{}.
Value ListElem(const ListRep& list, size_t i);
// The entry for `key`, boxed like ListElem; Missing() when absent.
Value MapGet(const MapRep& map, const std::string& key);
// Stores a value in a container slot: missing becomes nil, boxing is dropped.
Value ForStorage(Value v);

// Go's text/template truth: false, 0, nil, missing, and empty strings, lists
// and maps are false; everything else is true.
bool IsTrue(const Value& v);

// The Go type as %T and sprig's typeOf print it ("int", "[]interface {}",
// "map[string]interface {}", "<nil>", "*semver.Version", ...).
std::string GoTypeName(const Value& v);
// reflect.Kind as sprig's kindOf prints it ("int", "slice", "map", "invalid").
std::string GoKindName(const Value& v);
// The type Go names in "wrong type" errors: "interface {}" for boxed values.
std::string StaticTypeName(const Value& v);

// How JSON numbers become values: Go's encoding/json makes every number a
// float64; YAML decoders (and Fleet's typed values) keep integers as int.
enum class JsonNumbers { kKeepIntegers, kAllFloat64 };

// Converts decoded JSON to a value (objects -> map[string]interface{}, arrays
// -> []interface{}). Fails with InvalidArgument beyond `max_depth` levels.
absl::StatusOr<Value> ValueFromJson(const Json& json,
                                    JsonNumbers numbers = JsonNumbers::kKeepIntegers,
                                    int max_depth = 1000);
// The reverse: times become RFC 3339 strings and versions their string form,
// as Go's encoding/json writes them. Fails beyond `max_depth` levels (which a
// value that contains itself reaches).
absl::StatusOr<Json> ValueToJson(const Value& v, int max_depth = 1000);

// reflect.DeepEqual: types must match exactly (int 1 differs from int64 1 and
// from float64 1), nil and empty containers differ.
absl::StatusOr<bool> DeepEqual(const Value& a, const Value& b, int max_depth = 1000);
// A copy that shares no map or list with the original (copystructure.Copy).
absl::StatusOr<Value> DeepCopy(const Value& v, int max_depth = 1000);

// The error for a value nested beyond a walker's depth limit.
absl::Status TooDeepError(int max_depth);

}  // namespace flotilla::common::tmpl
