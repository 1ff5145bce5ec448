#include "common/template/format.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/template/semver.h"
#include "common/template/strconv.h"
#include "common/template/time_format.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl {

namespace {

constexpr char kLDigits[] = "0123456789abcdefx";
constexpr char kUDigits[] = "0123456789ABCDEFX";

struct Flags {
  bool plus = false;
  bool minus = false;
  bool sharp = false;
  bool space = false;
  bool zero = false;
  bool plus_v = false;
  bool sharp_v = false;
  bool wid_present = false;
  bool prec_present = false;
  int wid = 0;
  int prec = 0;
};

bool TooLarge(int x) { return x > 1'000'000 || x < -1'000'000; }

// A Go pp: formats into buf_, stopping (and remembering why) when the
// output grows past the limit or a value nests too deep.
class Printer {
 public:
  explicit Printer(const FormatLimits& limits) : limits_(limits) {}

  absl::StatusOr<std::string> Result() {
    if (too_deep_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("value nested more than ", limits_.max_depth,
                       " levels deep cannot be printed (a map that contains itself?)"));
    }
    if (overflow_) {
      return absl::ResourceExhaustedError(
          absl::StrCat("formatted text exceeds the limit of ", limits_.max_bytes, " bytes"));
    }
    return std::move(buf_);
  }

  void DoPrint(const std::vector<Value>& args) {
    bool prev_string = false;
    for (size_t i = 0; i < args.size(); ++i) {
      bool is_string = args[i].is_string();
      if (i > 0 && !is_string && !prev_string) Write(" ");
      PrintArg(args[i], 'v');
      prev_string = is_string;
    }
  }

