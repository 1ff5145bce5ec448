#include "common/yaml.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {
namespace {

// go-yaml v2 (what sigs.k8s.io/yaml uses) resolves these plain scalars.
bool IsNull(absl::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> ResolveBool(absl::string_view s) {
  static constexpr absl::string_view kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                                "True", "TRUE", "on",  "On",  "ON"};
  static constexpr absl::string_view kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                                 "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue)
    if (s == t) return true;
  for (auto f : kFalse)
    if (s == f) return false;
  return std::nullopt;
}

std::optional<Json> ResolveInt(absl::string_view s) {
  std::string digits;
  digits.reserve(s.size());
  for (char c : s)
    if (c != '_') digits.push_back(c);
  if (digits.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    i = 1;
  }
  if (i >= digits.size()) return std::nullopt;
  int base = 10;
  std::string body = digits.substr(i);
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    base = 16;
    body = body.substr(2);
  } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'b' || body[1] == 'B')) {
    base = 2;
    body = body.substr(2);
  } else if (body.size() > 2 && body[0] == '0' && (body[1] == 'o' || body[1] == 'O')) {
    base = 8;
    body = body.substr(2);
  } else if (body.size() > 1 && body[0] == '0') {
    base = 8;
    body = body.substr(1);
  }
  if (body.empty()) return std::nullopt;
  for (char c : body) {
    bool ok = base == 16  ? absl::ascii_isxdigit(static_cast<unsigned char>(c))
              : base == 2 ? (c == '0' || c == '1')
              : base == 8 ? (c >= '0' && c <= '7')
                          : absl::ascii_isdigit(static_cast<unsigned char>(c));
    if (!ok) return std::nullopt;
  }
  errno = 0;
  unsigned long long v = std::strtoull(body.c_str(), nullptr, base);
  if (errno == ERANGE) return std::nullopt;
  if (negative) {
    if (v > static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()) + 1) {
      return std::nullopt;
    }
    return Json(static_cast<int64_t>(0 - v));
  }
  if (v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    return Json(static_cast<int64_t>(v));
  }
  return Json(static_cast<uint64_t>(v));
}

std::optional<Json> ResolveFloat(absl::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
    return Json(std::numeric_limits<double>::infinity());
  }
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
    return Json(-std::numeric_limits<double>::infinity());
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return Json(std::nan(""));
  // go-yaml v2 drops "_", then accepts
  // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  // Without "." or exponent this is reached only for what is not a valid int
  // ("08", or beyond 64 bits), which go-yaml then reads as a float too.
  std::string plain(s);
  plain.erase(std::remove(plain.begin(), plain.end(), '_'), plain.end());
  size_t i = 0;
  auto digits = [&] {
    size_t n = 0;
    while (i < plain.size() && absl::ascii_isdigit(static_cast<unsigned char>(plain[i]))) ++i, ++n;
    return n;
  };
  if (i < plain.size() && (plain[i] == '+' || plain[i] == '-')) ++i;
  size_t mantissa_digits = digits();
  if (i < plain.size() && plain[i] == '.') {
    ++i;
    mantissa_digits += digits();
  }
  if (mantissa_digits == 0) return std::nullopt;
  if (i < plain.size() && (plain[i] == 'e' || plain[i] == 'E')) {
    ++i;
    if (i < plain.size() && (plain[i] == '+' || plain[i] == '-')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != plain.size()) return std::nullopt;
  return Json(std::strtod(plain.c_str(), nullptr));
}

// The JSON value a plain (unquoted, untagged) scalar stands for.
Json ResolvePlain(const std::string& s) {
  if (IsNull(s)) return nullptr;
  if (auto b = ResolveBool(s)) return *b;
  if (auto i = ResolveInt(s)) return *i;
  if (auto f = ResolveFloat(s)) return *f;
  return s;
}

std::string Where(absl::string_view filename, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string(filename);
  return absl::StrCat(filename, ":", mark.line + 1, ":", mark.column + 1);
}

class Converter {
 public:
  Converter(absl::string_view filename, const YamlLimits& limits,
            std::map<std::string, std::pair<int, int>>* positions = nullptr, size_t nodes_used = 0)
      : filename_(filename), limits_(limits), positions_(positions), nodes_(nodes_used) {}

  size_t nodes_used() const { return nodes_; }

