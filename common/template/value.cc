#include "common/template/value.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/semver.h"
#include "common/template/time_format.h"

namespace flotilla::common::tmpl {

namespace {

struct SemverRep : Object {
  SemverVersion v;
};

// Destroys shared parts iteratively: a container being destroyed hands its
// children here instead of destroying them inside its own destructor, so a
// value nested a million levels deep does not overflow the stack.
void ReleaseDeferred(std::shared_ptr<Object> obj) {
  if (obj == nullptr) return;
  static thread_local std::vector<std::shared_ptr<Object>> pending;
  static thread_local bool draining = false;
  pending.push_back(std::move(obj));
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Object> next = std::move(pending.back());
    pending.pop_back();
    next.reset();
  }
  draining = false;
}

}  // namespace

ListRep::~ListRep() {
  for (Value& v : items) ReleaseDeferred(v.TakeObject());
}

MapRep::~MapRep() {
  for (auto& [k, v] : entries) ReleaseDeferred(v.TakeObject());
}

Value Value::Nil() {
  Value v;
  v.kind_ = Kind::kNil;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  return v;
}

Value Value::Int(int64_t i, IntType type) {
  Value v;
  v.kind_ = Kind::kInt;
  v.int_type_ = type;
  v.i_ = i;
  return v;
}

Value Value::Uint(uint64_t u) {
  Value v;
  v.kind_ = Kind::kUint;
  v.u_ = u;
  return v;
}

Value Value::Float(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.s_ = std::move(s);
  return v;
}

Value Value::List(std::vector<Value> items, ElemType elem) {
  auto rep = std::make_shared<ListRep>();
  rep->elem = elem;
  rep->items = std::move(items);
  for (Value& item : rep->items) item = ForStorage(std::move(item));
  Value v;
  v.kind_ = Kind::kList;
  v.obj_ = std::move(rep);
  return v;
}

Value Value::NilList(ElemType elem) {
  Value v;
  v.kind_ = Kind::kList;
  // A nil slice has no rep; its element type (shown by %T) is kept in the
  // integer slot.
  v.i_ = static_cast<int64_t>(elem);
  return v;
}

Value Value::Map(std::map<std::string, Value> entries, ElemType elem) {
  auto rep = std::make_shared<MapRep>();
  rep->elem = elem;
  rep->entries = std::move(entries);
  for (auto& [k, item] : rep->entries) item = ForStorage(std::move(item));
  Value v;
  v.kind_ = Kind::kMap;
  v.obj_ = std::move(rep);
  return v;
}

Value Value::NilMap(ElemType elem) {
  Value v;
  v.kind_ = Kind::kMap;
  v.i_ = static_cast<int64_t>(elem);
  return v;
}

Value Value::Time(absl::Time t, absl::TimeZone zone) {
  auto rep = std::make_shared<TimeRep>();
  rep->t = t;
  rep->zone = zone;
  Value v;
  v.kind_ = Kind::kTime;
  v.obj_ = std::move(rep);
  return v;
}

Value Value::Semver(const SemverVersion& version) {
  auto rep = std::make_shared<SemverRep>();
  rep->v = version;
  Value v;
  v.kind_ = Kind::kSemver;
  v.obj_ = std::move(rep);
  return v;
}

const ListRep* Value::list() const {
  if (kind_ != Kind::kList) return nullptr;
  return static_cast<const ListRep*>(obj_.get());
}

MapRep* Value::map() const {
  if (kind_ != Kind::kMap) return nullptr;
  return static_cast<MapRep*>(obj_.get());
}

ElemType Value::elem_type() const {
  if (kind_ == Kind::kList) {
    if (obj_ == nullptr) return static_cast<ElemType>(i_);
    return list()->elem;
  }
  if (kind_ == Kind::kMap) {
    if (obj_ == nullptr) return static_cast<ElemType>(i_);
    return map()->elem;
  }
  return ElemType::kInterface;
}

size_t Value::Len() const {
  switch (kind_) {
    case Kind::kString:
      return s_.size();
    case Kind::kList:
      return obj_ == nullptr ? 0 : list()->items.size();
    case Kind::kMap:
      return obj_ == nullptr ? 0 : map()->entries.size();
    default:
      return 0;
  }
}

absl::Time Value::time() const { return static_cast<const TimeRep*>(obj_.get())->t; }

absl::TimeZone Value::time_zone() const { return static_cast<const TimeRep*>(obj_.get())->zone; }

const SemverVersion& Value::semver() const { return static_cast<const SemverRep*>(obj_.get())->v; }

Value ListElem(const ListRep& list, size_t i) {
  Value v = list.items[i];
  v.set_boxed(list.elem == ElemType::kInterface);
  return v;
}

Value MapGet(const MapRep& map, const std::string& key) {
  auto it = map.entries.find(key);
  if (it == map.entries.end()) return Value::Missing();
  Value v = it->second;
  v.set_boxed(map.elem == ElemType::kInterface);
  return v;
}

