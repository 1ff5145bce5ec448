// The Sprig registry, shared helpers, and the small areas: semver, OS
// (env, expandenv) and paths (sprig/functions.go, semver.go, path).
#include "common/template/sprig.h"

#include <openssl/rand.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/template/format.h"
#include "common/template/semver.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl {

namespace {

class SecureRandom : public RandomSource {
 public:
  uint64_t Next() override {
    uint64_t v = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof(v)) != 1) {
      // RAND_bytes only fails when the system has no entropy at all; fall
      // back to a mixed counter rather than failing a render.
      v = Mix(++fallback_);
    }
    return v;
  }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::atomic<uint64_t> fallback_{0};
};

// splitmix64: small, fast and fully determined by the seed.
class SeededRandom : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  uint64_t Next() override {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

 private:
  std::mutex mu_;
  uint64_t state_;
};

}  // namespace

std::shared_ptr<RandomSource> SecureRandomSource() { return std::make_shared<SecureRandom>(); }

std::shared_ptr<RandomSource> SeededRandomSource(uint64_t seed) {
  return std::make_shared<SeededRandom>(seed);
}

namespace sprig {

std::string Strval(const Value& v) {
  if (v.is_string()) return v.str();
  if (v.kind() == Value::Kind::kSemver) return v.semver().String();
  return FormatV(v);
}

std::vector<std::string> StrSlice(const Value& v) {
  if (v.is_list()) {
    std::vector<std::string> out;
    if (v.list() == nullptr) return out;
    for (const Value& e : v.list()->items) {
      if (v.elem_type() == ElemType::kInterface && e.is_nilish()) continue;
      out.push_back(Strval(e));
    }
    return out;
  }
  if (v.is_nilish()) return {};
  return {Strval(v)};
}

Value StringList(std::vector<std::string> items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (std::string& s : items) values.push_back(Value::String(std::move(s)));
  return Value::List(std::move(values), ElemType::kString);
}

int64_t FloatToInt64(double f) {
  if (std::isnan(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

namespace {

// cast's trimZeroDecimal: "12.000" -> "12".
std::string TrimZeroDecimal(const std::string& s) {
  bool found_zero = false;
  for (size_t i = s.size(); i > 0; --i) {
    char c = s[i - 1];
    if (c == '.') {
      if (found_zero) return s.substr(0, i - 1);
    } else if (c == '0') {
      found_zero = true;
    } else {
      return s;
    }
  }
  return s;
}

}  // namespace

int64_t ToInt64(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt:
      return v.int_value();
    case Value::Kind::kUint:
      return static_cast<int64_t>(v.uint_value());
    case Value::Kind::kFloat:
      return FloatToInt64(v.float_value());
    case Value::Kind::kBool:
      return v.bool_value() ? 1 : 0;
    case Value::Kind::kString: {
      ParseError err;
      int64_t i = GoParseInt(TrimZeroDecimal(v.str()), 0, &err);
      return err == ParseError::kNone ? i : 0;
    }
    default:
      return 0;
  }
}

double ToFloat64(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt:
      return static_cast<double>(v.int_value());
    case Value::Kind::kUint:
      return static_cast<double>(v.uint_value());
    case Value::Kind::kFloat:
      return v.float_value();
    case Value::Kind::kBool:
      return v.bool_value() ? 1 : 0;
    case Value::Kind::kString: {
      ParseError err;
      double f = GoParseFloat(v.str(), &err);
      return err == ParseError::kNone ? f : 0;
    }
    default:
      return 0;
  }
}

std::string KindName(const Value& v) { return GoKindName(v); }

absl::Status NilDereference() {
  return absl::InvalidArgumentError(
      "runtime error: invalid memory address or nil pointer dereference");
}

absl::Status ChargeElements(CallContext& ctx, size_t n) {
  return ctx.Charge(static_cast<int64_t>(n));
}

absl::Status CheckStringSize(CallContext& ctx, size_t size) {
  if (size > ctx.limits().max_output_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("result of ", size,
                                                     " bytes exceeds the limit of ",
                                                     ctx.limits().max_output_bytes, " bytes"));
  }
  return absl::OkStatus();
}

uint64_t RandomBelow(RandomSource& r, uint64_t n) {
  if (n <= 1) return 0;
  uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  while (true) {
    uint64_t x = r.Next();
    if (x < limit) return x % n;
  }
}

namespace {

using PT = ParamType;

bool IsShellSpecial(char c) {
  return c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' ||
         (c >= '0' && c <= '9');
}

bool IsShellAlnum(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// os.Expand.
std::string ExpandEnv(absl::string_view s, const Env& env) {
  auto lookup = [&](absl::string_view name) -> std::string {
    std::optional<std::string> v = env.getenv(name);
    return v.has_value() ? *v : "";
  };
  std::string buf;
  bool changed = false;
  size_t i = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    if (s[j] != '$' || j + 1 >= s.size()) continue;
    changed = true;
    buf.append(s.data() + i, j - i);
    absl::string_view rest = s.substr(j + 1);
    std::string name;
    size_t w = 0;
    if (rest[0] == '{') {
      if (rest.size() > 2 && IsShellSpecial(rest[1]) && rest[2] == '}') {
        name = std::string(rest.substr(1, 1));
        w = 3;
      } else {
        w = 1;
        for (size_t k = 1; k < rest.size(); ++k) {
          if (rest[k] == '}') {
            if (k == 1) {
              w = 2;
            } else {
              name = std::string(rest.substr(1, k - 1));
              w = k + 1;
            }
            break;
          }
        }
      }
    } else if (IsShellSpecial(rest[0])) {
      name = std::string(rest.substr(0, 1));
      w = 1;
    } else {
      while (w < rest.size() && IsShellAlnum(rest[w])) ++w;
      name = std::string(rest.substr(0, w));
    }
    if (name.empty() && w > 0) {
      // Invalid syntax: the characters are dropped.
    } else if (name.empty()) {
      buf.push_back('$');
    } else {
      buf += lookup(name);
    }
    j += w;
    i = j + 1;
  }
  if (!changed) return std::string(s);
  buf.append(s.data() + i, s.size() - i);
  return buf;
}

// path.Clean.
std::string CleanPath(absl::string_view p) {
  if (p.empty()) return ".";
  bool rooted = p[0] == '/';
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(p, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!out.empty() && out.back() != "..") {
        out.pop_back();
      } else if (!rooted) {
        out.emplace_back("..");
      }
      continue;
    }
    out.emplace_back(part);
  }
  std::string joined = absl::StrJoin(out, "/");
  if (rooted) return "/" + joined;
  return joined.empty() ? "." : joined;
}