  absl::StatusOr<Json> Convert(const YAML::Node& node, int depth, const std::string& pointer = "") {
    if (positions_ != nullptr && !node.Mark().is_null()) {
      (*positions_)[pointer] = {node.Mark().line + 1, node.Mark().column + 1};
    }
    if (++nodes_ > limits_.max_nodes) {
      return absl::InvalidArgumentError(absl::StrCat(Where(filename_, node.Mark()),
                                                     ": document expands to more than ",
                                                     limits_.max_nodes, " nodes (alias bomb?)"));
    }
    if (depth > limits_.max_depth) {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(filename_, node.Mark()), ": nesting deeper than ", limits_.max_depth, " levels"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        Json arr = Json::array();
        for (const auto& item : node) {
          auto v = Convert(item, depth + 1,
                           positions_ ? absl::StrCat(pointer, "/", arr.size()) : std::string());
          if (!v.ok()) return v.status();
          arr.push_back(std::move(*v));
        }
        return arr;
      }
      case YAML::NodeType::Map: {
        Json obj = Json::object();
        for (const auto& kv : node) {
          std::string key;
          if (kv.first.IsScalar()) {
            key = kv.first.Scalar();
          } else if (kv.first.IsNull()) {
            key = "null";
          } else {
            return absl::InvalidArgumentError(
                absl::StrCat(Where(filename_, kv.first.Mark()), ": mapping keys must be scalars"));
          }
          if (obj.contains(key)) {
            return absl::InvalidArgumentError(
                absl::StrCat(Where(filename_, kv.first.Mark()), ": duplicate key \"", key, "\""));
          }
          auto v =
              Convert(kv.second, depth + 1,
                      positions_ ? absl::StrCat(pointer, "/", EscapePointer(key)) : std::string());
          if (!v.ok()) return v.status();
          obj[key] = std::move(*v);
        }
        return obj;
      }
    }
    return Json(nullptr);
  }

 private:
  absl::StatusOr<Json> Scalar(const YAML::Node& node) {
    const std::string& tag = node.Tag();
    const std::string& s = node.Scalar();
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "!!str") return Json(s);
    if (tag == "?" || tag.empty()) return ResolvePlain(s);
    if (tag == "tag:yaml.org,2002:int" || tag == "!!int") {
      if (auto i = ResolveInt(s)) return *i;
    } else if (tag == "tag:yaml.org,2002:float" || tag == "!!float") {
      if (auto i = ResolveInt(s)) return Json(i->get<double>());
      if (auto f = ResolveFloat(s)) return *f;
    } else if (tag == "tag:yaml.org,2002:bool" || tag == "!!bool") {
      if (auto b = ResolveBool(s)) return Json(*b);
    } else if (tag == "tag:yaml.org,2002:null" || tag == "!!null") {
      return Json(nullptr);
    } else if (tag == "tag:yaml.org,2002:binary" || tag == "!!binary" ||
               tag == "tag:yaml.org,2002:timestamp" || tag == "!!timestamp") {
      return Json(s);
    } else {
      // Unknown local tags: keep the value, as go-yaml does for plain scalars.
      return ResolvePlain(s);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(Where(filename_, node.Mark()), ": \"", s, "\" is not a valid ", tag));
  }

  static std::string EscapePointer(const std::string& key) {
    return absl::StrReplaceAll(key, {{"~", "~0"}, {"/", "~1"}});
  }

  absl::string_view filename_;
  YamlLimits limits_;
  std::map<std::string, std::pair<int, int>>* positions_;
  size_t nodes_;
};

absl::string_view StripBom(absl::string_view text) {
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF) {
    text.remove_prefix(3);
  }
  return text;
}

bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  Json resolved = ResolvePlain(s);
  if (!resolved.is_string()) return true;
  // Leading/trailing spaces and YAML indicators are handled by the emitter,
  // but be explicit about the ones that change meaning.
  if (s.front() == ' ' || s.back() == ' ') return true;
  static constexpr absl::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  if (kIndicators.find(s.front()) != absl::string_view::npos) return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  if (s.back() == ':') return true;
  return false;
}