Value ForStorage(Value v) {
  if (v.is_missing()) return Value::Nil();
  v.set_boxed(false);
  return v;
}

bool IsTrue(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kMissing:
    case Value::Kind::kNil:
      return false;
    case Value::Kind::kBool:
      return v.bool_value();
    case Value::Kind::kInt:
      return v.int_value() != 0;
    case Value::Kind::kUint:
      return v.uint_value() != 0;
    case Value::Kind::kFloat:
      return v.float_value() != 0;
    case Value::Kind::kString:
    case Value::Kind::kList:
    case Value::Kind::kMap:
      return v.Len() > 0;
    case Value::Kind::kTime:
    case Value::Kind::kSemver:
      return true;
  }
  return false;
}

namespace {

const char* ElemName(ElemType e) {
  switch (e) {
    case ElemType::kString:
      return "string";
    case ElemType::kInt:
      return "int";
    case ElemType::kInterface:
      break;
  }
  return "interface {}";
}

}  // namespace

std::string GoTypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kMissing:
    case Value::Kind::kNil:
      return "<nil>";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      switch (v.int_type()) {
        case IntType::kInt:
          return "int";
        case IntType::kInt64:
          return "int64";
        case IntType::kUint8:
          return "uint8";
      }
      return "int";
    case Value::Kind::kUint:
      return "uint64";
    case Value::Kind::kFloat:
      return "float64";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kList:
      return absl::StrCat("[]", ElemName(v.elem_type()));
    case Value::Kind::kMap:
      return absl::StrCat("map[string]", ElemName(v.elem_type()));
    case Value::Kind::kTime:
      return "time.Time";
    case Value::Kind::kSemver:
      return "*semver.Version";
  }
  return "<nil>";
}

std::string GoKindName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kMissing:
    case Value::Kind::kNil:
      return "invalid";
    case Value::Kind::kList:
      return "slice";
    case Value::Kind::kMap:
      return "map";
    case Value::Kind::kTime:
      return "struct";
    case Value::Kind::kSemver:
      return "ptr";
    default:
      return GoTypeName(v);
  }
}

std::string StaticTypeName(const Value& v) {
  if (v.boxed()) return "interface {}";
  return GoTypeName(v);
}

absl::Status TooDeepError(int max_depth) {
  return absl::InvalidArgumentError(absl::StrCat("value nested more than ", max_depth,
                                                 " levels deep (a map that contains itself?)"));
}

namespace {

absl::StatusOr<Value> FromJsonRec(const Json& j, JsonNumbers numbers, int depth) {
  if (depth < 0) return TooDeepError(0);
  switch (j.type()) {
    case Json::value_t::null:
      return Value::Nil();
    case Json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case Json::value_t::number_integer:
      if (numbers == JsonNumbers::kAllFloat64) {
        return Value::Float(static_cast<double>(j.get<int64_t>()));
      }
      return Value::Int(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (numbers == JsonNumbers::kAllFloat64) return Value::Float(static_cast<double>(u));
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Int(static_cast<int64_t>(u));
      }
      return Value::Uint(u);
    }
    case Json::value_t::number_float:
      return Value::Float(j.get<double>());
    case Json::value_t::string:
      return Value::String(j.get<std::string>());
    case Json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const Json& e : j) {
        ASSIGN_OR_RETURN(Value item, FromJsonRec(e, numbers, depth - 1));
        items.push_back(std::move(item));
      }
      return Value::List(std::move(items));
    }
    case Json::value_t::object: {
      std::map<std::string, Value> entries;
      for (auto it = j.begin(); it != j.end(); ++it) {
        ASSIGN_OR_RETURN(Value item, FromJsonRec(it.value(), numbers, depth - 1));
        entries.emplace(it.key(), std::move(item));
      }
      return Value::Map(std::move(entries));
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return Value::Nil();
}

}  // namespace

absl::StatusOr<Value> ValueFromJson(const Json& json, JsonNumbers numbers, int max_depth) {
  absl::StatusOr<Value> v = FromJsonRec(json, numbers, max_depth);
  if (!v.ok()) return TooDeepError(max_depth);
  return v;
}

