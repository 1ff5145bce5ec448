#include "common/template/template.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/template/exec.h"
#include "common/template/parser.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl {

ExecSession::~ExecSession() {
  for (const std::weak_ptr<Object>& weak : mutated_) {
    std::shared_ptr<Object> obj = weak.lock();
    if (obj == nullptr) continue;
    auto* map = static_cast<MapRep*>(obj.get());
    // Moving the entries out and dropping them releases the children
    // through the iterative path in ~MapRep.
    MapRep doomed;
    doomed.entries.swap(map->entries);
  }
}

void ExecSession::NoteMutation(const Value& map) {
  if (!map.is_map() || map.map() == nullptr) return;
  mutated_.push_back(map.WeakObject());
}

TemplateSet::TemplateSet(Options options, FuncMap funcs)
    : options_(std::move(options)), funcs_(std::make_shared<const FuncMap>(std::move(funcs))) {}

absl::Status TemplateSet::Parse(absl::string_view name, absl::string_view text) {
  ParseOptions po;
  po.left_delim = options_.left_delim;
  po.right_delim = options_.right_delim;
  po.max_depth = options_.limits.max_parse_depth;
  std::shared_ptr<const FuncMap> funcs = funcs_;
  po.has_function = [funcs](absl::string_view fn) {
    return funcs->Has(fn) || BuiltinFunctions().Has(fn);
  };
  ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Tree>> trees, ParseTemplateText(name, text, po));
  for (std::unique_ptr<Tree>& tree : trees) {
    auto it = trees_.find(tree->name);
    // Go's associate: an empty definition does not replace an existing one.
    if (it != trees_.end() && IsEmptyTree(tree->root.get())) continue;
    std::string key = tree->name;
    trees_[key] = std::shared_ptr<const Tree>(std::move(tree));
  }
  return absl::OkStatus();
}

const Tree* TemplateSet::Lookup(absl::string_view name) const {
  auto it = trees_.find(name);
  return it == trees_.end() ? nullptr : it->second.get();
}

bool TemplateSet::Has(absl::string_view name) const { return Lookup(name) != nullptr; }

std::vector<std::string> TemplateSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, tree] : trees_) names.push_back(name);
  return names;
}

absl::StatusOr<std::string> TemplateSet::Execute(absl::string_view name, const Json& data) const {
  absl::StatusOr<Value> value = ValueFromJson(
      data,
      options_.json_numbers_as_float64 ? JsonNumbers::kAllFloat64 : JsonNumbers::kKeepIntegers,
      options_.limits.max_value_depth);
  if (!value.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("template: ", name, ": data: ", value.status().message()));
  }
  // Go hands nil data to the template as an invalid (missing) value.
  if (value->is_nil()) *value = Value::Missing();
  ExecSession session;
  return ExecuteValue(name, *value, &session);
}

absl::StatusOr<std::string> TemplateSet::ExecuteValue(absl::string_view name, const Value& data,
                                                      ExecSession* session) const {
  const Tree* tree = Lookup(name);
  if (tree == nullptr) {
    std::vector<std::string> quoted;
    for (const std::string& n : Names()) quoted.push_back(GoQuote(n));
    std::string defined;
    if (!quoted.empty()) defined = "; defined templates are: " + absl::StrJoin(quoted, ", ");
    return absl::InvalidArgumentError(
        absl::StrCat("template: no template ", GoQuote(name), " defined", defined));
  }
  ExecSession local;
  return ExecuteTree(*this, *tree, data, session != nullptr ? session : &local);
}

}  // namespace flotilla::common::tmpl