  void DoPrintln(const std::vector<Value>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (i > 0) Write(" ");
      PrintArg(args[i], 'v');
    }
    Write("\n");
  }

  void DoPrintf(absl::string_view format, const std::vector<Value>& a);

  void PrintArg(const Value& arg, int32_t verb) {
    if (arg.is_nilish()) {
      if (verb == 'T' || verb == 'v') {
        PadString("<nil>");
      } else {
        BadVerb(verb, nullptr);
      }
      return;
    }
    if (verb == 'T') {
      FmtS(GoTypeName(arg));
      return;
    }
    PrintValue(arg, verb, 0);
  }

 private:
  void Write(absl::string_view s) {
    if (overflow_) return;
    if (buf_.size() + s.size() > limits_.max_bytes) {
      overflow_ = true;
      return;
    }
    buf_.append(s.data(), s.size());
  }
  void WriteByte(char c) { Write(absl::string_view(&c, 1)); }
  void WriteRune(int32_t r) { Write(RuneToString(r)); }

  void WritePadding(int n) {
    if (n <= 0) return;
    if (overflow_ || buf_.size() + static_cast<size_t>(n) > limits_.max_bytes) {
      overflow_ = true;
      return;
    }
    char pad = (f_.zero && !f_.minus) ? '0' : ' ';
    buf_.append(static_cast<size_t>(n), pad);
  }

  void Pad(absl::string_view b) {
    if (!f_.wid_present || f_.wid == 0) {
      Write(b);
      return;
    }
    int width = f_.wid - static_cast<int>(RuneCount(b));
    if (!f_.minus) {
      WritePadding(width);
      Write(b);
    } else {
      Write(b);
      WritePadding(width);
    }
  }
  void PadString(absl::string_view s) { Pad(s); }

  std::string TruncateString(absl::string_view s) {
    if (f_.prec_present) {
      absl::string_view rest = s;
      int n = f_.prec;
      while (!rest.empty()) {
        if (n <= 0) return std::string(s.substr(0, s.size() - rest.size()));
        size_t w;
        DecodeRune(rest, &w);
        rest.remove_prefix(w);
        --n;
      }
    }
    return std::string(s);
  }

  void FmtS(absl::string_view s) { PadString(TruncateString(s)); }

  void FmtQ(absl::string_view s) {
    std::string t = TruncateString(s);
    if (f_.sharp && CanBackquote(t)) {
      PadString("`" + t + "`");
      return;
    }
    Pad(GoQuote(t, f_.plus));
  }

  void FmtSx(absl::string_view s, const char* digits) {
    size_t length = s.size();
    if (f_.prec_present && static_cast<size_t>(f_.prec) < length) {
      length = static_cast<size_t>(f_.prec);
    }
    int width = 2 * static_cast<int>(length);
    if (width > 0) {
      if (f_.space) {
        if (f_.sharp) width *= 2;
        width += static_cast<int>(length) - 1;
      } else if (f_.sharp) {
        width += 2;
      }
    } else {
      if (f_.wid_present) WritePadding(f_.wid);
      return;
    }
    if (f_.wid_present && f_.wid > width && !f_.minus) WritePadding(f_.wid - width);
    std::string out;
    if (f_.sharp) {
      out.push_back('0');
      out.push_back(digits[16]);
    }
    for (size_t i = 0; i < length; ++i) {
      if (f_.space && i > 0) {
        out.push_back(' ');
        if (f_.sharp) {
          out.push_back('0');
          out.push_back(digits[16]);
        }
      }
      auto c = static_cast<unsigned char>(s[i]);
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xF]);
    }
    Write(out);
    if (f_.wid_present && f_.wid > width && f_.minus) WritePadding(f_.wid - width);
  }

  void FmtString(const std::string& s, int32_t verb) {
    switch (verb) {
      case 'v':
        if (f_.sharp_v) {
          FmtQ(s);
        } else {
          FmtS(s);
        }
        return;
      case 's':
        FmtS(s);
        return;
      case 'x':
        FmtSx(s, kLDigits);
        return;
      case 'X':
        FmtSx(s, kUDigits);
        return;
      case 'q':
        FmtQ(s);
        return;
      default:
        BadVerb(verb, current_value_);
    }
  }

  void FmtBool(bool b, int32_t verb) {
    if (verb == 't' || verb == 'v') {
      PadString(b ? "true" : "false");
    } else {
      BadVerb(verb, current_value_);
    }
  }

  void FmtIntegerBase(uint64_t u, int base, bool is_signed, int32_t verb, const char* digits) {
    bool negative = is_signed && static_cast<int64_t>(u) < 0;
    if (negative) u = ~u + 1;
    int prec = 0;
    if (f_.prec_present) {
      prec = f_.prec;
      if (prec == 0 && u == 0) {
        bool old_zero = f_.zero;
        f_.zero = false;
        WritePadding(f_.wid);
        f_.zero = old_zero;
        return;
      }
    } else if (f_.zero && !f_.minus && f_.wid_present) {
      prec = f_.wid;
      if (negative || f_.plus || f_.space) --prec;
    }
    std::string b;
    do {
      b.push_back(digits[u % static_cast<uint64_t>(base)]);
      u /= static_cast<uint64_t>(base);
    } while (u > 0);
    while (static_cast<int>(b.size()) < prec) b.push_back('0');
    if (f_.sharp) {
      switch (base) {
        case 2:
          b.push_back('b');
          b.push_back('0');
          break;
        case 8:
          if (b.back() != '0') b.push_back('0');
          break;
        case 16:
          b.push_back(digits[16]);
          b.push_back('0');
          break;
        default:
          break;
      }
    }
    if (verb == 'O') {
      b.push_back('o');
      b.push_back('0');
    }
    if (negative) {
      b.push_back('-');
    } else if (f_.plus) {
      b.push_back('+');
    } else if (f_.space) {
      b.push_back(' ');
    }
    std::reverse(b.begin(), b.end());
    bool old_zero = f_.zero;
    f_.zero = false;
    Pad(b);
    f_.zero = old_zero;
  }

  void FmtUnicode(uint64_t u) {
    std::string hex = GoFormatUint(u, 16);
    for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int prec = 4;
    if (f_.prec_present && f_.prec > 4) prec = f_.prec;
    std::string b = "U+";
    for (int i = static_cast<int>(hex.size()); i < prec; ++i) b.push_back('0');
    b += hex;
    if (f_.sharp && u <= static_cast<uint64_t>(kMaxRune) && IsPrint(static_cast<int32_t>(u))) {
      b += " '";
      AppendRune(&b, static_cast<int32_t>(u));
      b += "'";
    }
    bool old_zero = f_.zero;
    f_.zero = false;
    Pad(b);
    f_.zero = old_zero;
  }

  void FmtInteger(uint64_t v, bool is_signed, int32_t verb) {
    switch (verb) {
      case 'v':
        if (f_.sharp_v && !is_signed) {
          bool old = f_.sharp;
          f_.sharp = true;
          FmtIntegerBase(v, 16, false, 'v', kLDigits);
          f_.sharp = old;
        } else {
          FmtIntegerBase(v, 10, is_signed, verb, kLDigits);
        }
        return;
      case 'd':
        FmtIntegerBase(v, 10, is_signed, verb, kLDigits);
        return;
      case 'b':
        FmtIntegerBase(v, 2, is_signed, verb, kLDigits);
        return;
      case 'o':
      case 'O':
        FmtIntegerBase(v, 8, is_signed, verb, kLDigits);
        return;
      case 'x':
        FmtIntegerBase(v, 16, is_signed, verb, kLDigits);
        return;
      case 'X':
        FmtIntegerBase(v, 16, is_signed, verb, kUDigits);
        return;
      case 'c': {
        int32_t r = v > static_cast<uint64_t>(kMaxRune) ? kRuneError : static_cast<int32_t>(v);
        Pad(RuneToString(r));
        return;
      }
      case 'q': {
        int32_t r = v > static_cast<uint64_t>(kMaxRune) ? kRuneError : static_cast<int32_t>(v);
        Pad(GoQuoteRune(r, f_.plus));
        return;
      }
      case 'U':
        FmtUnicode(v);
        return;
      default:
        BadVerb(verb, current_value_);
    }
  }

  void FmtFloatPrec(double v, int32_t verb, int prec) {
    if (f_.prec_present) prec = f_.prec;
    char fmt_char = verb == 'F' ? 'f' : static_cast<char>(verb);
    std::string num = GoFormatFloat(v, fmt_char, prec);
    if (num[0] != '-' && num[0] != '+') num.insert(0, "+");
    if (f_.space && num[0] == '+' && !f_.plus) num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      bool old_zero = f_.zero;
      f_.zero = false;
      if (num[1] == 'N' && !f_.space && !f_.plus) num.erase(0, 1);
      Pad(num);
      f_.zero = old_zero;
      return;
    }
    if (f_.sharp && verb != 'b') {
      int digits = 0;
      if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') {
        digits = prec;
        if (digits == -1) digits = 6;
      }
      std::string tail;
      bool has_point = false;
      bool saw_nonzero = false;
      for (size_t i = 1; i < num.size(); ++i) {
        char c = num[i];
        if (c == '.') {
          has_point = true;
        } else if (c == 'p' || c == 'P') {
          tail = num.substr(i);
          num.resize(i);
          break;
        } else if ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X') {
          tail = num.substr(i);
          num.resize(i);
          break;
        } else {
          if (c != '0') saw_nonzero = true;
          if (saw_nonzero) --digits;
        }
      }
      if (!has_point) {
        if (num.size() == 2 && num[1] == '0') --digits;
        num.push_back('.');
      }
      while (digits > 0) {
        num.push_back('0');
        --digits;
      }
      num += tail;
    }
    if (f_.plus || num[0] != '+') {
      if (f_.zero && !f_.minus && f_.wid_present && f_.wid > static_cast<int>(num.size())) {
        WriteByte(num[0]);
        WritePadding(f_.wid - static_cast<int>(num.size()));
        Write(absl::string_view(num).substr(1));
        return;
      }
      Pad(num);
      return;
    }
    Pad(absl::string_view(num).substr(1));
  }

  void FmtFloat(double v, int32_t verb) {
    switch (verb) {
      case 'v':
        FmtFloatPrec(v, 'g', -1);
        return;
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        FmtFloatPrec(v, verb, -1);
        return;
      case 'f':
      case 'e':
      case 'E':
      case 'F':
        FmtFloatPrec(v, verb, 6);
        return;
      default:
        BadVerb(verb, current_value_);
    }
  }

  // time.Time.GoString().
  static std::string TimeGoString(const Value& v) {
    absl::TimeZone::CivilInfo ci = v.time_zone().At(v.time());
    static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                              "May",       "June",     "July",     "August",
                                              "September", "October",  "November", "December"};
    std::string loc;
    if (v.time_zone().name() == "UTC") {
      loc = "time.UTC";
    } else {
      loc = absl::StrCat("time.Location(", GoQuote(v.time_zone().name()), ")");
    }
    return absl::StrCat("time.Date(", ci.cs.year(), ", time.", kMonths[ci.cs.month() - 1], ", ",
                        ci.cs.day(), ", ", ci.cs.hour(), ", ", ci.cs.minute(), ", ", ci.cs.second(),
                        ", ", absl::ToInt64Nanoseconds(ci.subsecond), ", ", loc, ")");
  }

  // Values with a String method (time.Time, *semver.Version): Go's
  // handleMethods formats String() for the string verbs.
  bool HandleMethods(const Value& v, int32_t verb) {
    if (v.kind() != Value::Kind::kTime && v.kind() != Value::Kind::kSemver) return false;
    if (f_.sharp_v) {
      if (v.kind() == Value::Kind::kTime) {
        Write(TimeGoString(v));
        return true;
      }
      return false;
    }
    switch (verb) {
      case 'v':
      case 's':
      case 'x':
      case 'X':
      case 'q': {
        std::string s = v.kind() == Value::Kind::kTime
                            ? FormatGoTime(v.time(), v.time_zone(), kTimeStringLayout)
                            : v.semver().String();
        FmtString(s, verb);
        return true;
      }
      default:
        return false;
    }
  }

  void PrintValue(const Value& value, int32_t verb, int depth) {
    if (overflow_) return;
    if (depth > limits_.max_depth) {
      too_deep_ = true;
      overflow_ = true;
      return;
    }
    const Value* saved = current_value_;
    current_value_ = &value;
    if (HandleMethods(value, verb)) {
      current_value_ = saved;
      return;
    }
    switch (value.kind()) {
      case Value::Kind::kMissing:
      case Value::Kind::kNil:
        if (f_.sharp_v) {
          Write("interface {}(nil)");
        } else if (verb == 'v') {
          Write("<nil>");
        } else {
          BadVerb(verb, nullptr);
        }
        break;
      case Value::Kind::kBool:
        FmtBool(value.bool_value(), verb);
        break;
      case Value::Kind::kInt:
        FmtInteger(static_cast<uint64_t>(value.int_value()), true, verb);
        break;
      case Value::Kind::kUint:
        FmtInteger(value.uint_value(), false, verb);
        break;
      case Value::Kind::kFloat:
        FmtFloat(value.float_value(), verb);
        break;
      case Value::Kind::kString:
        FmtString(value.str(), verb);
        break;
      case Value::Kind::kMap: {
        const MapRep* m = value.map();
        if (f_.sharp_v) {
          Write(GoTypeName(value));
          if (m == nullptr) {
            Write("(nil)");
            break;
          }
          WriteByte('{');
        } else {
          Write("map[");
        }
        if (m != nullptr) {
          bool first = true;
          for (const auto& [k, e] : m->entries) {
            if (overflow_) break;
            if (!first) Write(f_.sharp_v ? ", " : " ");
            first = false;
            PrintValue(Value::String(k), verb, depth + 1);
            WriteByte(':');
            PrintElem(e, m->elem, verb, depth + 1);
          }
        }
        WriteByte(f_.sharp_v ? '}' : ']');
        break;
      }
      case Value::Kind::kList: {
        const ListRep* l = value.list();
        if (f_.sharp_v) {
          Write(GoTypeName(value));
          if (l == nullptr) {
            Write("(nil)");
            break;
          }
          WriteByte('{');
          for (size_t i = 0; i < l->items.size() && !overflow_; ++i) {
            if (i > 0) Write(", ");
            PrintElem(l->items[i], l->elem, verb, depth + 1);
          }
          WriteByte('}');
        } else {
          WriteByte('[');
          if (l != nullptr) {
            for (size_t i = 0; i < l->items.size() && !overflow_; ++i) {
              if (i > 0) WriteByte(' ');
              PrintElem(l->items[i], l->elem, verb, depth + 1);
            }
          }
          WriteByte(']');
        }
        break;
      }
      case Value::Kind::kTime:
      case Value::Kind::kSemver:
        BadVerb(verb, current_value_);
        break;
    }
    current_value_ = saved;
  }

  // An element of a container: interface{} elements that are nil print as
  // <nil> (or interface {}(nil) with %#v).
  void PrintElem(const Value& e, ElemType elem, int32_t verb, int depth) {
    if (e.is_nilish()) {
      if (f_.sharp_v) {
        Write(elem == ElemType::kInterface ? "interface {}(nil)" : "<nil>");
      } else {
        Write("<nil>");
      }
      return;
    }
    PrintValue(e, verb, depth);
  }

  void BadVerb(int32_t verb, const Value* arg) {
    Write("%!");
    WriteRune(verb);
    WriteByte('(');
    if (arg != nullptr && !arg->is_nilish()) {
      Value copy = *arg;
      Write(GoTypeName(copy));
      WriteByte('=');
      if (copy.kind() == Value::Kind::kTime || copy.kind() == Value::Kind::kSemver) {
        Write(copy.kind() == Value::Kind::kTime
                  ? FormatGoTime(copy.time(), copy.time_zone(), kTimeStringLayout)
                  : copy.semver().String());
      } else {
        PrintValue(copy, 'v', 0);
      }
    } else {
      Write("<nil>");
    }
    WriteByte(')');
  }

  FormatLimits limits_;
  std::string buf_;
  Flags f_;
  bool overflow_ = false;
  bool too_deep_ = false;
  const Value* current_value_ = nullptr;
};