namespace {

absl::StatusOr<Json> ToJsonRec(const Value& v, int depth, int max_depth) {
  if (depth > max_depth) return TooDeepError(max_depth);
  switch (v.kind()) {
    case Value::Kind::kMissing:
    case Value::Kind::kNil:
      return Json(nullptr);
    case Value::Kind::kBool:
      return Json(v.bool_value());
    case Value::Kind::kInt:
      return Json(v.int_value());
    case Value::Kind::kUint:
      return Json(v.uint_value());
    case Value::Kind::kFloat:
      return Json(v.float_value());
    case Value::Kind::kString:
      return Json(v.str());
    case Value::Kind::kList: {
      if (v.list() == nullptr) return Json(nullptr);
      Json out = Json::array();
      for (const Value& e : v.list()->items) {
        ASSIGN_OR_RETURN(Json j, ToJsonRec(e, depth + 1, max_depth));
        out.push_back(std::move(j));
      }
      return out;
    }
    case Value::Kind::kMap: {
      if (v.map() == nullptr) return Json(nullptr);
      Json out = Json::object();
      for (const auto& [k, e] : v.map()->entries) {
        ASSIGN_OR_RETURN(Json j, ToJsonRec(e, depth + 1, max_depth));
        out[k] = std::move(j);
      }
      return out;
    }
    case Value::Kind::kTime:
      return Json(FormatGoTime(v.time(), v.time_zone(), kRFC3339NanoLayout));
    case Value::Kind::kSemver:
      return Json(v.semver().String());
  }
  return Json(nullptr);
}

absl::StatusOr<bool> DeepEqualRec(const Value& a, const Value& b, int depth, int max_depth) {
  if (depth > max_depth) return TooDeepError(max_depth);
  if (a.is_nilish() || b.is_nilish()) return a.is_nilish() && b.is_nilish();
  if (GoTypeName(a) != GoTypeName(b)) return false;
  switch (a.kind()) {
    case Value::Kind::kBool:
      return a.bool_value() == b.bool_value();
    case Value::Kind::kInt:
      return a.int_value() == b.int_value();
    case Value::Kind::kUint:
      return a.uint_value() == b.uint_value();
    case Value::Kind::kFloat:
      return a.float_value() == b.float_value();
    case Value::Kind::kString:
      return a.str() == b.str();
    case Value::Kind::kList: {
      const ListRep* la = a.list();
      const ListRep* lb = b.list();
      if ((la == nullptr) != (lb == nullptr)) return false;
      if (la == nullptr || la == lb) return true;
      if (la->items.size() != lb->items.size()) return false;
      for (size_t i = 0; i < la->items.size(); ++i) {
        ASSIGN_OR_RETURN(bool eq, DeepEqualRec(la->items[i], lb->items[i], depth + 1, max_depth));
        if (!eq) return false;
      }
      return true;
    }
    case Value::Kind::kMap: {
      const MapRep* ma = a.map();
      const MapRep* mb = b.map();
      if ((ma == nullptr) != (mb == nullptr)) return false;
      if (ma == nullptr || ma == mb) return true;
      if (ma->entries.size() != mb->entries.size()) return false;
      auto ib = mb->entries.begin();
      for (const auto& [k, e] : ma->entries) {
        if (k != ib->first) return false;
        ASSIGN_OR_RETURN(bool eq, DeepEqualRec(e, ib->second, depth + 1, max_depth));
        if (!eq) return false;
        ++ib;
      }
      return true;
    }
    case Value::Kind::kTime:
      return a.time() == b.time() && a.time_zone().name() == b.time_zone().name();
    case Value::Kind::kSemver: {
      const SemverVersion& x = a.semver();
      const SemverVersion& y = b.semver();
      return x.major == y.major && x.minor == y.minor && x.patch == y.patch &&
             x.prerelease == y.prerelease && x.metadata == y.metadata && x.original == y.original;
    }
    default:
      return false;
  }
}

absl::StatusOr<Value> DeepCopyRec(const Value& v, int depth, int max_depth) {
  if (depth > max_depth) return TooDeepError(max_depth);
  if (v.is_list() && v.list() != nullptr) {
    std::vector<Value> items;
    items.reserve(v.list()->items.size());
    for (const Value& e : v.list()->items) {
      ASSIGN_OR_RETURN(Value c, DeepCopyRec(e, depth + 1, max_depth));
      items.push_back(std::move(c));
    }
    return Value::List(std::move(items), v.elem_type()).set_boxed(v.boxed());
  }
  if (v.is_map() && v.map() != nullptr) {
    std::map<std::string, Value> entries;
    for (const auto& [k, e] : v.map()->entries) {
      ASSIGN_OR_RETURN(Value c, DeepCopyRec(e, depth + 1, max_depth));
      entries.emplace(k, std::move(c));
    }
    return Value::Map(std::move(entries), v.elem_type()).set_boxed(v.boxed());
  }
  return v;
}

}  // namespace

absl::StatusOr<Json> ValueToJson(const Value& v, int max_depth) {
  return ToJsonRec(v, 0, max_depth);
}

absl::StatusOr<bool> DeepEqual(const Value& a, const Value& b, int max_depth) {
  return DeepEqualRec(a, b, 0, max_depth);
}

absl::StatusOr<Value> DeepCopy(const Value& v, int max_depth) {
  return DeepCopyRec(v, 0, max_depth);
}

}  // namespace flotilla::common::tmpl