// yaml-cpp writes literal blocks as "|" (clip chomping, indentation
// auto-detected), which reads back unchanged only for text that ends in exactly
// one newline, whose first line does not start with a blank, and that holds no
// other control characters. Everything else is written double-quoted.
bool LiteralRoundTrips(const std::string& s) {
  if (s.size() < 2 || s.back() != '\n' || s[s.size() - 2] == '\n') return false;
  if (s.front() == ' ' || s.front() == '\t' || s.front() == '\n') return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

void Emit(YAML::Emitter& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      out << YAML::Null;
      break;
    case Json::value_t::boolean:
      out << (v.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::number_integer:
      out << v.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      out << v.get<uint64_t>();
      break;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) {
        out << ".nan";
      } else if (std::isinf(d)) {
        out << (d > 0 ? ".inf" : "-.inf");
      } else {
        std::string s = Json(d).dump();
        out << s;
      }
      break;
    }
    case Json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.find('\n') != std::string::npos && LiteralRoundTrips(s)) {
        out << YAML::Literal << s;
      } else if (s.find('\n') != std::string::npos) {
        out << YAML::DoubleQuoted << s;
      } else if (NeedsQuotes(s)) {
        out << YAML::DoubleQuoted << s;
      } else {
        out << s;
      }
      break;
    }
    case Json::value_t::array:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : v) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case Json::value_t::object:
      if (v.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [k, item] : v.items()) {
        out << YAML::Key;
        if (NeedsQuotes(k)) {
          out << YAML::DoubleQuoted << k;
        } else {
          out << k;
        }
        out << YAML::Value;
        Emit(out, item);
      }
      out << YAML::EndMap;
      break;
    default:
      out << YAML::Null;
      break;
  }
}

absl::Status DepthError(absl::string_view filename, const YAML::DeepRecursion& e) {
  return absl::InvalidArgumentError(
      absl::StrCat(Where(filename, e.mark), ": nesting deeper than ", e.depth() - 1, " levels"));
}

}  // namespace

absl::StatusOr<std::vector<Json>> ParseYamlDocuments(absl::string_view text,
                                                     absl::string_view filename,
                                                     const YamlLimits& limits) {
  std::string input(StripBom(text));
  if (input.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": contains a NUL byte"));
  }
  std::vector<Json> docs;
  try {
    std::vector<YAML::Node> nodes = YAML::LoadAll(input);
    Converter converter(filename, limits);
    for (const auto& node : nodes) {
      if (node.IsNull() || !node.IsDefined()) continue;
      auto v = converter.Convert(node, 0);
      if (!v.ok()) return v.status();
      docs.push_back(std::move(*v));
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own depth guard; its message is just "bad file".
    return DepthError(filename, e);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(Where(filename, e.mark), ": ", e.msg));
  }
  return docs;
}

absl::StatusOr<std::vector<YamlDocument>> ParseYamlDocumentsWithPositions(
    absl::string_view text, absl::string_view filename, const YamlLimits& limits) {
  std::string input(StripBom(text));
  if (input.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(filename, ": contains a NUL byte"));
  }
  std::vector<YamlDocument> docs;
  try {
    std::vector<YAML::Node> nodes = YAML::LoadAll(input);
    size_t budget_used = 0;
    for (const auto& node : nodes) {
      if (node.IsNull() || !node.IsDefined()) continue;
      YamlDocument doc;
      doc.filename = std::string(filename);
      // The node budget spans the whole stream, as in ParseYamlDocuments.
      Converter converter(filename, limits, &doc.positions, budget_used);
      auto v = converter.Convert(node, 0);
      if (!v.ok()) return v.status();
      budget_used = converter.nodes_used();
      doc.value = std::move(*v);
      docs.push_back(std::move(doc));
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own depth guard; its message is just "bad file".
    return DepthError(filename, e);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(Where(filename, e.mark), ": ", e.msg));
  }
  return docs;
}

std::string YamlDocument::Where(absl::string_view pointer) const {
  std::string p(pointer);
  while (true) {
    auto it = positions.find(p);
    if (it != positions.end()) {
      return absl::StrCat(filename, ":", it->second.first, ":", it->second.second);
    }
    if (p.empty()) return filename;
    size_t slash = p.rfind('/');
    p = slash == std::string::npos ? "" : p.substr(0, slash);
  }
}

absl::StatusOr<Json> ParseYaml(absl::string_view text, absl::string_view filename,
                               const YamlLimits& limits) {
  auto docs = ParseYamlDocuments(text, filename, limits);
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return Json(nullptr);
  if (docs->size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": expected one YAML document, found ", docs->size()));
  }
  return std::move(docs->front());
}

std::string ToYaml(const Json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string s = out.c_str();
  if (s.empty() || s.back() != '\n') s.push_back('\n');
  return s;
}

std::string ToYamlDocuments(const std::vector<Json>& docs) {
  std::string out;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i > 0) out += "---\n";
    out += ToYaml(docs[i]);
  }
  return out;
}

std::string CanonicalJson(const Json& value) { return value.dump(); }

}  // namespace flotilla::common
