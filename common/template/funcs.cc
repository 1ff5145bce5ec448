#include "common/template/funcs.h"

#include <memory>
#include <utility>

namespace flotilla::common::tmpl {

Value MapWithMethods(std::map<std::string, Value> entries, MethodTable methods) {
  Value v = Value::Map(std::move(entries));
  v.map()->methods = std::make_shared<const MethodTable>(std::move(methods));
  return v;
}

std::string ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kAny:
      return "interface {}";
    case ParamType::kValue:
      return "reflect.Value";
    case ParamType::kString:
      return "string";
    case ParamType::kBool:
      return "bool";
    case ParamType::kInt:
      return "int";
    case ParamType::kInt64:
      return "int64";
    case ParamType::kFloat64:
      return "float64";
    case ParamType::kMap:
      return "map[string]interface {}";
    case ParamType::kTime:
      return "time.Time";
    case ParamType::kSemver:
      return "*semver.Version";
  }
  return "interface {}";
}

void FuncMap::Add(std::string name, Signature signature, TemplateFn fn) {
  funcs_[std::move(name)] = Function{std::move(signature), std::move(fn)};
}

void FuncMap::Remove(absl::string_view name) {
  auto it = funcs_.find(name);
  if (it != funcs_.end()) funcs_.erase(it);
}

const Function* FuncMap::Find(absl::string_view name) const {
  auto it = funcs_.find(name);
  return it == funcs_.end() ? nullptr : &it->second;
}

void FuncMap::Merge(const FuncMap& other) {
  for (const auto& [name, f] : other.funcs_) funcs_[name] = f;
}

std::vector<std::string> FuncMap::Names() const {
  std::vector<std::string> names;
  names.reserve(funcs_.size());
  for (const auto& [name, f] : funcs_) names.push_back(name);
  return names;
}

Signature Sig(std::vector<ParamType> params) { return Signature{std::move(params), false}; }

Signature VariadicSig(std::vector<ParamType> params) { return Signature{std::move(params), true}; }

}  // namespace flotilla::common::tmpl