struct ArgNum {
  int arg_num;
  size_t i;
  bool found;
};

// parsenum: a decimal number at s[start:end].
bool ParseNum(absl::string_view s, size_t start, size_t end, int* num, size_t* newi) {
  *num = 0;
  bool isnum = false;
  size_t i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (TooLarge(*num)) {
      *num = 0;
      *newi = end;
      return false;
    }
    *num = *num * 10 + (s[i] - '0');
    isnum = true;
  }
  *newi = i;
  return isnum;
}

void Printer::DoPrintf(absl::string_view format, const std::vector<Value>& a) {
  const size_t end = format.size();
  int arg_num = 0;
  bool after_index = false;
  bool reordered = false;
  const int nargs = static_cast<int>(a.size());

  auto arg_number = [&](int an, size_t i, bool* good) -> ArgNum {
    if (i >= end || format[i] != '[') return {an, i, false};
    reordered = true;
    // parseArgNumber
    absl::string_view f = format.substr(i);
    if (f.size() < 3) {
      *good = false;
      return {an, i + 1, false};
    }
    for (size_t j = 1; j < f.size(); ++j) {
      if (f[j] == ']') {
        int width;
        size_t newi;
        bool ok = ParseNum(f, 1, j, &width, &newi);
        if (!ok || newi != j) {
          *good = false;
          return {an, i + j + 1, false};
        }
        int index = width - 1;
        if (index >= 0 && index < nargs) return {index, i + j + 1, true};
        *good = false;
        return {an, i + j + 1, true};
      }
    }
    *good = false;
    return {an, i + 1, false};
  };

  auto int_from_arg = [&](int an, int* num, bool* is_int) -> int {
    *num = 0;
    *is_int = false;
    if (an < nargs) {
      const Value& v = a[static_cast<size_t>(an)];
      if (v.is_int()) {
        *num = static_cast<int>(v.int_value());
        *is_int = static_cast<int64_t>(*num) == v.int_value();
      } else if (v.kind() == Value::Kind::kUint && v.uint_value() < (1u << 30)) {
        *num = static_cast<int>(v.uint_value());
        *is_int = true;
      }
      ++an;
      if (TooLarge(*num)) {
        *num = 0;
        *is_int = false;
      }
    }
    return an;
  };

  for (size_t i = 0; i < end && !overflow_;) {
    bool good_arg_num = true;
    size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    if (i > lasti) Write(format.substr(lasti, i - lasti));
    if (i >= end) break;
    ++i;
    f_ = Flags();
    bool simple_done = false;
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#') {
        f_.sharp = true;
      } else if (c == '0') {
        f_.zero = !f_.minus;
      } else if (c == '+') {
        f_.plus = true;
      } else if (c == '-') {
        f_.minus = true;
        f_.zero = false;
      } else if (c == ' ') {
        f_.space = true;
      } else {
        if (c >= 'a' && c <= 'z' && arg_num < nargs) {
          if (c == 'v') {
            f_.sharp_v = f_.sharp;
            f_.sharp = false;
            f_.plus_v = f_.plus;
            f_.plus = false;
          }
          PrintArg(a[static_cast<size_t>(arg_num)], c);
          ++arg_num;
          ++i;
          simple_done = true;
        }
        break;
      }
    }
    if (simple_done) continue;

    ArgNum an = arg_number(arg_num, i, &good_arg_num);
    arg_num = an.arg_num;
    i = an.i;
    after_index = an.found;

    if (i < end && format[i] == '*') {
      ++i;
      arg_num = int_from_arg(arg_num, &f_.wid, &f_.wid_present);
      if (!f_.wid_present) Write("%!(BADWIDTH)");
      if (f_.wid < 0) {
        f_.wid = -f_.wid;
        f_.minus = true;
        f_.zero = false;
      }
      after_index = false;
    } else {
      size_t newi;
      f_.wid_present = ParseNum(format, i, end, &f_.wid, &newi);
      i = newi;
      if (after_index && f_.wid_present) good_arg_num = false;
    }

    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num = false;
      an = arg_number(arg_num, i, &good_arg_num);
      arg_num = an.arg_num;
      i = an.i;
      after_index = an.found;
      if (i < end && format[i] == '*') {
        ++i;
        arg_num = int_from_arg(arg_num, &f_.prec, &f_.prec_present);
        if (f_.prec < 0) {
          f_.prec = 0;
          f_.prec_present = false;
        }
        if (!f_.prec_present) Write("%!(BADPREC)");
        after_index = false;
      } else {
        size_t newi;
        f_.prec_present = ParseNum(format, i, end, &f_.prec, &newi);
        i = newi;
        if (!f_.prec_present) {
          f_.prec = 0;
          f_.prec_present = true;
        }
      }
    }

    if (!after_index) {
      an = arg_number(arg_num, i, &good_arg_num);
      arg_num = an.arg_num;
      i = an.i;
      after_index = an.found;
    }

    if (i >= end) {
      Write("%!(NOVERB)");
      break;
    }
    size_t size;
    int32_t verb = static_cast<unsigned char>(format[i]);
    size = 1;
    if (verb >= 0x80) verb = DecodeRune(format.substr(i), &size);
    i += size;

    if (verb == '%') {
      WriteByte('%');
    } else if (!good_arg_num) {
      Write("%!");
      WriteRune(verb);
      Write("(BADINDEX)");
    } else if (arg_num >= nargs) {
      Write("%!");
      WriteRune(verb);
      Write("(MISSING)");
    } else {
      if (verb == 'v') {
        f_.sharp_v = f_.sharp;
        f_.sharp = false;
        f_.plus_v = f_.plus;
        f_.plus = false;
      }
      PrintArg(a[static_cast<size_t>(arg_num)], verb);
      ++arg_num;
    }
  }

  if (!reordered && arg_num < nargs) {
    f_ = Flags();
    Write("%!(EXTRA ");
    for (int j = arg_num; j < nargs; ++j) {
      if (j > arg_num) Write(", ");
      const Value& arg = a[static_cast<size_t>(j)];
      if (arg.is_nilish()) {
        Write("<nil>");
      } else {
        Write(GoTypeName(arg));
        WriteByte('=');
        PrintArg(arg, 'v');
      }
    }
    WriteByte(')');
  }
}

}  // namespace

absl::StatusOr<std::string> GoSprint(const std::vector<Value>& args, const FormatLimits& limits) {
  Printer p(limits);
  p.DoPrint(args);
  return p.Result();
}

absl::StatusOr<std::string> GoSprintln(const std::vector<Value>& args, const FormatLimits& limits) {
  Printer p(limits);
  p.DoPrintln(args);
  return p.Result();
}

absl::StatusOr<std::string> GoSprintf(absl::string_view format, const std::vector<Value>& args,
                                      const FormatLimits& limits) {
  Printer p(limits);
  p.DoPrintf(format, args);
  return p.Result();
}

absl::StatusOr<std::string> FormatForOutput(const Value& v, const FormatLimits& limits) {
  if (v.is_missing()) return std::string("<no value>");
  Printer p(limits);
  p.PrintArg(v, 'v');
  return p.Result();
}

std::string FormatV(const Value& v) {
  FormatLimits limits;
  limits.max_bytes = static_cast<size_t>(-1);
  Printer p(limits);
  p.PrintArg(v, 'v');
  absl::StatusOr<std::string> s = p.Result();
  return s.ok() ? *s : std::string("<nil>");
}

}  // namespace flotilla::common::tmpl
