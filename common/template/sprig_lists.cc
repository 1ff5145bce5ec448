// Sprig's list and dict functions (sprig/list.go, dict.go). Lists are never
// changed in place; dicts are Go maps, so set/unset/merge change the map
// every holder sees. merge and mergeOverwrite follow mergo's rules.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

absl::Status KindError(const std::string& prefix, const Value& v, const std::string& suffix = "") {
  if (v.is_nilish()) return NilDereference();
  return absl::InvalidArgumentError(absl::StrCat(prefix, KindName(v), suffix));
}

// The elements of a slice argument as interface{} values (what
// l2.Index(i).Interface() gives), or an error naming the kind.
absl::StatusOr<std::vector<Value>> Elements(const Value& list, const std::string& what,
                                            CallContext& ctx) {
  if (!list.is_list()) return KindError(absl::StrCat("Cannot ", what, " on type "), list);
  RETURN_IF_ERROR(ChargeElements(ctx, list.Len()));
  if (list.list() == nullptr) return std::vector<Value>();
  std::vector<Value> items;
  items.reserve(list.list()->items.size());
  for (const Value& v : list.list()->items) items.push_back(v.Unboxed());
  return items;
}

absl::StatusOr<bool> InList(const std::vector<Value>& haystack, const Value& needle, int depth) {
  for (const Value& h : haystack) {
    ASSIGN_OR_RETURN(bool eq, DeepEqual(needle, h, depth));
    if (eq) return true;
  }
  return false;
}

absl::Status CheckLength(CallContext& ctx, size_t n) {
  if (n > ctx.limits().max_list_length) {
    return absl::ResourceExhaustedError(
        absl::StrCat("list of more than ", ctx.limits().max_list_length, " elements"));
  }
  return absl::OkStatus();
}

// Registers `name` and `mustName`: Sprig's plain form panics with the same
// error its must form returns, so both fail the call identically.
void AddPair(FuncMap* m, const std::string& name, Signature sig, TemplateFn fn) {
  std::string must = "must" + name;
  must[4] = static_cast<char>(std::toupper(static_cast<unsigned char>(must[4])));
  m->Add(name, sig, fn);
  m->Add(must, sig, fn);
}

bool IsEmptyValue(const Value& v) { return !IsTrue(v.Unboxed()); }

// mergo.Merge / MergeWithOverwrite for map[string]interface{}.
absl::Status MergeInto(MapRep* dst, const MapRep& src, bool overwrite, int depth, int max_depth,
                       CallContext& ctx) {
  if (depth > max_depth) return TooDeepError(max_depth);
  RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(src.entries.size())));
  // Snapshot: merging a map into itself must not see its own changes.
  std::vector<std::pair<std::string, Value>> entries(src.entries.begin(), src.entries.end());
  for (const auto& [key, sv] : entries) {
    auto it = dst->entries.find(key);
    bool has_dv = it != dst->entries.end();
    if (sv.is_nil()) {
      if (overwrite) dst->entries[key] = Value::Nil();
      continue;
    }
    if (sv.is_map() && has_dv && it->second.is_map() && it->second.map() != nullptr &&
        sv.map() != nullptr) {
      RETURN_IF_ERROR(MergeInto(it->second.map(), *sv.map(), overwrite, depth + 1, max_depth, ctx));
    }
    if (sv.is_list() && overwrite) {
      dst->entries[key] = sv;
      continue;
    }
    if (has_dv && !IsEmptyValue(it->second) && (sv.is_map() || sv.is_list())) continue;
    if (overwrite || !has_dv || IsEmptyValue(it->second)) dst->entries[key] = sv;
  }
  return absl::OkStatus();
}

Value DictOf(std::map<std::string, Value> entries) { return Value::Map(std::move(entries)); }

}  // namespace

