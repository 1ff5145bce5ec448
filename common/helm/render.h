// Rendering a loaded chart as `helm template` does (pkg/engine): values
// coalesced from the chart's defaults, the user's values and subchart scopes;
// every template of the chart and its subcharts parsed into one set (so
// `define`s are shared, the parent's winning); each non-partial template
// executed with .Values .Release .Chart .Capabilities .Template .Files;
// missingkey=zero and "<no value>" removed from the output, as in Helm.
//
// Functions: Sprig without env/expandenv, plus Helm's include, tpl, required,
// toYaml, mustToYaml, fromYaml, fromYamlArray, toJson, fromJson,
// fromJsonArray, toToml, fail and lookup (always an empty map, as for
// `helm template`). docs/helm-compat.md lists what is not done yet.
//
// Thread-safety: the functions are stateless; RenderChart may run on many
// threads at once over the same Chart.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/helm/chart.h"
#include "common/template/funcs.h"
#include "common/template/options.h"
#include "common/yaml.h"

namespace flotilla::common::helm {

struct RenderOptions {
  std::string release_name;
  std::string release_namespace = "default";
  // User values (Fleet's helm.values after its own merging), laid over the
  // chart's values.yaml.
  Json values = Json::object();
  // .Capabilities.KubeVersion. Fleet's `fleet test` uses v1.25.0; an agent
  // sees its cluster's version.
  std::string kube_version = "v1.30.0";
  // Group/versions added to .Capabilities.APIVersions beyond the built-ins.
  std::vector<std::string> extra_api_versions;
  tmpl::Limits limits;
  // For Sprig's now/date. Null: the system clock.
  const Clock* clock = nullptr;
  // Skip checking values against values.schema.json (Fleet's
  // helm.skipSchemaValidation, `helm template --skip-schema-validation`).
  bool skip_schema_validation = false;
};

// Helm's chartutil.ProcessDependencies (aliases, tags and conditions drop or
// rename subcharts, import-values) then CoalesceValues + subchart scoping:
// chart defaults under the user's values (maps merge, a user null deletes a
// key), each enabled subchart's values under the key of its name or alias
// (its defaults under what the parent gives), and `global` copied from the
// parent into every subchart.
Json CoalesceValues(const Chart& chart, const Json& user_values);

struct RenderedTemplate {
  std::string name;     // "<chart>/templates/<file>", "<chart>/charts/<sub>/templates/<file>"
  std::string content;  // the executed text, "<no value>" removed
};

// Executes every template that is not a partial (`_*`) or NOTES.txt, in name order, after
// checking each chart's values.schema.json (schema.h) unless options.skip_schema_validation.
// Errors: InvalidArgument "values don't meet the specifications of the schema(s) ..." listing
// each failing chart's violations, or naming a values.schema.json that is not JSON;
// InvalidArgument with Go's template message naming the template, line and column (a `required`
// or `fail` message included); ResourceExhausted when a limit stopped it (for example an
// `include` that recurses without end: "exceeded maximum template depth").
absl::StatusOr<std::vector<RenderedTemplate>> RenderTemplates(const Chart& chart,
                                                              const RenderOptions& options);

// RenderTemplates, then each output split into YAML documents; empty
// documents are dropped. First come the crds/ files (.yaml, .yml, .json) of
// the chart and its enabled subcharts, unrendered, as Helm installs them;
// then the objects in Helm's install order (by kind: Namespace, ...,
// CustomResourceDefinition, ..., then unknown kinds), stable within a kind.
// Errors name the template or crds/ file whose output is not YAML.
absl::StatusOr<std::vector<Json>> RenderObjects(const Chart& chart, const RenderOptions& options);

// Sprig (minus env, expandenv) and Helm's own functions. `clock` may be null.
tmpl::FuncMap HelmFunctions(const Clock* clock);

}  // namespace flotilla::common::helm
