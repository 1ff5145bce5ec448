// Sprig's defaults, type conversion, reflection and JSON functions
// (sprig/defaults.go, numeric.go, reflect.go, functions.go). toJson writes
// what Go's encoding/json writes (HTML-escaped, sorted keys, Go's float
// format); fromJson reads numbers as float64, as encoding/json does.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/format.h"
#include "common/template/semver.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"
#include "common/template/time_format.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

bool Empty(const Value& v) { return !IsTrue(v.Unboxed()); }

void JsonString(std::string* out, absl::string_view s, bool escape_html) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  while (!s.empty()) {
    auto b = static_cast<unsigned char>(s[0]);
    if (b < 0x80) {
      bool html = b == '<' || b == '>' || b == '&';
      if (b >= 0x20 && b != '"' && b != '\\' && !(html && escape_html)) {
        out->push_back(static_cast<char>(b));
      } else {
        switch (b) {
          case '\\':
          case '"':
            out->push_back('\\');
            out->push_back(static_cast<char>(b));
            break;
          case '\b':
            out->append("\\b");
            break;
          case '\f':
            out->append("\\f");
            break;
          case '\n':
            out->append("\\n");
            break;
          case '\r':
            out->append("\\r");
            break;
          case '\t':
            out->append("\\t");
            break;
          default:
            out->append("\\u00");
            out->push_back(kHex[b >> 4]);
            out->push_back(kHex[b & 0xF]);
        }
      }
      s.remove_prefix(1);
      continue;
    }
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (r == kRuneError && w == 1) {
      out->append("\\ufffd");
    } else if (r == 0x2028 || r == 0x2029) {
      out->append("\\u202");
      out->push_back(kHex[r & 0xF]);
    } else {
      out->append(s.data(), w);
    }
    s.remove_prefix(w);
  }
  out->push_back('"');
}

// encoding/json's float encoding.
absl::Status JsonFloat(std::string* out, double f) {
  if (std::isnan(f) || std::isinf(f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("json: unsupported value: ", GoFormatFloat(f, 'g', -1)));
  }
  double a = std::fabs(f);
  char fmt = 'f';
  if (a != 0 && (a < 1e-6 || a >= 1e21)) fmt = 'e';
  std::string s = GoFormatFloat(f, fmt, -1);
  if (fmt == 'e') {
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
      s[n - 2] = s[n - 1];
      s.pop_back();
    }
  }
  out->append(s);
  return absl::OkStatus();
}

struct JsonWriter {
  bool escape_html;
  bool indent;
  int max_depth;
  CallContext* ctx;
  std::string out;

  void Newline(int depth) {
    out.push_back('\n');
    out.append(static_cast<size_t>(depth) * 2, ' ');
  }

  absl::Status Write(const Value& v, int depth) {
    if (depth > max_depth) {
      return absl::InvalidArgumentError(
          absl::StrCat("json: unsupported value: encountered a cycle via ", GoTypeName(v)));
    }
    if (out.size() > ctx->limits().max_output_bytes) return CheckStringSize(*ctx, out.size());
    RETURN_IF_ERROR(ctx->Charge(1));
    switch (v.kind()) {
      case Value::Kind::kMissing:
      case Value::Kind::kNil:
        out.append("null");
        return absl::OkStatus();
      case Value::Kind::kBool:
        out.append(v.bool_value() ? "true" : "false");
        return absl::OkStatus();
      case Value::Kind::kInt:
        out.append(std::to_string(v.int_value()));
        return absl::OkStatus();
      case Value::Kind::kUint:
        out.append(std::to_string(v.uint_value()));
        return absl::OkStatus();
      case Value::Kind::kFloat:
        return JsonFloat(&out, v.float_value());
      case Value::Kind::kString:
        JsonString(&out, v.str(), escape_html);
        return absl::OkStatus();
      case Value::Kind::kTime:
        JsonString(&out, FormatGoTime(v.time(), v.time_zone(), kRFC3339NanoLayout), escape_html);
        return absl::OkStatus();
      case Value::Kind::kSemver:
        JsonString(&out, v.semver().String(), escape_html);
        return absl::OkStatus();
      case Value::Kind::kList: {
        const ListRep* l = v.list();
        if (l == nullptr) {
          out.append("null");
          return absl::OkStatus();
        }
        out.push_back('[');
        for (size_t i = 0; i < l->items.size(); ++i) {
          if (i > 0) out.push_back(',');
          if (indent) Newline(depth + 1);
          RETURN_IF_ERROR(Write(l->items[i], depth + 1));
        }
        if (indent && !l->items.empty()) Newline(depth);
        out.push_back(']');
        return absl::OkStatus();
      }
      case Value::Kind::kMap: {
        const MapRep* m = v.map();
        if (m == nullptr) {
          out.append("null");
          return absl::OkStatus();
        }
        out.push_back('{');
        bool first = true;
        for (const auto& [k, e] : m->entries) {
          if (!first) out.push_back(',');
          first = false;
          if (indent) Newline(depth + 1);
          JsonString(&out, k, escape_html);
          out.append(indent ? ": " : ":");
          RETURN_IF_ERROR(Write(e, depth + 1));
        }
        if (indent && !m->entries.empty()) Newline(depth);
        out.push_back('}');
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<std::string> ToJson(const Value& v, bool escape_html, bool indent,
                                   CallContext& ctx) {
  JsonWriter w{escape_html, indent, ctx.limits().max_value_depth, &ctx, {}};
  RETURN_IF_ERROR(w.Write(v, 0));
  return std::move(w.out);
}

absl::StatusOr<Value> FromJson(const std::string& text, CallContext& ctx) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    if (TrimSpace(text).empty()) return absl::InvalidArgumentError("unexpected end of JSON input");
    return absl::InvalidArgumentError("invalid JSON input");
  }
  absl::StatusOr<Value> v =
      ValueFromJson(j, JsonNumbers::kAllFloat64, ctx.limits().max_value_depth);
  if (!v.ok()) return absl::InvalidArgumentError("exceeded max depth");
  return v;
}

// strconv.Atoi: decimal with an optional sign.
int64_t Atoi(const std::string& s) {
  if (s.empty()) return 0;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9') return 0;
  }
  ParseError err;
  int64_t v = GoParseInt(s, 10, &err);
  return err == ParseError::kNone ? v : 0;
}

Value Str(std::string s) { return Value::String(std::move(s)); }

}  // namespace