void AddListFunctions(FuncMap* m, const Env&) {
  m->Add("list", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(ChargeElements(ctx, a.size()));
           return Value::List(a);
         });
  m->Add(
      "tuple", VariadicSig({PT::kAny}),
      [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> { return Value::List(a); });
  auto push = [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
    ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "push", ctx));
    RETURN_IF_ERROR(CheckLength(ctx, items.size() + 1));
    items.push_back(a[1]);
    return Value::List(std::move(items));
  };
  AddPair(m, "push", Sig({PT::kAny, PT::kAny}), push);
  AddPair(m, "append", Sig({PT::kAny, PT::kAny}), push);
  AddPair(m, "prepend", Sig({PT::kAny, PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "prepend", ctx));
            RETURN_IF_ERROR(CheckLength(ctx, items.size() + 1));
            items.insert(items.begin(), a[1]);
            return Value::List(std::move(items));
          });
  AddPair(m, "first", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find first", ctx));
            return items.empty() ? Value::Nil() : items.front();
          });
  AddPair(m, "last", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find last", ctx));
            return items.empty() ? Value::Nil() : items.back();
          });
  AddPair(m, "rest", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find rest", ctx));
            if (items.empty()) return Value::NilList();
            items.erase(items.begin());
            return Value::List(std::move(items));
          });
  AddPair(m, "initial", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find initial", ctx));
            if (items.empty()) return Value::NilList();
            items.pop_back();
            return Value::List(std::move(items));
          });
  AddPair(m, "reverse", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find reverse", ctx));
            std::reverse(items.begin(), items.end());
            return Value::List(std::move(items));
          });
  AddPair(m, "compact", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "compact", ctx));
            std::vector<Value> out;
            for (Value& v : items) {
              if (IsTrue(v)) out.push_back(std::move(v));
            }
            return Value::List(std::move(out));
          });
  AddPair(m, "uniq", Sig({PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find uniq", ctx));
            RETURN_IF_ERROR(ChargeElements(ctx, items.size() * items.size() / 16));
            std::vector<Value> out;
            for (Value& v : items) {
              ASSIGN_OR_RETURN(bool seen, InList(out, v, ctx.limits().max_value_depth));
              if (!seen) out.push_back(std::move(v));
            }
            return Value::List(std::move(out));
          });
  AddPair(m, "without", VariadicSig({PT::kAny, PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "find without", ctx));
            std::vector<Value> omit(a.begin() + 1, a.end());
            RETURN_IF_ERROR(ChargeElements(ctx, items.size() * omit.size() / 16));
            std::vector<Value> out;
            for (Value& v : items) {
              ASSIGN_OR_RETURN(bool drop, InList(omit, v, ctx.limits().max_value_depth));
              if (!drop) out.push_back(std::move(v));
            }
            return Value::List(std::move(out));
          });
  AddPair(m, "has", Sig({PT::kAny, PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            if (a[1].is_nilish()) return Value::Bool(false);
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[1], "find has", ctx));
            ASSIGN_OR_RETURN(bool found, InList(items, a[0], ctx.limits().max_value_depth));
            return Value::Bool(found);
          });
  AddPair(m, "slice", VariadicSig({PT::kAny, PT::kAny}),
          [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
            if (!a[0].is_list()) {
              return KindError("list should be type of slice or array but ", a[0]);
            }
            ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[0], "slice", ctx));
            if (items.empty()) return Value::Nil();
            int64_t start = 0;
            int64_t end = static_cast<int64_t>(items.size());
            if (a.size() > 1) start = ToInt64(a[1]);
            if (a.size() > 2) end = ToInt64(a[2]);
            if (start < 0 || end < start || end > static_cast<int64_t>(items.size())) {
              return absl::InvalidArgumentError("reflect: slice index out of range");
            }
            std::vector<Value> out(items.begin() + start, items.begin() + end);
            return Value::List(std::move(out), a[0].elem_type());
          });
  m->Add("concat", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<Value> out;
           for (const Value& l : a) {
             if (!l.is_list()) {
               if (l.is_nilish()) return NilDereference();
               return absl::InvalidArgumentError(
                   absl::StrCat("Cannot concat type ", KindName(l), " as list"));
             }
             ASSIGN_OR_RETURN(std::vector<Value> items, Elements(l, "concat", ctx));
             RETURN_IF_ERROR(CheckLength(ctx, out.size() + items.size()));
             out.insert(out.end(), items.begin(), items.end());
           }
           if (out.empty()) return Value::NilList();
           return Value::List(std::move(out));
         });
  AddPair(
      m, "chunk", Sig({PT::kInt, PT::kAny}),
      [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
        int64_t size = a[0].int_value();
        if (!a[1].is_list()) return KindError("Cannot chunk type ", a[1]);
        ASSIGN_OR_RETURN(std::vector<Value> items, Elements(a[1], "chunk", ctx));
        if (items.empty()) return Value::List({});
        if (size <= 0)
          return absl::InvalidArgumentError("runtime error: makeslice: len out of range");
        std::vector<Value> chunks;
        for (size_t i = 0; i < items.size(); i += static_cast<size_t>(size)) {
          size_t end = std::min(items.size(), i + static_cast<size_t>(size));
          chunks.push_back(Value::List(std::vector<Value>(items.begin() + i, items.begin() + end)));
        }
        return Value::List(std::move(chunks));
      });
}

