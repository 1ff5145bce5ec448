// text/template's builtin functions (text/template/funcs.go), over the value
// model. and/or short-circuit inside the executor; here they are only
// declared so the parser and arity checks know them.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/format.h"
#include "common/template/funcs.h"
#include "common/template/strconv.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl {

namespace {

using PT = ParamType;

// reflect's indirectInterface: the concrete value inside an interface.
Value Indirect(const Value& v) {
  if (v.boxed()) {
    if (v.is_nil()) return Value::Missing();
    return v.Unboxed();
  }
  return v;
}

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString, kUint };

BasicKind KindOf(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kBool:
      return BasicKind::kBool;
    case Value::Kind::kInt:
      return v.int_type() == IntType::kUint8 ? BasicKind::kUint : BasicKind::kInt;
    case Value::Kind::kUint:
      return BasicKind::kUint;
    case Value::Kind::kFloat:
      return BasicKind::kFloat;
    case Value::Kind::kString:
      return BasicKind::kString;
    default:
      return BasicKind::kInvalid;
  }
}

uint64_t UintOf(const Value& v) {
  return v.kind() == Value::Kind::kUint ? v.uint_value() : static_cast<uint64_t>(v.int_value());
}

// The reflect.Kind name used to decide whether two non-basic values can be
// compared at all.
std::string ReflectKind(const Value& v) {
  if (v.is_missing()) return "invalid";
  return GoKindName(v);
}

bool IsNilValue(const Value& v) {
  if (v.is_nilish()) return true;
  if (v.is_map()) return v.map() == nullptr;
  if (v.is_list()) return v.list() == nullptr;
  return false;
}

std::string TypeString(const Value& v) { return GoTypeName(v); }

