#include "common/helm/schema.h"

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"

namespace flotilla::common::helm {
namespace {

constexpr absl::string_view kRoot = "(root)";

std::string ChildPath(const std::string& path, absl::string_view key) {
  return path == kRoot ? std::string(key) : absl::StrCat(path, ".", key);
}

bool IsWhole(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && d == std::trunc(d);
}

// gojsonschema's name of a document value's type.
std::string TypeOf(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return IsWhole(v) ? "integer" : "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool TypeMatches(absl::string_view type, const Json& v) {
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number() && IsWhole(v);
  return TypeOf(v) == type;
}

// big.Float's %v (Text('g', 10)), as gojsonschema prints limits.
std::string Num(double d) { return absl::StrFormat("%.10g", d); }

// Unicode code points, as Go's utf8.RuneCountInString.
size_t RuneCount(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

class Validator {
 public:
  explicit Validator(const Json& root) : root_(root) {}

  void Validate(const Json& schema, const Json& v, const std::string& path, int depth,
                std::vector<std::string>& out) {
    if (depth > kMaxSchemaDepth) {
      Add(out, path, absl::StrCat("Schema nesting exceeds ", kMaxSchemaDepth, " levels"));
      return;
    }
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) Add(out, path, "False always fails validation");
      return;
    }
    if (!schema.is_object()) return;
    // Draft-07: $ref replaces its siblings.
    if (auto ref = schema.find("$ref"); ref != schema.end() && ref->is_string()) {
      const Json* target = Resolve(ref->get<std::string>());
      if (target == nullptr) {
        Add(out, path, absl::StrCat("Cannot resolve $ref '", ref->get<std::string>(), "'"));
        return;
      }
      Validate(*target, v, path, depth + 1, out);
      return;
    }
    if (!CheckType(schema, v, path, out)) return;
    Combinators(schema, v, path, depth, out);
    Common(schema, v, path, out);
    if (v.is_object()) Object(schema, v, path, depth, out);
    if (v.is_array()) Array(schema, v, path, depth, out);
    if (v.is_string()) String(schema, v, path, out);
    if (v.is_number()) Number(schema, v, path, out);
  }

 private:
  static void Add(std::vector<std::string>& out, const std::string& path, absl::string_view msg) {
    out.push_back(absl::StrCat(path, ": ", msg));
  }

  const Json* Resolve(const std::string& ref) const {
    if (ref == "#") return &root_;
    if (ref.rfind("#/definitions/", 0) != 0 && ref.rfind("#/$defs/", 0) != 0) return nullptr;
    const Json* target = nullptr;
    try {
      Json::json_pointer ptr(ref.substr(1));
      target = root_.contains(ptr) ? &root_.at(ptr) : nullptr;
    } catch (const Json::exception&) {
      target = nullptr;
    }
    return target;
  }

  RE2* Regex(const std::string& pattern) {
    auto& re = regexes_[pattern];
    if (re == nullptr) {
      RE2::Options opts;
      opts.set_log_errors(false);
      re = std::make_unique<RE2>(pattern, opts);
    }
    return re.get();
  }

  bool CheckType(const Json& schema, const Json& v, const std::string& path,
                 std::vector<std::string>& out) {
    auto type = schema.find("type");
    if (type == schema.end()) return true;
    std::vector<std::string> types;
    if (type->is_string()) {
      types.push_back(type->get<std::string>());
    } else if (type->is_array()) {
      for (const Json& t : *type) {
        if (t.is_string()) types.push_back(t.get<std::string>());
      }
    }
    if (types.empty()) return true;
    for (const std::string& t : types) {
      if (TypeMatches(t, v)) return true;
    }
    std::string expected =
        types.size() == 1 ? types[0] : absl::StrCat("[", absl::StrJoin(types, ","), "]");
    Add(out, path, absl::StrCat("Invalid type. Expected: ", expected, ", given: ", TypeOf(v)));
    return false;
  }