std::string BasePath(absl::string_view p) {
  if (p.empty()) return ".";
  while (p.size() > 0 && p.back() == '/') p.remove_suffix(1);
  size_t i = p.rfind('/');
  if (i != absl::string_view::npos) p = p.substr(i + 1);
  if (p.empty()) return "/";
  return std::string(p);
}

std::string DirPath(absl::string_view p) {
  size_t i = p.rfind('/');
  return CleanPath(p.substr(0, i == absl::string_view::npos ? 0 : i + 1));
}

std::string ExtPath(absl::string_view p) {
  for (size_t i = p.size(); i > 0; --i) {
    if (p[i - 1] == '/') break;
    if (p[i - 1] == '.') return std::string(p.substr(i - 1));
  }
  return "";
}

Value Str(std::string s) { return Value::String(std::move(s)); }

}  // namespace

void AddOsFunctions(FuncMap* m, const Env& env) {
  m->Add("env", Sig({PT::kString}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           std::optional<std::string> v = env.getenv(a[0].str());
           return Str(v.has_value() ? *v : "");
         });
  m->Add("expandenv", Sig({PT::kString}),
         [env](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::string out = ExpandEnv(a[0].str(), env);
           RETURN_IF_ERROR(CheckStringSize(ctx, out.size()));
           return Str(std::move(out));
         });
  auto path_fn = [](std::string (*f)(absl::string_view)) {
    return [f](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      return Str(f(a[0].str()));
    };
  };
  m->Add("base", Sig({PT::kString}), path_fn(&BasePath));
  m->Add("dir", Sig({PT::kString}), path_fn(&DirPath));
  m->Add("clean", Sig({PT::kString}), path_fn(&CleanPath));
  m->Add("ext", Sig({PT::kString}), path_fn(&ExtPath));
  m->Add("isAbs", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(!a[0].str().empty() && a[0].str()[0] == '/'));
  });

  // semver.go
  m->Add("semver", Sig({PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(SemverVersion v, ParseSemver(a[0].str()));
           return Value::Semver(v);
         });
  m->Add("semverCompare", Sig({PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(SemverConstraint c, SemverConstraint::Parse(a[0].str()));
           ASSIGN_OR_RETURN(SemverVersion v, ParseSemver(a[1].str()));
           return Value::Bool(c.Check(v));
         });
}

}  // namespace sprig

FuncMap SprigFunctions(const SprigOptions& options) {
  sprig::Env env;
  env.clock = options.clock != nullptr ? options.clock : RealClock::Get();
  env.local = options.local_zone;
  env.random = options.random != nullptr ? options.random : SecureRandomSource();
  env.getenv = options.getenv;
  if (!env.getenv) {
    env.getenv = [](absl::string_view name) -> std::optional<std::string> {
      const char* v = ::getenv(std::string(name).c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  FuncMap m;
  sprig::AddStringFunctions(&m, env);
  sprig::AddEncodingFunctions(&m, env);
  sprig::AddRegexFunctions(&m, env);
  sprig::AddDefaultsFunctions(&m, env);
  sprig::AddMathFunctions(&m, env);
  sprig::AddListFunctions(&m, env);
  sprig::AddDictFunctions(&m, env);
  sprig::AddDateFunctions(&m, env);
  sprig::AddOsFunctions(&m, env);
  sprig::AddCryptoFunctions(&m, env);
  for (const std::string& name : options.exclude) m.Remove(name);
  return m;
}

FuncMap FleetTemplateFunctions(SprigOptions options) {
  options.exclude.insert({"env", "expandenv", "getHostByName", "include", "tpl"});
  return SprigFunctions(options);
}

}  // namespace flotilla::common::tmpl