absl::StatusOr<bool> Equal(const Value& a1, const std::vector<Value>& rest) {
  Value arg1 = Indirect(a1);
  if (rest.empty()) return absl::InvalidArgumentError("missing argument for comparison");
  BasicKind k1 = KindOf(arg1);
  for (const Value& raw : rest) {
    Value arg = Indirect(raw);
    BasicKind k2 = KindOf(arg);
    bool truth = false;
    if (k1 != k2) {
      if (k1 == BasicKind::kInt && k2 == BasicKind::kUint) {
        truth = arg1.int_value() >= 0 && static_cast<uint64_t>(arg1.int_value()) == UintOf(arg);
      } else if (k1 == BasicKind::kUint && k2 == BasicKind::kInt) {
        truth = arg.int_value() >= 0 && UintOf(arg1) == static_cast<uint64_t>(arg.int_value());
      } else if (!arg1.is_missing() && !arg.is_missing()) {
        return absl::InvalidArgumentError("incompatible types for comparison");
      }
    } else {
      switch (k1) {
        case BasicKind::kBool:
          truth = arg1.bool_value() == arg.bool_value();
          break;
        case BasicKind::kFloat:
          truth = arg1.float_value() == arg.float_value();
          break;
        case BasicKind::kInt:
          truth = arg1.int_value() == arg.int_value();
          break;
        case BasicKind::kString:
          truth = arg1.str() == arg.str();
          break;
        case BasicKind::kUint:
          truth = UintOf(arg1) == UintOf(arg);
          break;
        case BasicKind::kInvalid: {
          std::string r1 = ReflectKind(arg1);
          std::string r2 = ReflectKind(arg);
          if (r1 != r2 && r1 != "invalid" && r2 != "invalid") {
            ASSIGN_OR_RETURN(std::string msg, GoSprintf("non-comparable types %s: %v, %s: %v",
                                                        {arg1, Value::String(TypeString(arg1)),
                                                         Value::String(TypeString(arg)), arg}));
            return absl::InvalidArgumentError(msg);
          }
          if (IsNilValue(arg1) || IsNilValue(arg)) {
            truth = IsNilValue(arg) == IsNilValue(arg1);
          } else {
            if (arg.is_map() || arg.is_list()) {
              ASSIGN_OR_RETURN(std::string msg, GoSprintf("non-comparable type %s: %v",
                                                          {arg, Value::String(TypeString(arg))}));
              return absl::InvalidArgumentError(msg);
            }
            if (arg1.kind() == Value::Kind::kTime) {
              truth = arg1.time() == arg.time() && arg1.time_zone() == arg.time_zone();
            } else {
              truth = arg1.identity() == arg.identity();
            }
          }
          break;
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

absl::StatusOr<bool> Less(const Value& a1, const Value& a2) {
  Value arg1 = Indirect(a1);
  Value arg2 = Indirect(a2);
  BasicKind k1 = KindOf(arg1);
  BasicKind k2 = KindOf(arg2);
  if (k1 == BasicKind::kInvalid || k2 == BasicKind::kInvalid) {
    return absl::InvalidArgumentError("invalid type for comparison");
  }
  if (k1 != k2) {
    if (k1 == BasicKind::kInt && k2 == BasicKind::kUint) {
      return arg1.int_value() < 0 || static_cast<uint64_t>(arg1.int_value()) < UintOf(arg2);
    }
    if (k1 == BasicKind::kUint && k2 == BasicKind::kInt) {
      return arg2.int_value() >= 0 && UintOf(arg1) < static_cast<uint64_t>(arg2.int_value());
    }
    return absl::InvalidArgumentError("incompatible types for comparison");
  }
  switch (k1) {
    case BasicKind::kBool:
      return absl::InvalidArgumentError("invalid type for comparison");
    case BasicKind::kFloat:
      return arg1.float_value() < arg2.float_value();
    case BasicKind::kInt:
      return arg1.int_value() < arg2.int_value();
    case BasicKind::kString:
      return arg1.str() < arg2.str();
    case BasicKind::kUint:
      return UintOf(arg1) < UintOf(arg2);
    case BasicKind::kInvalid:
      break;
  }
  return absl::InvalidArgumentError("invalid type for comparison");
}

// indexArg: an index into something of length `cap`.
absl::StatusOr<int64_t> IndexArg(const Value& raw, size_t cap) {
  Value index = Indirect(raw);
  int64_t x;
  if (index.kind() == Value::Kind::kInt) {
    x = index.int_value();
  } else if (index.kind() == Value::Kind::kUint) {
    x = static_cast<int64_t>(index.uint_value());
  } else if (index.is_missing()) {
    return absl::InvalidArgumentError("cannot index slice/array with nil");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot index slice/array with type ", TypeString(index)));
  }
  if (x < 0 || x > static_cast<int64_t>(cap)) {
    return absl::InvalidArgumentError(absl::StrCat("index out of range: ", x));
  }
  return x;
}

absl::StatusOr<Value> Index(std::vector<Value>& args) {
  Value item = Indirect(args[0]);
  if (item.is_missing()) return absl::InvalidArgumentError("index of untyped nil");
  for (size_t i = 1; i < args.size(); ++i) {
    if (item.boxed()) {
      if (item.is_nil()) return absl::InvalidArgumentError("index of nil pointer");
      item = item.Unboxed();
    }
    if (item.is_list() || item.is_string()) {
      ASSIGN_OR_RETURN(int64_t x, IndexArg(args[i], item.Len()));
      if (static_cast<size_t>(x) == item.Len()) {
        return absl::InvalidArgumentError(item.is_string() ? "reflect: string index out of range"
                                                           : "reflect: slice index out of range");
      }
      if (item.is_string()) {
        item = Value::Int(static_cast<unsigned char>(item.str()[static_cast<size_t>(x)]),
                          IntType::kUint8);
      } else {
        item = ListElem(*item.list(), static_cast<size_t>(x));
      }
    } else if (item.is_map()) {
      Value key = Indirect(args[i]);
      if (key.is_missing() || key.is_nil()) {
        // Go's prepareArg: a string key cannot be nil (exec_test.go map[nil]).
        return absl::InvalidArgumentError("value is nil; should be of type string");
      } else if (!key.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("value has type ", TypeString(key), "; should be string"));
      }
      Value found = item.map() == nullptr ? Value::Missing() : MapGet(*item.map(), key.str());
      if (found.is_missing()) {
        found = item.elem_type() == ElemType::kString ? Value::String("")
                                                      : Value::Nil().set_boxed(true);
      }
      item = found;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("can't index item of type ", TypeString(item)));
    }
  }
  return item;
}

absl::StatusOr<Value> Slice(std::vector<Value>& args) {
  Value item = Indirect(args[0]);
  if (item.is_missing()) return absl::InvalidArgumentError("slice of untyped nil");
  size_t nidx = args.size() - 1;
  if (nidx > 3) return absl::InvalidArgumentError(absl::StrCat("too many slice indexes: ", nidx));
  if (item.is_string()) {
    if (nidx == 3) return absl::InvalidArgumentError("cannot 3-index slice a string");
  } else if (!item.is_list()) {
    return absl::InvalidArgumentError(absl::StrCat("can't slice item of type ", TypeString(item)));
  }
  size_t cap = item.Len();
  int64_t idx[3] = {0, static_cast<int64_t>(item.Len()), 0};
  for (size_t i = 0; i < nidx; ++i) {
    ASSIGN_OR_RETURN(idx[i], IndexArg(args[i + 1], cap));
  }
  if (idx[0] > idx[1]) {
    return absl::InvalidArgumentError(absl::StrCat("invalid slice index: ", idx[0], " > ", idx[1]));
  }
  if (nidx == 3 && idx[1] > idx[2]) {
    return absl::InvalidArgumentError(absl::StrCat("invalid slice index: ", idx[1], " > ", idx[2]));
  }
  if (item.is_string()) {
    return Value::String(
        item.str().substr(static_cast<size_t>(idx[0]), static_cast<size_t>(idx[1] - idx[0])));
  }
  if (item.list() == nullptr) return Value::NilList(item.elem_type());
  std::vector<Value> out(item.list()->items.begin() + idx[0], item.list()->items.begin() + idx[1]);
  return Value::List(std::move(out), item.elem_type());
}

absl::StatusOr<Value> Length(const Value& raw) {
  if (raw.boxed() && raw.is_nil()) return absl::InvalidArgumentError("len of nil pointer");
  Value item = Indirect(raw);
  if (item.is_missing()) {
    return absl::InvalidArgumentError("reflect: call of reflect.Value.Type on zero Value");
  }
  if (item.is_string() || item.is_list() || item.is_map()) {
    return Value::Int(static_cast<int64_t>(item.Len()));
  }
  return absl::InvalidArgumentError(absl::StrCat("len of type ", TypeString(item)));
}

// evalArgs: the text html/js/urlquery escape.
absl::StatusOr<std::string> EvalArgs(const std::vector<Value>& args, const Limits& limits) {
  if (args.size() == 1 && args[0].is_string()) return args[0].str();
  std::vector<Value> printable;
  printable.reserve(args.size());
  for (const Value& a : args) {
    printable.push_back(a.is_nilish() ? Value::String("<no value>") : a);
  }
  FormatLimits fl{limits.max_output_bytes, limits.max_value_depth};
  return GoSprint(printable, fl);
}

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string JsEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  while (!s.empty()) {
    auto c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\'':
          out += "\\'";
          break;
        case '"':
          out += "\\\"";
          break;
        case '<':
          out += "\\u003C";
          break;
        case '>':
          out += "\\u003E";
          break;
        case '&':
          out += "\\u0026";
          break;
        case '=':
          out += "\\u003D";
          break;
        default:
          if (c < ' ') {
            out += "\\u00";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xF]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      s.remove_prefix(1);
      continue;
    }
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (IsPrint(r)) {
      out.append(s.data(), w);
    } else {
      absl::StrAppend(&out, "\\u", absl::Hex(r, absl::kZeroPad4));
      for (size_t i = out.size() - 4; i < out.size(); ++i) {
        out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
      }
    }
    s.remove_prefix(w);
  }
  return out;
}

std::string UrlQueryEscape(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

FuncMap MakeBuiltins() {
  FuncMap m;
  // and/or are evaluated by the executor (they short-circuit).
  auto unreachable = [](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
    return absl::InternalError("and/or are evaluated by the executor");
  };
  m.Add("and", VariadicSig({PT::kValue, PT::kValue}), unreachable);
  m.Add("or", VariadicSig({PT::kValue, PT::kValue}), unreachable);
  m.Add("not", Sig({PT::kValue}), [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
    return Value::Bool(!IsTrue(Indirect(a[0])));
  });
  m.Add("len", Sig({PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> { return Length(a[0]); });
  m.Add("index", VariadicSig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) { return Index(a); });
  m.Add("slice", VariadicSig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) { return Slice(a); });
  m.Add("print", VariadicSig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          FormatLimits fl{ctx.limits().max_output_bytes, ctx.limits().max_value_depth};
          ASSIGN_OR_RETURN(std::string s, GoSprint(a, fl));
          return Value::String(std::move(s));
        });
  m.Add("println", VariadicSig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          FormatLimits fl{ctx.limits().max_output_bytes, ctx.limits().max_value_depth};
          ASSIGN_OR_RETURN(std::string s, GoSprintln(a, fl));
          return Value::String(std::move(s));
        });
  m.Add("printf", VariadicSig({PT::kString, PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          FormatLimits fl{ctx.limits().max_output_bytes, ctx.limits().max_value_depth};
          std::vector<Value> rest(a.begin() + 1, a.end());
          ASSIGN_OR_RETURN(std::string s, GoSprintf(a[0].str(), rest, fl));
          return Value::String(std::move(s));
        });
  m.Add("html", VariadicSig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(std::string s, EvalArgs(a, ctx.limits()));
          return Value::String(HtmlEscape(s));
        });
  m.Add("js", VariadicSig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(std::string s, EvalArgs(a, ctx.limits()));
          return Value::String(JsEscape(s));
        });
  m.Add("urlquery", VariadicSig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(std::string s, EvalArgs(a, ctx.limits()));
          return Value::String(UrlQueryEscape(s));
        });
  m.Add("eq", VariadicSig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          std::vector<Value> rest(a.begin() + 1, a.end());
          ASSIGN_OR_RETURN(bool b, Equal(a[0], rest));
          return Value::Bool(b);
        });
  m.Add("ne", Sig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(bool b, Equal(a[0], {a[1]}));
          return Value::Bool(!b);
        });
  m.Add("lt", Sig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(bool b, Less(a[0], a[1]));
          return Value::Bool(b);
        });
  m.Add("le", Sig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(bool lt, Less(a[0], a[1]));
          if (lt) return Value::Bool(true);
          ASSIGN_OR_RETURN(bool eq, Equal(a[0], {a[1]}));
          return Value::Bool(eq);
        });
  m.Add("gt", Sig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(bool lt, Less(a[0], a[1]));
          if (lt) return Value::Bool(false);
          ASSIGN_OR_RETURN(bool eq, Equal(a[0], {a[1]}));
          return Value::Bool(!eq);
        });
  m.Add("ge", Sig({PT::kValue, PT::kValue}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(bool lt, Less(a[0], a[1]));
          return Value::Bool(!lt);
        });
  return m;
}

}  // namespace

const FuncMap& BuiltinFunctions() {
  static const FuncMap* builtins = new FuncMap(MakeBuiltins());
  return *builtins;
}

}  // namespace flotilla::common::tmpl