  void Combinators(const Json& schema, const Json& v, const std::string& path, int depth,
                   std::vector<std::string>& out) {
    // The sub-result with the fewest violations, reported after anyOf/oneOf.
    auto run_all = [&](const Json& list, size_t& valid, std::vector<std::string>& best,
                       std::vector<std::vector<std::string>>* all) {
      bool have_best = false;
      for (const Json& sub : list) {
        std::vector<std::string> errs;
        Validate(sub, v, path, depth + 1, errs);
        if (errs.empty()) ++valid;
        if (!have_best || errs.size() < best.size()) {
          best = errs;
          have_best = true;
        }
        if (all != nullptr) all->push_back(std::move(errs));
      }
    };
    if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array() && !any->empty()) {
      size_t valid = 0;
      std::vector<std::string> best;
      run_all(*any, valid, best, nullptr);
      if (valid == 0) {
        Add(out, path, "Must validate at least one schema (anyOf)");
        out.insert(out.end(), best.begin(), best.end());
      }
    }
    if (auto one = schema.find("oneOf"); one != schema.end() && one->is_array() && !one->empty()) {
      size_t valid = 0;
      std::vector<std::string> best;
      run_all(*one, valid, best, nullptr);
      if (valid != 1) {
        Add(out, path, "Must validate one and only one schema (oneOf)");
        if (valid == 0) out.insert(out.end(), best.begin(), best.end());
      }
    }
    if (auto all = schema.find("allOf"); all != schema.end() && all->is_array() && !all->empty()) {
      size_t valid = 0;
      std::vector<std::string> best;
      std::vector<std::vector<std::string>> results;
      run_all(*all, valid, best, &results);
      for (const auto& errs : results) out.insert(out.end(), errs.begin(), errs.end());
      if (valid != all->size()) Add(out, path, "Must validate all the schemas (allOf)");
    }
    if (auto n = schema.find("not"); n != schema.end()) {
      std::vector<std::string> errs;
      Validate(*n, v, path, depth + 1, errs);
      if (errs.empty()) Add(out, path, "Must not validate the schema (not)");
    }
  }

  void Common(const Json& schema, const Json& v, const std::string& path,
              std::vector<std::string>& out) {
    std::string field = path;
    if (auto c = schema.find("const"); c != schema.end() && !(*c == v)) {
      Add(out, path, absl::StrCat(field, " does not match: ", c->dump()));
    }
    if (auto e = schema.find("enum"); e != schema.end() && e->is_array()) {
      bool found = false;
      std::vector<std::string> allowed;
      for (const Json& x : *e) {
        if (x == v) found = true;
        allowed.push_back(x.dump());
      }
      if (!found) {
        Add(out, path,
            absl::StrCat(field, " must be one of the following: ", absl::StrJoin(allowed, ", ")));
      }
    }
  }

  void Object(const Json& schema, const Json& v, const std::string& path, int depth,
              std::vector<std::string>& out) {
    if (auto req = schema.find("required"); req != schema.end() && req->is_array()) {
      for (const Json& r : *req) {
        if (r.is_string() && !v.contains(r.get<std::string>())) {
          Add(out, path, absl::StrCat(r.get<std::string>(), " is required"));
        }
      }
    }
    const Json* props = nullptr;
    if (auto p = schema.find("properties"); p != schema.end() && p->is_object()) props = &*p;
    const Json* patterns = nullptr;
    if (auto p = schema.find("patternProperties"); p != schema.end() && p->is_object()) {
      patterns = &*p;
    }
    auto additional = schema.find("additionalProperties");
    for (const auto& [key, child] : v.items()) {
      std::string child_path = ChildPath(path, key);
      bool matched = props != nullptr && props->contains(key);
      if (patterns != nullptr) {
        for (const auto& [pattern, sub] : patterns->items()) {
          RE2* re = Regex(pattern);
          if (re->ok() && RE2::PartialMatch(key, *re)) {
            matched = true;
            Validate(sub, child, child_path, depth + 1, out);
          }
        }
      }
      if (matched || additional == schema.end()) continue;
      if (additional->is_boolean()) {
        if (!additional->get<bool>()) {
          Add(out, path, absl::StrCat("Additional property ", key, " is not allowed"));
        }
      } else if (additional->is_object()) {
        Validate(*additional, child, child_path, depth + 1, out);
      }
    }
    if (props != nullptr) {
      for (const auto& [key, sub] : props->items()) {
        if (auto child = v.find(key); child != v.end()) {
          Validate(sub, *child, ChildPath(path, key), depth + 1, out);
        }
      }
    }
  }

