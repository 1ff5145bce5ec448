// Sprig's math (sprig/numeric.go, functions.go). Integer functions convert
// with spf13/cast and compute in int64 with Go's wrap-around; the float
// functions addf/subf/mulf/divf compute in decimal like shopspring/decimal,
// so `addf 0.1 0.2` is 0.3.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;
using int128 = __int128;

int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

absl::Status DivideByZero() {
  return absl::InvalidArgumentError("runtime error: integer divide by zero");
}

// A decimal m * 10^e, exact while m fits; what shopspring/decimal computes.
struct Decimal {
  int128 m = 0;
  int e = 0;
};

constexpr int128 kDecimalLimit = static_cast<int128>(1000000000000000000LL) * 100000000000000000LL;

absl::StatusOr<Decimal> FromFloat(double f) {
  if (std::isnan(f)) return absl::InvalidArgumentError("Cannot create a Decimal from NaN");
  if (std::isinf(f)) return absl::InvalidArgumentError("Cannot create a Decimal from Inf");
  Decimal d;
  if (f == 0) return d;
  std::string s = GoFormatFloat(f, 'e', -1);  // -d.ddde+XX
  bool neg = s[0] == '-';
  size_t i = neg ? 1 : 0;
  std::string digits;
  for (; i < s.size() && s[i] != 'e'; ++i) {
    if (s[i] != '.') digits.push_back(s[i]);
  }
  int exp = std::stoi(s.substr(i + 1));
  for (char c : digits) d.m = d.m * 10 + (c - '0');
  d.e = exp - static_cast<int>(digits.size() - 1);
  if (neg) d.m = -d.m;
  return d;
}

