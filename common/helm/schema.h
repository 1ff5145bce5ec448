// JSON Schema validation of chart values, as Helm does for a chart's
// values.schema.json (pkg/chartutil/jsonschema.go, through
// xeipuuv/gojsonschema). A draft-07 subset: type (a name or a list;
// "integer" takes whole numbers), properties, required,
// additionalProperties (bool or schema), items (one schema), enum, const,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum (draft-06+ numbers),
// minLength, maxLength, minItems, maxItems, pattern (RE2, unanchored),
// allOf, anyOf, oneOf, not, and $ref to "#", "#/definitions/..." and
// "#/$defs/...". Other keywords are ignored.
//
// Thread-safety: stateless.
#pragma once

#include <string>
#include <vector>

#include "common/yaml.h"

namespace flotilla::common::helm {

// Schemas nest (and $ref recurses) at most this deep; deeper is reported as
// a violation rather than followed.
inline constexpr int kMaxSchemaDepth = 64;

// Every violation of `schema` by `value`, as gojsonschema words them:
// "<path>: <message>" where path is "(root)" or the dotted path
// ("image.tag", "list.0"), for example
// "replicaCount: Invalid type. Expected: integer, given: string" or
// "(root): image is required". Empty when `value` is valid.
std::vector<std::string> ValidateJsonSchema(const Json& schema, const Json& value);

}  // namespace flotilla::common::helm