void AddDictFunctions(FuncMap* m, const Env&) {
  m->Add("dict", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(ChargeElements(ctx, a.size()));
           std::map<std::string, Value> entries;
           for (size_t i = 0; i < a.size(); i += 2) {
             std::string key = Strval(a[i]);
             entries[key] = i + 1 < a.size() ? a[i + 1] : Value::String("");
           }
           return DictOf(std::move(entries));
         });
  m->Add("get", Sig({PT::kMap, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           const MapRep* d = a[0].map();
           if (d == nullptr) return Value::String("");
           auto it = d->entries.find(a[1].str());
           if (it == d->entries.end()) return Value::String("");
           return it->second;
         });
  m->Add("set", Sig({PT::kMap, PT::kString, PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           MapRep* d = a[0].map();
           if (d == nullptr) return absl::InvalidArgumentError("assignment to entry in nil map");
           d->entries[a[1].str()] = ForStorage(a[2]);
           if (a[2].is_map() || a[2].is_list()) ctx.NoteMutation(a[0]);
           return a[0];
         });
  m->Add("unset", Sig({PT::kMap, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           MapRep* d = a[0].map();
           if (d != nullptr) d->entries.erase(a[1].str());
           return a[0];
         });
  m->Add("hasKey", Sig({PT::kMap, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           const MapRep* d = a[0].map();
           return Value::Bool(d != nullptr && d->entries.count(a[1].str()) > 0);
         });
  m->Add("pluck", VariadicSig({PT::kString, PT::kMap}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(ChargeElements(ctx, a.size()));
           std::vector<Value> out;
           for (size_t i = 1; i < a.size(); ++i) {
             const MapRep* d = a[i].map();
             if (d == nullptr) continue;
             auto it = d->entries.find(a[0].str());
             if (it != d->entries.end()) out.push_back(it->second);
           }
           return Value::List(std::move(out));
         });
  m->Add("keys", VariadicSig({PT::kMap}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<std::string> out;
           for (const Value& d : a) {
             if (d.map() == nullptr) continue;
             RETURN_IF_ERROR(ChargeElements(ctx, d.Len()));
             for (const auto& [k, v] : d.map()->entries) out.push_back(k);
           }
           return StringList(std::move(out));
         });
  m->Add("values", Sig({PT::kMap}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<Value> out;
           if (a[0].map() != nullptr) {
             RETURN_IF_ERROR(ChargeElements(ctx, a[0].Len()));
             for (const auto& [k, v] : a[0].map()->entries) out.push_back(v);
           }
           return Value::List(std::move(out));
         });
  m->Add("pick", VariadicSig({PT::kMap, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(ChargeElements(ctx, a.size()));
           std::map<std::string, Value> out;
           const MapRep* d = a[0].map();
           for (size_t i = 1; i < a.size() && d != nullptr; ++i) {
             auto it = d->entries.find(a[i].str());
             if (it != d->entries.end()) out[it->first] = it->second;
           }
           return DictOf(std::move(out));
         });
  m->Add("omit", VariadicSig({PT::kMap, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::map<std::string, Value> out;
           const MapRep* d = a[0].map();
           if (d != nullptr) {
             RETURN_IF_ERROR(ChargeElements(ctx, d->entries.size()));
             out = d->entries;
             for (size_t i = 1; i < a.size(); ++i) out.erase(a[i].str());
           }
           return DictOf(std::move(out));
         });
  auto merge = [](bool overwrite) {
    return [overwrite](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      Value dst = a[0];
      if (dst.map() == nullptr) dst = Value::Map();
      for (size_t i = 1; i < a.size(); ++i) {
        if (a[i].map() == nullptr) continue;
        RETURN_IF_ERROR(
            MergeInto(dst.map(), *a[i].map(), overwrite, 0, ctx.limits().max_value_depth, ctx));
      }
      ctx.NoteMutation(dst);
      return dst;
    };
  };
  AddPair(m, "merge", VariadicSig({PT::kMap, PT::kMap}), merge(false));
  AddPair(m, "mergeOverwrite", VariadicSig({PT::kMap, PT::kMap}), merge(true));
  m->Add("dig", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           if (a.size() < 3)
             return absl::InvalidArgumentError("dig needs at least three arguments");
           const Value& dict = a.back();
           if (!dict.is_map() || dict.elem_type() != ElemType::kInterface) {
             return absl::InvalidArgumentError(
                 absl::StrCat("interface conversion: interface {} is ", GoTypeName(dict),
                              ", not map[string]interface {}"));
           }
           const Value& def = a[a.size() - 2];
           std::vector<std::string> keys;
           for (size_t i = 0; i + 2 < a.size(); ++i) {
             if (!a[i].is_string()) {
               return absl::InvalidArgumentError(absl::StrCat(
                   "interface conversion: interface {} is ", GoTypeName(a[i]), ", not string"));
             }
             keys.push_back(a[i].str());
           }
           Value cur = dict;
           for (size_t i = 0; i < keys.size(); ++i) {
             const MapRep* d = cur.map();
             if (d == nullptr) return def;
             auto it = d->entries.find(keys[i]);
             if (it == d->entries.end()) return def;
             if (i + 1 == keys.size()) return it->second;
             cur = it->second;
             if (!cur.is_map() || cur.elem_type() != ElemType::kInterface) {
               return absl::InvalidArgumentError(
                   absl::StrCat("interface conversion: interface {} is ", GoTypeName(cur),
                                ", not map[string]interface {}"));
             }
           }
           return def;
         });
}

}  // namespace flotilla::common::tmpl::sprig