std::string Int128String(int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  std::string s;
  while (v != 0) {
    int digit = static_cast<int>(v % 10);
    s.push_back(static_cast<char>('0' + (digit < 0 ? -digit : digit)));
    v /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

double ToDouble(const Decimal& d) {
  ParseError err;
  return GoParseFloat(absl::StrCat(Int128String(d.m), "e", d.e), &err);
}

// Scales m by 10^k; false on overflow.
bool Scale(int128* m, int k) {
  for (int i = 0; i < k; ++i) {
    if (*m > kDecimalLimit || *m < -kDecimalLimit) return false;
    *m *= 10;
  }
  return true;
}

enum class Op { kAdd, kSub, kMul, kDiv };

// One step of execDecimalOp; falls back to float64 arithmetic when the exact
// decimal would not fit (values 10^20 apart in magnitude).
absl::StatusOr<Decimal> Apply(Op op, const Decimal& a, const Decimal& b, bool* inexact) {
  Decimal r;
  switch (op) {
    case Op::kAdd:
    case Op::kSub: {
      int e = std::min(a.e, b.e);
      int128 ma = a.m;
      int128 mb = b.m;
      if (!Scale(&ma, a.e - e) || !Scale(&mb, b.e - e)) {
        *inexact = true;
        double x = ToDouble(a);
        double y = ToDouble(b);
        return FromFloat(op == Op::kAdd ? x + y : x - y);
      }
      r.m = op == Op::kAdd ? ma + mb : ma - mb;
      r.e = e;
      return r;
    }
    case Op::kMul:
      if ((a.m > kDecimalLimit || a.m < -kDecimalLimit) ||
          (b.m > kDecimalLimit || b.m < -kDecimalLimit)) {
        *inexact = true;
        return FromFloat(ToDouble(a) * ToDouble(b));
      }
      r.m = a.m * b.m;
      r.e = a.e + b.e;
      return r;
    case Op::kDiv: {
      if (b.m == 0) return absl::InvalidArgumentError("decimal division by zero");
      // Quotient rounded half away from zero to 16 decimal places.
      int k = a.e - b.e + 16;
      bool neg = (a.m < 0) != (b.m < 0);
      int128 num = a.m < 0 ? -a.m : a.m;
      int128 den = b.m < 0 ? -b.m : b.m;
      int128 q;
      int128 rem;
      if (k >= 0) {
        q = num / den;
        rem = num % den;
        for (int i = 0; i < k; ++i) {
          if (q > kDecimalLimit) {
            *inexact = true;
            return FromFloat(ToDouble(a) / ToDouble(b));
          }
          rem *= 10;
          q = q * 10 + rem / den;
          rem %= den;
        }
      } else {
        int128 d = den;
        if (!Scale(&d, -k)) return Decimal{};
        q = num / d;
        rem = num % d;
        den = d;
      }
      if (rem * 2 >= den) ++q;
      r.m = neg ? -q : q;
      r.e = -16;
      return r;
    }
  }
  return r;
}

absl::StatusOr<double> DecimalOp(Op op, const Value& first, const std::vector<Value>& rest) {
  ASSIGN_OR_RETURN(Decimal acc, FromFloat(ToFloat64(first)));
  bool inexact = false;
  for (const Value& v : rest) {
    ASSIGN_OR_RETURN(Decimal d, FromFloat(ToFloat64(v)));
    ASSIGN_OR_RETURN(acc, Apply(op, acc, d, &inexact));
  }
  return ToDouble(acc);
}

absl::StatusOr<Value> UntilStep(int64_t start, int64_t stop, int64_t step, CallContext& ctx) {
  std::vector<Value> v;
  auto push = [&](int64_t i) -> absl::Status {
    if (v.size() >= ctx.limits().max_list_length) {
      return absl::ResourceExhaustedError(
          absl::StrCat("list of more than ", ctx.limits().max_list_length, " elements"));
    }
    v.push_back(Value::Int(i));
    return absl::OkStatus();
  };
  if (stop < start) {
    if (step >= 0) return Value::List({}, ElemType::kInt);
    for (int64_t i = start; i > stop; i = WrapAdd(i, step)) {
      RETURN_IF_ERROR(push(i));
      if (WrapAdd(i, step) > i) break;  // wrapped around
    }
  } else {
    if (step <= 0) return Value::List({}, ElemType::kInt);
    for (int64_t i = start; i < stop; i = WrapAdd(i, step)) {
      RETURN_IF_ERROR(push(i));
      if (WrapAdd(i, step) < i) break;
    }
  }
  RETURN_IF_ERROR(ChargeElements(ctx, v.size()));
  return Value::List(std::move(v), ElemType::kInt);
}

absl::StatusOr<std::string> Seq(const std::vector<Value>& params, CallContext& ctx) {
  int64_t start, end, step;
  switch (params.size()) {
    case 1:
      start = 1;
      end = params[0].int_value();
      step = end < start ? -1 : 1;
      break;
    case 2:
      start = params[0].int_value();
      end = params[1].int_value();
      step = end < start ? -1 : 1;
      break;
    case 3: {
      start = params[0].int_value();
      end = params[2].int_value();
      step = params[1].int_value();
      if (end < start && step > 0) return std::string();
      break;
    }
    default:
      return std::string();
  }
  int64_t increment = end < start ? -1 : 1;
  ASSIGN_OR_RETURN(Value list, UntilStep(start, WrapAdd(end, increment), step, ctx));
  std::vector<std::string> parts;
  for (const Value& v : list.list()->items) parts.push_back(std::to_string(v.int_value()));
  return absl::StrJoin(parts, " ");
}

}  // namespace

void AddMathFunctions(FuncMap* m, const Env& env) {
  auto i64 = [](int64_t v) { return absl::StatusOr<Value>(Value::Int(v, IntType::kInt64)); };
  m->Add("add1", Sig({PT::kAny}),
         [i64](std::vector<Value>& a, CallContext&) { return i64(WrapAdd(ToInt64(a[0]), 1)); });
  m->Add("add", VariadicSig({PT::kAny}), [i64](std::vector<Value>& a, CallContext&) {
    int64_t sum = 0;
    for (const Value& v : a) sum = WrapAdd(sum, ToInt64(v));
    return i64(sum);
  });
  m->Add("sub", Sig({PT::kAny, PT::kAny}), [i64](std::vector<Value>& a, CallContext&) {
    return i64(WrapSub(ToInt64(a[0]), ToInt64(a[1])));
  });
  m->Add("div", Sig({PT::kAny, PT::kAny}),
         [i64](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t x = ToInt64(a[0]);
           int64_t y = ToInt64(a[1]);
           if (y == 0) return DivideByZero();
           if (y == -1) return i64(WrapSub(0, x));
           return i64(x / y);
         });
  m->Add("mod", Sig({PT::kAny, PT::kAny}),
         [i64](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t x = ToInt64(a[0]);
           int64_t y = ToInt64(a[1]);
           if (y == 0) return DivideByZero();
           if (y == -1) return i64(0);
           return i64(x % y);
         });
  m->Add("mul", VariadicSig({PT::kAny, PT::kAny}), [i64](std::vector<Value>& a, CallContext&) {
    int64_t v = ToInt64(a[0]);
    for (size_t i = 1; i < a.size(); ++i) v = WrapMul(v, ToInt64(a[i]));
    return i64(v);
  });
  auto max_fn = [i64](std::vector<Value>& a, CallContext&) {
    int64_t v = ToInt64(a[0]);
    for (size_t i = 1; i < a.size(); ++i) v = std::max(v, ToInt64(a[i]));
    return i64(v);
  };
  m->Add("max", VariadicSig({PT::kAny, PT::kAny}), max_fn);
  m->Add("biggest", VariadicSig({PT::kAny, PT::kAny}), max_fn);
  m->Add("min", VariadicSig({PT::kAny, PT::kAny}), [i64](std::vector<Value>& a, CallContext&) {
    int64_t v = ToInt64(a[0]);
    for (size_t i = 1; i < a.size(); ++i) v = std::min(v, ToInt64(a[i]));
    return i64(v);
  });
  // math.Max / math.Min: NaN wins; +0 beats -0 for Max.
  m->Add("maxf", VariadicSig({PT::kAny, PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    double v = ToFloat64(a[0]);
    for (size_t i = 1; i < a.size(); ++i) {
      double b = ToFloat64(a[i]);
      if (std::isnan(v) || std::isnan(b)) {
        v = std::numeric_limits<double>::quiet_NaN();
      } else if (b > v || (b == 0 && v == 0 && !std::signbit(b))) {
        v = b;
      }
    }
    return absl::StatusOr<Value>(Value::Float(v));
  });
  m->Add("minf", VariadicSig({PT::kAny, PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    double v = ToFloat64(a[0]);
    for (size_t i = 1; i < a.size(); ++i) {
      double b = ToFloat64(a[i]);
      if (std::isnan(v) || std::isnan(b)) {
        v = std::numeric_limits<double>::quiet_NaN();
      } else if (b < v || (b == 0 && v == 0 && std::signbit(b))) {
        v = b;
      }
    }
    return absl::StatusOr<Value>(Value::Float(v));
  });
  m->Add("floor", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Float(std::floor(ToFloat64(a[0]))));
  });
  m->Add("ceil", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Float(std::ceil(ToFloat64(a[0]))));
  });
  m->Add("round", VariadicSig({PT::kAny, PT::kInt, PT::kFloat64}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           double round_on = a.size() > 2 ? a[2].float_value() : 0.5;
           double val = ToFloat64(a[0]);
           double pow = std::pow(10.0, static_cast<double>(a[1].int_value()));
           double digit = pow * val;
           double whole;
           double frac = std::modf(digit, &whole);
           double r = frac >= round_on ? std::ceil(digit) : std::floor(digit);
           return Value::Float(r / pow);
         });
  auto decimal = [](Op op, bool add_zero_first) {
    return [op, add_zero_first](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      if (add_zero_first) {
        ASSIGN_OR_RETURN(double r, DecimalOp(op, Value::Float(0), a));
        return Value::Float(r);
      }
      std::vector<Value> rest(a.begin() + 1, a.end());
      ASSIGN_OR_RETURN(double r, DecimalOp(op, a[0], rest));
      return Value::Float(r);
    };
  };
  m->Add("addf", VariadicSig({PT::kAny}), decimal(Op::kAdd, true));
  m->Add("subf", VariadicSig({PT::kAny, PT::kAny}), decimal(Op::kSub, false));
  m->Add("mulf", VariadicSig({PT::kAny, PT::kAny}), decimal(Op::kMul, false));
  m->Add("divf", VariadicSig({PT::kAny, PT::kAny}), decimal(Op::kDiv, false));
  m->Add("add1f", Sig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(double r, DecimalOp(Op::kAdd, a[0], {Value::Int(1)}));
           return Value::Float(r);
         });
  m->Add("until", Sig({PT::kInt}), [](std::vector<Value>& a, CallContext& ctx) {
    int64_t count = a[0].int_value();
    return UntilStep(0, count, count < 0 ? -1 : 1, ctx);
  });
  m->Add("untilStep", Sig({PT::kInt, PT::kInt, PT::kInt}),
         [](std::vector<Value>& a, CallContext& ctx) {
           return UntilStep(a[0].int_value(), a[1].int_value(), a[2].int_value(), ctx);
         });
  m->Add("seq", VariadicSig({PT::kInt}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(std::string s, Seq(a, ctx));
           return Value::String(std::move(s));
         });
  m->Add("randInt", Sig({PT::kInt, PT::kInt}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t lo = a[0].int_value();
           int64_t span = WrapSub(a[1].int_value(), lo);
           if (span <= 0) return absl::InvalidArgumentError("invalid argument to Intn");
           return Value::Int(WrapAdd(
               static_cast<int64_t>(RandomBelow(*env.random, static_cast<uint64_t>(span))), lo));
         });
}

}  // namespace flotilla::common::tmpl::sprig
