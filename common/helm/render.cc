#include "common/helm/render.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/helm/schema.h"
#include "common/status_macros.h"
#include "common/template/semver.h"
#include "common/template/sprig.h"
#include "common/template/template.h"
#include "common/template/value.h"

namespace flotilla::common::helm {
namespace {

using tmpl::CallContext;
using tmpl::JsonNumbers;
using tmpl::Value;
using PT = tmpl::ParamType;

// ---------------------------------------------------------------------------
// Values

// Helm's coalesceTables: `over` wins; maps merge; a null in `over` deletes.
Json Coalesce(const Json& base, const Json& over) {
  if (!over.is_object()) return base.is_object() ? base : Json::object();
  Json out = base.is_object() ? base : Json::object();
  for (const auto& [k, v] : over.items()) {
    if (v.is_null()) {
      out.erase(k);
    } else if (v.is_object() && out.contains(k) && out[k].is_object()) {
      out[k] = Coalesce(out[k], v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

const Json* PathValue(const Json& values, absl::string_view path) {
  const Json* cur = &values;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (!cur->is_object() || !cur->contains(std::string(part))) return nullptr;
    cur = &(*cur)[std::string(part)];
  }
  return cur;
}

std::string JsonString(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

Json CoalesceScoped(const Chart& chart, const Json& given) {
  Json values = Coalesce(chart.values, given);
  for (const Chart& sub : chart.subcharts) {
    Json sub_given =
        values.contains(sub.name) && values[sub.name].is_object() ? values[sub.name] : Json();
    Json sub_values = CoalesceScoped(sub, sub_given);
    if (values.contains("global") && values["global"].is_object()) {
      sub_values["global"] = Coalesce(sub_values.value("global", Json::object()), values["global"]);
    }
    values[sub.name] = std::move(sub_values);
  }
  return values;
}

// Helm's processDependencyEnabled (pkg/chartutil/dependencies.go) on a copy:
// each Chart.yaml dependency takes the subchart of its name (a copy named by
// its `alias`, Chart.yaml name included, when it has one); subcharts no
// dependency names stay; then a dependency is dropped when its `tags` are
// all false (none true, one false) in `tags`, and its `condition` (the first
// path that resolves to a bool decides) overrides the tags. Charts without a
// `dependencies` list are left as they are, as in Helm. `tags` comes from
// the top-level values, each chart's own defaults under it.
void ProcessDependencyEnabled(Chart& c, const Json& given, const Json& parent_tags) {
  if (!c.metadata.contains("dependencies") || !c.metadata["dependencies"].is_array()) return;
  Json& deps = c.metadata["dependencies"];
  std::vector<Chart> subs;
  for (const Chart& existing : c.subcharts) {
    bool listed = false;
    for (const Json& d : deps) listed = listed || JsonString(d, "name") == existing.name;
    if (!listed) subs.push_back(existing);
  }
  for (Json& d : deps) {
    if (!d.is_object()) continue;
    std::string name = JsonString(d, "name"), alias = JsonString(d, "alias");
    for (const Chart& existing : c.subcharts) {
      if (existing.name != name) continue;
      Chart copy = existing;
      if (!alias.empty()) {
        copy.name = alias;
        copy.metadata["name"] = alias;
      }
      subs.push_back(std::move(copy));
      break;
    }
    if (!alias.empty()) d["name"] = alias;
  }
  c.subcharts = std::move(subs);
  Json cvals = CoalesceScoped(c, given);
  Json tags =
      c.values.contains("tags") && c.values["tags"].is_object() ? c.values["tags"] : Json::object();
  tags = Coalesce(tags, parent_tags.is_object() ? parent_tags : cvals.value("tags", Json()));
  std::set<std::string> disabled;
  Json kept = Json::array();
  for (const Json& d : deps) {
    if (!d.is_object()) continue;
    bool has_true = false, has_false = false;
    if (d.contains("tags") && d["tags"].is_array()) {
      for (const Json& t : d["tags"]) {
        if (!t.is_string() || !tags.contains(t.get<std::string>())) continue;
        const Json& v = tags[t.get<std::string>()];
        if (v.is_boolean()) (v.get<bool>() ? has_true : has_false) = true;
      }
    }
    bool enabled = has_true || !has_false;
    for (absl::string_view path : absl::StrSplit(JsonString(d, "condition"), ',')) {
      path = absl::StripAsciiWhitespace(path);
      if (path.empty()) continue;
      const Json* v = PathValue(cvals, path);
      if (v != nullptr && v->is_boolean()) {
        enabled = v->get<bool>();
        break;
      }
    }
    if (enabled) {
      kept.push_back(d);
    } else {
      disabled.insert(JsonString(d, "name"));
    }
  }
  std::erase_if(c.subcharts, [&](const Chart& s) { return disabled.contains(s.name); });
  for (Chart& sub : c.subcharts) {
    Json sub_given =
        cvals.contains(sub.name) && cvals[sub.name].is_object() ? cvals[sub.name] : Json();
    ProcessDependencyEnabled(sub, sub_given, tags);
  }
  deps = std::move(kept);
}

// Helm's processDependencyImportValues, children first: each dependency's
// `import-values` (a name: the child's `exports.<name>` table into the
// parent's root; {child, parent}: the child's table at `child` under
// `parent`) gathered, then the parent's own defaults laid over them (the
// parent's values.yaml wins).
void ProcessImportValues(Chart& c) {
  for (Chart& sub : c.subcharts) ProcessImportValues(sub);
  if (!c.metadata.contains("dependencies") || !c.metadata["dependencies"].is_array()) return;
  Json cvals = CoalesceScoped(c, Json::object());
  Json imported = Json::object();
  for (const Json& d : c.metadata["dependencies"]) {
    if (!d.is_object() || !d.contains("import-values") || !d["import-values"].is_array()) continue;
    std::string name = JsonString(d, "name");
    for (const Json& iv : d["import-values"]) {
      std::string child, parent = ".";
      if (iv.is_string()) {
        child = absl::StrCat("exports.", iv.get<std::string>());
      } else if (iv.is_object()) {
        child = JsonString(iv, "child");
        parent = JsonString(iv, "parent");
      } else {
        continue;
      }
      const Json* table = PathValue(cvals, absl::StrCat(name, ".", child));
      if (table == nullptr || !table->is_object()) continue;  // Helm only warns
      Json add = *table;
      if (parent != ".") {
        std::vector<std::string> parts = absl::StrSplit(parent, '.');
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) add = Json{{*it, std::move(add)}};
      }
      imported = Coalesce(add, imported);  // earlier imports win, as CoalesceTables(b, ...)
    }
  }
  // Helm sets the chart's values to all of cvals; laying only its own
  // values.yaml over the imports keeps a user's null able to delete a
  // default global in subcharts as before (imports into a subchart's section
  // are not overridden by that subchart's defaults here).
  if (!imported.empty()) c.values = Coalesce(imported, c.values);
}

// Helm's ProcessDependencies: the chart as it is rendered with `user_values`.
Chart ProcessDependencies(const Chart& chart, const Json& user_values) {
  Chart out = chart;
  ProcessDependencyEnabled(out, user_values, Json());
  ProcessImportValues(out);
  return out;
}

// ---------------------------------------------------------------------------
// Helm's template functions (pkg/engine/funcs.go)

// sigs.k8s.io/yaml writes numbers through JSON, so a float64 holding an
// integer comes out as one (1, not 1.0).
void IntegralFloatsToInts(Json& j) {
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.2e18) {
      j = static_cast<int64_t>(d);
    }
  } else if (j.is_object() || j.is_array()) {
    for (auto& e : j) IntegralFloatsToInts(e);
  }
}

absl::StatusOr<std::string> ToYamlText(const Value& v, CallContext& ctx) {
  ASSIGN_OR_RETURN(Json j, tmpl::ValueToJson(v, ctx.limits().max_value_depth));
  IntegralFloatsToInts(j);
  std::string out = ToYaml(j);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

absl::StatusOr<Value> FromJsonValue(const Json& j, CallContext& ctx) {
  return tmpl::ValueFromJson(j, JsonNumbers::kAllFloat64, ctx.limits().max_value_depth);
}

std::string TomlString(const std::string& s) { return Json(s).dump(); }

void WriteToml(const Json& table, const std::string& prefix, std::string& out) {
  for (const auto& [k, v] : table.items()) {
    if (v.is_object() || v.is_null()) continue;
    std::string value;
    if (v.is_array()) {
      value = "[";
      bool first = true;
      for (const Json& e : v) {
        if (!first) value += ", ";
        first = false;
        value += e.is_string() ? TomlString(e.get<std::string>()) : e.dump();
      }
      value += "]";
    } else {
      value = v.is_string() ? TomlString(v.get<std::string>()) : v.dump();
    }
    absl::StrAppend(&out, k, " = ", value, "\n");
  }
  for (const auto& [k, v] : table.items()) {
    if (!v.is_object()) continue;
    std::string name = prefix.empty() ? k : absl::StrCat(prefix, ".", k);
    absl::StrAppend(&out, "\n[", name, "]\n");
    WriteToml(v, name, out);
  }
}

std::string TemplateNameOf(const Value& data) {
  if (!data.is_map() || data.map() == nullptr) return "";
  Value t = tmpl::MapGet(*data.map(), "Template");
  if (!t.is_map() || t.map() == nullptr) return "";
  Value n = tmpl::MapGet(*t.map(), "Name");
  return n.is_string() ? n.str() : "";
}

void AddHelmFunctions(tmpl::FuncMap& m) {
  m.Add("include", tmpl::Sig({PT::kString, PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          ASSIGN_OR_RETURN(std::string out, ctx.ExecuteTemplate(a[0].str(), a[1]));
          return Value::String(std::move(out));
        });
  m.Add("tpl", tmpl::Sig({PT::kString, PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          std::string name = TemplateNameOf(a[1]);
          if (name.empty()) name = "tpl";
          ASSIGN_OR_RETURN(std::string out,
                           ctx.ExecuteText(absl::StrCat(name, "#tpl"), a[0].str(), a[1]));
          return Value::String(absl::StrReplaceAll(out, {{"<no value>", ""}}));
        });
  m.Add("required", tmpl::Sig({PT::kString, PT::kAny}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          if (a[1].is_nilish() || (a[1].is_string() && a[1].str().empty())) {
            return absl::InvalidArgumentError(a[0].str());
          }
          return a[1];
        });
  auto to_yaml = [](bool must) {
    return [must](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      absl::StatusOr<std::string> s = ToYamlText(a[0], ctx);
      if (!s.ok()) {
        if (must) return s.status();
        return Value::String("");
      }
      return Value::String(std::move(*s));
    };
  };
  m.Add("toYaml", tmpl::Sig({PT::kAny}), to_yaml(false));
  m.Add("mustToYaml", tmpl::Sig({PT::kAny}), to_yaml(true));
  m.Add("fromYaml", tmpl::Sig({PT::kString}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          absl::StatusOr<Json> j = ParseYaml(a[0].str(), "fromYaml");
          if (j.ok() && j->is_null()) j = Json::object();
          if (j.ok() && !j->is_object()) {
            j = absl::InvalidArgumentError("cannot unmarshal into map[string]interface {}");
          }
          if (!j.ok()) {
            return Value::Map({{"Error", Value::String(std::string(j.status().message()))}});
          }
          return FromJsonValue(*j, ctx);
        });
  m.Add("fromYamlArray", tmpl::Sig({PT::kString}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          absl::StatusOr<Json> j = ParseYaml(a[0].str(), "fromYamlArray");
          if (j.ok() && j->is_null()) j = Json::array();
          if (j.ok() && !j->is_array()) {
            j = absl::InvalidArgumentError("cannot unmarshal into []interface {}");
          }
          if (!j.ok()) return Value::List({Value::String(std::string(j.status().message()))});
          return FromJsonValue(*j, ctx);
        });
  m.Add("fromJson", tmpl::Sig({PT::kString}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          Json j = Json::parse(a[0].str(), nullptr, false);
          if (j.is_discarded() || !(j.is_object() || j.is_null())) {
            return Value::Map({{"Error", Value::String("invalid JSON input")}});
          }
          if (j.is_null()) j = Json::object();
          return FromJsonValue(j, ctx);
        });
  m.Add("fromJsonArray", tmpl::Sig({PT::kString}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          Json j = Json::parse(a[0].str(), nullptr, false);
          if (j.is_discarded() || !(j.is_array() || j.is_null())) {
            return Value::List({Value::String("invalid JSON input")});
          }
          if (j.is_null()) j = Json::array();
          return FromJsonValue(j, ctx);
        });
  m.Add("toToml", tmpl::Sig({PT::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          absl::StatusOr<Json> j = tmpl::ValueToJson(a[0], ctx.limits().max_value_depth);
          if (!j.ok()) return Value::String(std::string(j.status().message()));
          IntegralFloatsToInts(*j);
          std::string out;
          if (j->is_object()) WriteToml(*j, "", out);
          return Value::String(std::move(out));
        });
  m.Add("lookup", tmpl::Sig({PT::kString, PT::kString, PT::kString, PT::kString}),
        [](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
          return Value::Map();  // `helm template` has no cluster to ask
        });
}

// ---------------------------------------------------------------------------
// Built-in objects

Value Str(std::string s) { return Value::String(std::move(s)); }

std::string JsonText(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

Value StringList(const Json& j, const char* key) {
  std::vector<Value> items;
  if (j.is_object() && j.contains(key) && j[key].is_array()) {
    for (const Json& e : j[key])
      items.push_back(Str(e.is_string() ? e.get<std::string>() : e.dump()));
  }
  return items.empty() ? Value::NilList(tmpl::ElemType::kString)
                       : Value::List(std::move(items), tmpl::ElemType::kString);
}

// .Chart: Helm's chart.Metadata with its Go field names.
absl::StatusOr<Value> ChartObject(const Chart& chart) {
  const Json& md = chart.metadata;
  std::map<std::string, Value> e;
  for (const auto& [go, yaml] :
       std::vector<std::pair<const char*, const char*>>{{"Name", "name"},
                                                        {"Home", "home"},
                                                        {"Version", "version"},
                                                        {"Description", "description"},
                                                        {"Icon", "icon"},
                                                        {"APIVersion", "apiVersion"},
                                                        {"Condition", "condition"},
                                                        {"Tags", "tags"},
                                                        {"AppVersion", "appVersion"},
                                                        {"KubeVersion", "kubeVersion"},
                                                        {"Type", "type"}}) {
    e[go] = Str(JsonText(md, yaml));
  }
  e["Sources"] = StringList(md, "sources");
  e["Keywords"] = StringList(md, "keywords");
  e["Deprecated"] = Value::Bool(md.value("deprecated", false));
  std::map<std::string, Value> annotations;
  if (md.contains("annotations") && md["annotations"].is_object()) {
    for (const auto& [k, v] : md["annotations"].items()) {
      annotations[k] = Str(v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  e["Annotations"] = annotations.empty()
                         ? Value::NilMap(tmpl::ElemType::kString)
                         : Value::Map(std::move(annotations), tmpl::ElemType::kString);
  std::vector<Value> maintainers;
  if (md.contains("maintainers") && md["maintainers"].is_array()) {
    for (const Json& m : md["maintainers"]) {
      maintainers.push_back(Value::Map({{"Name", Str(JsonText(m, "name"))},
                                        {"Email", Str(JsonText(m, "email"))},
                                        {"URL", Str(JsonText(m, "url"))}}));
    }
  }
  e["Maintainers"] = Value::List(std::move(maintainers));
  std::vector<Value> deps;
  if (md.contains("dependencies") && md["dependencies"].is_array()) {
    for (const Json& d : md["dependencies"]) {
      deps.push_back(Value::Map({{"Name", Str(JsonText(d, "name"))},
                                 {"Version", Str(JsonText(d, "version"))},
                                 {"Repository", Str(JsonText(d, "repository"))},
                                 {"Condition", Str(JsonText(d, "condition"))},
                                 {"Tags", StringList(d, "tags")},
                                 {"Enabled", Value::Bool(d.value("enabled", false))},
                                 {"Alias", Str(JsonText(d, "alias"))}}));
    }
  }
  e["Dependencies"] = Value::List(std::move(deps));
  return Value::Map(std::move(e));
}

// The built-in group/versions of .Capabilities.APIVersions, and the kinds of
// the common ones (Helm lists "group/version" and "group/version/Kind").
const std::map<std::string, std::vector<std::string>>& BuiltinApis() {
  static const auto* apis = new std::map<std::string, std::vector<std::string>>{
      {"v1",
       {"ConfigMap", "Endpoints", "Event", "LimitRange", "Namespace", "Node", "PersistentVolume",
        "PersistentVolumeClaim", "Pod", "PodTemplate", "ReplicationController", "ResourceQuota",
        "Secret", "Service", "ServiceAccount"}},
      {"apps/v1", {"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"}},
      {"batch/v1", {"CronJob", "Job"}},
      {"autoscaling/v1", {"HorizontalPodAutoscaler"}},
      {"autoscaling/v2", {"HorizontalPodAutoscaler"}},
      {"networking.k8s.io/v1", {"Ingress", "IngressClass", "NetworkPolicy"}},
      {"policy/v1", {"PodDisruptionBudget"}},
      {"rbac.authorization.k8s.io/v1",
       {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}},
      {"storage.k8s.io/v1", {"CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"}},
      {"apiextensions.k8s.io/v1", {"CustomResourceDefinition"}},
      {"admissionregistration.k8s.io/v1",
       {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}},
      {"apiregistration.k8s.io/v1", {"APIService"}},
      {"coordination.k8s.io/v1", {"Lease"}},
      {"discovery.k8s.io/v1", {"EndpointSlice"}},
      {"events.k8s.io/v1", {"Event"}},
      {"scheduling.k8s.io/v1", {"PriorityClass"}},
      {"node.k8s.io/v1", {"RuntimeClass"}},
      {"certificates.k8s.io/v1", {"CertificateSigningRequest"}},
      {"flowcontrol.apiserver.k8s.io/v1", {"FlowSchema", "PriorityLevelConfiguration"}},
      {"authentication.k8s.io/v1", {"TokenReview"}},
      {"authorization.k8s.io/v1", {"SubjectAccessReview"}},
  };
  return *apis;
}

Value CapabilitiesObject(const RenderOptions& options) {
  auto set = std::make_shared<std::set<std::string>>();
  for (const auto& [gv, kinds] : BuiltinApis()) {
    set->insert(gv);
    for (const std::string& k : kinds) set->insert(absl::StrCat(gv, "/", k));
  }
  for (const std::string& gv : options.extra_api_versions) set->insert(gv);
  tmpl::MethodTable api_methods;
  api_methods.methods["Has"] =
      tmpl::Function{tmpl::Sig({PT::kString}),
                     [set](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
                       return Value::Bool(set->count(a[0].str()) > 0);
                     }};
  std::vector<Value> api_list;
  for (const std::string& gv : *set) api_list.push_back(Str(gv));

  std::string version = options.kube_version;
  if (!absl::StartsWith(version, "v")) version = "v" + version;
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripPrefix(version, "v"), absl::MaxSplits('.', 2));
  std::string major = parts.size() > 0 ? parts[0] : "";
  std::string minor = parts.size() > 1 ? parts[1] : "";
  tmpl::MethodTable kube_methods;
  kube_methods.methods["String"] = tmpl::Function{
      tmpl::Sig({}), [version](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
        return Str(version);
      }};
  Value kube = tmpl::MapWithMethods({{"Version", Str(version)},
                                     {"Major", Str(major)},
                                     {"Minor", Str(minor)},
                                     {"GitVersion", Str(version)}},
                                    std::move(kube_methods));
  Value apis =
      tmpl::MapWithMethods({{"List", Value::List(std::move(api_list))}}, std::move(api_methods));
  Value helm = Value::Map({{"Version", Str("v3.16.0")},
                           {"GitCommit", Str("")},
                           {"GitTreeState", Str("clean")},
                           {"GoVersion", Str("go1.22")}});
  return Value::Map({{"KubeVersion", kube}, {"APIVersions", apis}, {"HelmVersion", helm}});
}

std::string Base64(absl::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

using FileMap = std::map<std::string, std::string>;

absl::StatusOr<Value> AsYamlMap(const FileMap& files, bool base64, CallContext& ctx) {
  if (files.empty()) return Str("");
  std::map<std::string, Value> m;
  for (const auto& [name, data] : files) {
    std::string base(name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1));
    m[base] = Str(base64 ? Base64(data) : data);
  }
  ASSIGN_OR_RETURN(std::string text, ToYamlText(Value::Map(std::move(m)), ctx));
  return Str(std::move(text));
}

// .Files: Helm's Files type (a map of name -> bytes with methods).
Value FilesObject(std::shared_ptr<const FileMap> files) {
  tmpl::MethodTable t;
  auto get = [files](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
    auto it = files->find(a[0].str());
    return Str(it == files->end() ? "" : it->second);
  };
  t.methods["Get"] = tmpl::Function{tmpl::Sig({PT::kString}), get};
  t.methods["GetBytes"] = tmpl::Function{tmpl::Sig({PT::kString}), get};
  t.methods["Glob"] =
      tmpl::Function{tmpl::Sig({PT::kString}),
                     [files](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
                       auto matched = std::make_shared<FileMap>();
                       for (const auto& [name, data] : *files) {
                         if (GlobMatch(a[0].str(), name)) matched->emplace(name, data);
                       }
                       return FilesObject(std::move(matched));
                     }};
  t.methods["Lines"] =
      tmpl::Function{tmpl::Sig({PT::kString}),
                     [files](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
                       auto it = files->find(a[0].str());
                       if (it == files->end()) return Value::List({}, tmpl::ElemType::kString);
                       absl::string_view s = it->second;
                       absl::ConsumeSuffix(&s, "\n");
                       std::vector<Value> lines;
                       for (absl::string_view l : absl::StrSplit(s, '\n'))
                         lines.push_back(Str(std::string(l)));
                       return Value::List(std::move(lines), tmpl::ElemType::kString);
                     }};
  t.methods["AsConfig"] = tmpl::Function{
      tmpl::Sig({}), [files](std::vector<Value>&, CallContext& ctx) -> absl::StatusOr<Value> {
        return AsYamlMap(*files, false, ctx);
      }};
  t.methods["AsSecrets"] = tmpl::Function{
      tmpl::Sig({}), [files](std::vector<Value>&, CallContext& ctx) -> absl::StatusOr<Value> {
        return AsYamlMap(*files, true, ctx);
      }};
  std::map<std::string, Value> entries;
  for (const auto& [name, data] : *files) entries[name] = Str(data);
  return tmpl::MapWithMethods(std::move(entries), std::move(t));
}

// ---------------------------------------------------------------------------
// Rendering

struct ChartScope {
  std::string path;  // "parent/charts/sub"
  Value data;        // top-level objects without Template
};

struct TemplateEntry {
  std::string name;  // "<path>/templates/x.yaml"
  const std::string* text;
  size_t scope;
};

absl::Status Collect(const Chart& chart, const Json& values, const std::string& path,
                     const RenderOptions& options, const Value& release, const Value& caps,
                     std::vector<ChartScope>& scopes, std::vector<TemplateEntry>& templates) {
  ASSIGN_OR_RETURN(Value chart_obj, ChartObject(chart));
  ASSIGN_OR_RETURN(Value values_obj, tmpl::ValueFromJson(values, JsonNumbers::kAllFloat64,
                                                         options.limits.max_value_depth));
  auto files = std::make_shared<FileMap>();
  for (const ChartFile& f : chart.files) files->emplace(f.name, f.data);
  Value data = Value::Map({{"Values", values_obj},
                           {"Release", release},
                           {"Chart", chart_obj},
                           {"Capabilities", caps},
                           {"Files", FilesObject(files)},
                           {"Subcharts", Value::Map()}});
  size_t scope = scopes.size();
  scopes.push_back(ChartScope{path, data});
  for (const ChartFile& t : chart.templates) {
    templates.push_back(TemplateEntry{absl::StrCat(path, "/", t.name), &t.data, scope});
  }
  for (const Chart& sub : chart.subcharts) {
    Json sub_values = values.contains(sub.name) ? values[sub.name] : Json::object();
    RETURN_IF_ERROR(Collect(sub, sub_values, absl::StrCat(path, "/charts/", sub.name), options,
                            release, caps, scopes, templates));
  }
  return absl::OkStatus();
}

bool IsRendered(const std::string& name) {
  absl::string_view base = name;
  if (size_t slash = base.rfind('/'); slash != absl::string_view::npos) {
    base = base.substr(slash + 1);
  }
  return !absl::StartsWith(base, "_") && base != "NOTES.txt";
}

int InstallRank(const std::string& kind) {
  static const std::vector<std::string> kOrder = {"PriorityClass",
                                                  "Namespace",
                                                  "NetworkPolicy",
                                                  "ResourceQuota",
                                                  "LimitRange",
                                                  "PodSecurityPolicy",
                                                  "PodDisruptionBudget",
                                                  "ServiceAccount",
                                                  "Secret",
                                                  "SecretList",
                                                  "ConfigMap",
                                                  "StorageClass",
                                                  "PersistentVolume",
                                                  "PersistentVolumeClaim",
                                                  "CustomResourceDefinition",
                                                  "ClusterRole",
                                                  "ClusterRoleList",
                                                  "ClusterRoleBinding",
                                                  "ClusterRoleBindingList",
                                                  "Role",
                                                  "RoleList",
                                                  "RoleBinding",
                                                  "RoleBindingList",
                                                  "Service",
                                                  "DaemonSet",
                                                  "Pod",
                                                  "ReplicationController",
                                                  "ReplicaSet",
                                                  "Deployment",
                                                  "HorizontalPodAutoscaler",
                                                  "StatefulSet",
                                                  "Job",
                                                  "CronJob",
                                                  "IngressClass",
                                                  "Ingress",
                                                  "APIService",
                                                  "MutatingWebhookConfiguration",
                                                  "ValidatingWebhookConfiguration"};
  auto it = std::find(kOrder.begin(), kOrder.end(), kind);
  return it == kOrder.end() ? static_cast<int>(kOrder.size())
                            : static_cast<int>(it - kOrder.begin());
}

// Helm's chartutil.ValidateAgainstSchema: the chart's values.schema.json
// against its values, then each enabled subchart's against its own scope.
// Appends "<chart>:\n- <violation>\n..." for each chart that fails.
absl::Status ValidateSchemas(const Chart& chart, const Json& values, const std::string& path,
                             std::string& report) {
  for (const ChartFile& f : chart.files) {
    if (f.name != "values.schema.json") continue;
    Json schema = Json::parse(f.data, nullptr, false);
    if (schema.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat(path, "/values.schema.json: not valid JSON"));
    }
    std::vector<std::string> violations = ValidateJsonSchema(schema, values);
    if (!violations.empty()) {
      absl::StrAppend(&report, chart.name, ":\n");
      for (const std::string& v : violations) absl::StrAppend(&report, "- ", v, "\n");
    }
  }
  for (const Chart& sub : chart.subcharts) {
    Json sub_values = values.contains(sub.name) && values[sub.name].is_object() ? values[sub.name]
                                                                                : Json::object();
    RETURN_IF_ERROR(
        ValidateSchemas(sub, sub_values, absl::StrCat(path, "/charts/", sub.name), report));
  }
  return absl::OkStatus();
}

// Helm's Chart.CRDObjects: the files under crds/ ending in .yaml, .yml or
// .json of the chart, then of each (enabled) subchart, unrendered.
absl::Status CollectCrds(const Chart& chart, const std::string& path, std::vector<Json>& out) {
  for (const ChartFile& f : chart.files) {
    if (!absl::StartsWith(f.name, "crds/") ||
        !(absl::EndsWith(f.name, ".yaml") || absl::EndsWith(f.name, ".yml") ||
          absl::EndsWith(f.name, ".json"))) {
      continue;
    }
    ASSIGN_OR_RETURN(std::vector<Json> docs,
                     ParseYamlDocuments(f.data, absl::StrCat(path, "/", f.name)));
    for (Json& d : docs) {
      if (d.is_null() || (d.is_object() && d.empty())) continue;
      out.push_back(std::move(d));
    }
  }
  for (const Chart& sub : chart.subcharts) {
    RETURN_IF_ERROR(CollectCrds(sub, absl::StrCat(path, "/charts/", sub.name), out));
  }
  return absl::OkStatus();
}

}  // namespace

Json CoalesceValues(const Chart& chart, const Json& user_values) {
  return CoalesceScoped(ProcessDependencies(chart, user_values), user_values);
}

tmpl::FuncMap HelmFunctions(const Clock* clock) {
  tmpl::SprigOptions sprig;
  sprig.clock = clock;
  sprig.exclude = {"env", "expandenv"};
  tmpl::FuncMap m = tmpl::SprigFunctions(sprig);
  AddHelmFunctions(m);
  return m;
}

absl::StatusOr<std::vector<RenderedTemplate>> RenderTemplates(const Chart& original,
                                                              const RenderOptions& options) {
  const Chart chart = ProcessDependencies(original, options.values);
  Json values = CoalesceScoped(chart, options.values);
  if (!options.skip_schema_validation) {
    std::string report;
    RETURN_IF_ERROR(ValidateSchemas(chart, values, chart.name, report));
    if (!report.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "values don't meet the specifications of the schema(s) in the following chart(s):\n",
          report));
    }
  }
  Value release = Value::Map({{"Name", Str(options.release_name)},
                              {"Namespace", Str(options.release_namespace)},
                              {"Service", Str("Helm")},
                              {"IsInstall", Value::Bool(true)},
                              {"IsUpgrade", Value::Bool(false)},
                              {"Revision", Value::Int(1)}});
  Value caps = CapabilitiesObject(options);
  std::vector<ChartScope> scopes;
  std::vector<TemplateEntry> templates;
  RETURN_IF_ERROR(Collect(chart, values, chart.name, options, release, caps, scopes, templates));

  tmpl::Options topts;
  topts.missing_key = tmpl::MissingKey::kZero;
  topts.limits = options.limits;
  tmpl::TemplateSet set(topts, HelmFunctions(options.clock));
  // Helm parses the deepest paths first, so a parent's `define` replaces a
  // subchart's of the same name (pkg/engine sortTemplates).
  std::vector<const TemplateEntry*> parse_order;
  for (const TemplateEntry& t : templates) parse_order.push_back(&t);
  auto depth = [](const std::string& s) { return std::count(s.begin(), s.end(), '/'); };
  std::stable_sort(parse_order.begin(), parse_order.end(),
                   [&](const TemplateEntry* a, const TemplateEntry* b) {
                     if (depth(a->name) != depth(b->name)) return depth(a->name) > depth(b->name);
                     return a->name > b->name;
                   });
  for (const TemplateEntry* t : parse_order) RETURN_IF_ERROR(set.Parse(t->name, *t->text));

  std::vector<const TemplateEntry*> run_order;
  for (const TemplateEntry& t : templates) {
    if (IsRendered(t.name)) run_order.push_back(&t);
  }
  std::sort(run_order.begin(), run_order.end(),
            [](const TemplateEntry* a, const TemplateEntry* b) { return a->name < b->name; });

  tmpl::ExecSession session;
  std::vector<RenderedTemplate> out;
  for (const TemplateEntry* t : run_order) {
    const ChartScope& scope = scopes[t->scope];
    std::map<std::string, Value> entries = scope.data.map()->entries;
    entries["Template"] = Value::Map(
        {{"Name", Str(t->name)}, {"BasePath", Str(absl::StrCat(scope.path, "/templates"))}});
    ASSIGN_OR_RETURN(std::string text,
                     set.ExecuteValue(t->name, Value::Map(std::move(entries)), &session));
    out.push_back(RenderedTemplate{t->name, absl::StrReplaceAll(text, {{"<no value>", ""}})});
  }
  return out;
}

absl::StatusOr<std::vector<Json>> RenderObjects(const Chart& chart, const RenderOptions& options) {
  ASSIGN_OR_RETURN(std::vector<RenderedTemplate> rendered, RenderTemplates(chart, options));
  std::vector<Json> crds;
  RETURN_IF_ERROR(CollectCrds(ProcessDependencies(chart, options.values), chart.name, crds));
  std::vector<Json> objects;
  for (const RenderedTemplate& t : rendered) {
    ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlDocuments(t.content, t.name));
    for (Json& d : docs) {
      if (d.is_null() || (d.is_object() && d.empty())) continue;
      objects.push_back(std::move(d));
    }
  }
  std::stable_sort(objects.begin(), objects.end(), [](const Json& a, const Json& b) {
    auto kind = [](const Json& j) {
      return j.is_object() && j.contains("kind") && j["kind"].is_string()
                 ? j["kind"].get<std::string>()
                 : std::string();
    };
    int ra = InstallRank(kind(a)), rb = InstallRank(kind(b));
    if (ra != rb) return ra < rb;
    if (ra == InstallRank("")) return kind(a) < kind(b);
    return false;
  });
  // Helm installs crds/ before the release's objects (Fleet's install action
  // leaves SkipCRDs unset).
  objects.insert(objects.begin(), std::make_move_iterator(crds.begin()),
                 std::make_move_iterator(crds.end()));
  return objects;
}

}  // namespace flotilla::common::helm