  void Array(const Json& schema, const Json& v, const std::string& path, int depth,
             std::vector<std::string>& out) {
    if (auto m = schema.find("minItems"); m != schema.end() && m->is_number()) {
      if (static_cast<double>(v.size()) < m->get<double>()) {
        Add(out, path, absl::StrCat("Array must have at least ", Num(m->get<double>()), " items"));
      }
    }
    if (auto m = schema.find("maxItems"); m != schema.end() && m->is_number()) {
      if (static_cast<double>(v.size()) > m->get<double>()) {
        Add(out, path, absl::StrCat("Array must have at most ", Num(m->get<double>()), " items"));
      }
    }
    auto items = schema.find("items");
    if (items == schema.end()) return;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string child_path = ChildPath(path, std::to_string(i));
      if (items->is_array()) {
        if (i < items->size()) Validate((*items)[i], v[i], child_path, depth + 1, out);
      } else {
        Validate(*items, v[i], child_path, depth + 1, out);
      }
    }
  }

  void String(const Json& schema, const Json& v, const std::string& path,
              std::vector<std::string>& out) {
    const std::string& s = v.get_ref<const std::string&>();
    size_t len = RuneCount(s);
    if (auto m = schema.find("minLength"); m != schema.end() && m->is_number()) {
      if (static_cast<double>(len) < m->get<double>()) {
        Add(out, path,
            absl::StrCat("String length must be greater than or equal to ", Num(m->get<double>())));
      }
    }
    if (auto m = schema.find("maxLength"); m != schema.end() && m->is_number()) {
      if (static_cast<double>(len) > m->get<double>()) {
        Add(out, path,
            absl::StrCat("String length must be less than or equal to ", Num(m->get<double>())));
      }
    }
    if (auto p = schema.find("pattern"); p != schema.end() && p->is_string()) {
      const std::string& pattern = p->get_ref<const std::string&>();
      RE2* re = Regex(pattern);
      if (!re->ok()) {
        Add(out, path, absl::StrCat("Invalid pattern '", pattern, "'"));
      } else if (!RE2::PartialMatch(s, *re)) {
        Add(out, path, absl::StrCat("Does not match pattern '", pattern, "'"));
      }
    }
  }

  void Number(const Json& schema, const Json& v, const std::string& path,
              std::vector<std::string>& out) {
    double d = v.get<double>();
    auto bound = [&](const char* key) -> const Json* {
      auto it = schema.find(key);
      return it != schema.end() && (it->is_number() || it->is_boolean()) ? &*it : nullptr;
    };
    const Json* min = bound("minimum");
    const Json* xmin = bound("exclusiveMinimum");
    const Json* max = bound("maximum");
    const Json* xmax = bound("exclusiveMaximum");
    // Draft-04's boolean exclusiveMinimum/exclusiveMaximum modify minimum/maximum.
    bool min_exclusive = xmin != nullptr && xmin->is_boolean() && xmin->get<bool>();
    bool max_exclusive = xmax != nullptr && xmax->is_boolean() && xmax->get<bool>();
    if (min != nullptr && min->is_number()) {
      double m = min->get<double>();
      if (min_exclusive ? d <= m : d < m) {
        Add(out, path,
            absl::StrCat(
                min_exclusive ? "Must be greater than " : "Must be greater than or equal to ",
                Num(m)));
      }
    }
    if (xmin != nullptr && xmin->is_number() && d <= xmin->get<double>()) {
      Add(out, path, absl::StrCat("Must be greater than ", Num(xmin->get<double>())));
    }
    if (max != nullptr && max->is_number()) {
      double m = max->get<double>();
      if (max_exclusive ? d >= m : d > m) {
        Add(out, path,
            absl::StrCat(max_exclusive ? "Must be less than " : "Must be less than or equal to ",
                         Num(m)));
      }
    }
    if (xmax != nullptr && xmax->is_number() && d >= xmax->get<double>()) {
      Add(out, path, absl::StrCat("Must be less than ", Num(xmax->get<double>())));
    }
  }

  const Json& root_;
  std::map<std::string, std::unique_ptr<RE2>> regexes_;
};

}  // namespace

std::vector<std::string> ValidateJsonSchema(const Json& schema, const Json& value) {
  std::vector<std::string> out;
  Validator(schema).Validate(schema, value, std::string(kRoot), 0, out);
  return out;
}

}  // namespace flotilla::common::helm