void AddDefaultsFunctions(FuncMap* m, const Env&) {
  m->Add("default", VariadicSig({PT::kAny, PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           if (a.size() < 2 || Empty(a[1])) return a[0];
           return a[1];
         });
  m->Add("empty", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(Empty(a[0])));
  });
  m->Add("coalesce", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           for (const Value& v : a) {
             if (!Empty(v)) return v;
           }
           return Value::Nil();
         });
  m->Add("all", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           for (const Value& v : a) {
             if (Empty(v)) return Value::Bool(false);
           }
           return Value::Bool(true);
         });
  m->Add("any", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           for (const Value& v : a) {
             if (!Empty(v)) return Value::Bool(true);
           }
           return Value::Bool(false);
         });
  m->Add("ternary", Sig({PT::kAny, PT::kAny, PT::kBool}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           return a[2].bool_value() ? a[0] : a[1];
         });
  m->Add("fail", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(absl::InvalidArgumentError(a[0].str()));
  });

  // Conversion.
  m->Add("atoi", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Int(Atoi(a[0].str())));
  });
  m->Add("int", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Int(ToInt64(a[0])));
  });
  m->Add("int64", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Int(ToInt64(a[0]), IntType::kInt64));
  });
  m->Add("float64", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Float(ToFloat64(a[0])));
  });
  m->Add("toDecimal", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    ParseError err;
    int64_t v = GoParseInt(FormatV(a[0]), 8, &err);
    return absl::StatusOr<Value>(Value::Int(err == ParseError::kNone ? v : 0, IntType::kInt64));
  });

  // Reflection.
  m->Add("typeOf", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(GoTypeName(a[0])));
  });
  m->Add("typeIs", Sig({PT::kString, PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(a[0].str() == GoTypeName(a[1])));
  });
  m->Add("typeIsLike", Sig({PT::kString, PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    std::string t = GoTypeName(a[1]);
    return absl::StatusOr<Value>(Value::Bool(a[0].str() == t || "*" + a[0].str() == t));
  });
  m->Add("kindOf", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(GoKindName(a[0])));
  });
  m->Add("kindIs", Sig({PT::kString, PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(a[0].str() == GoKindName(a[1])));
  });
  m->Add("deepEqual", Sig({PT::kAny, PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(bool eq, DeepEqual(a[0], a[1], ctx.limits().max_value_depth));
           return Value::Bool(eq);
         });

  // JSON.
  auto to_json = [](bool must, bool escape_html, bool indent) {
    return [must, escape_html, indent](std::vector<Value>& a,
                                       CallContext& ctx) -> absl::StatusOr<Value> {
      absl::StatusOr<std::string> s = ToJson(a[0], escape_html, indent, ctx);
      if (!s.ok()) {
        if (must || s.status().code() == absl::StatusCode::kResourceExhausted) return s.status();
        return Str("");
      }
      return Str(std::move(*s));
    };
  };
  m->Add("toJson", Sig({PT::kAny}), to_json(false, true, false));
  m->Add("mustToJson", Sig({PT::kAny}), to_json(true, true, false));
  m->Add("toPrettyJson", Sig({PT::kAny}), to_json(false, true, true));
  m->Add("mustToPrettyJson", Sig({PT::kAny}), to_json(true, true, true));
  m->Add("toRawJson", Sig({PT::kAny}), to_json(false, false, false));
  m->Add("mustToRawJson", Sig({PT::kAny}), to_json(true, false, false));
  m->Add("fromJson", Sig({PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           absl::StatusOr<Value> v = FromJson(a[0].str(), ctx);
           return v.ok() ? *v : Value::Nil();
         });
  m->Add("mustFromJson", Sig({PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) { return FromJson(a[0].str(), ctx); });

  // Copies.
  auto deep_copy = [](bool must) {
    return [must](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      RETURN_IF_ERROR(ctx.Charge(static_cast<int64_t>(a[0].Len())));
      absl::StatusOr<Value> c = DeepCopy(a[0], ctx.limits().max_value_depth);
      if (!c.ok() && !must) {
        return absl::InvalidArgumentError(absl::StrCat("deepCopy error: ", c.status().message()));
      }
      return c;
    };
  };
  m->Add("deepCopy", Sig({PT::kAny}), deep_copy(false));
  m->Add("mustDeepCopy", Sig({PT::kAny}), deep_copy(true));
}

}  // namespace flotilla::common::tmpl::sprig
