//! Hand-written schema pieces for fields whose Rust type does not say what the CRD should.
//!
//! Used through `#[schemars(schema_with = "...")]`. A `default` that must reach the CRD is
//! written as [`KEEP_DEFAULT`]: the CRD normaliser drops every other `default` (schemars adds one
//! for each `#[serde(default)]` field, which would make the API server fill in empty values).
//! Required properties are marked with [`REQUIRED`] for the same reason.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Extension key that survives normalisation as `default`.
pub(crate) const KEEP_DEFAULT: &str = "x-cert-manager-rs-default";

/// Extension key marking a property the parent object lists as `required`. (schemars treats
/// every `#[serde(default)]` field as optional; Go decodes missing fields as zero values, so
/// the Rust types default them, but the CRD must still require them.)
pub(crate) const REQUIRED: &str = "x-cert-manager-rs-required";

/// Go `int` fields: `type: integer` without a format.
pub(crate) fn integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// Go `[]byte` fields: base64 in JSON.
pub(crate) fn bytes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "byte" })
}

/// Arbitrary JSON (apiextensions `JSON`), kept as is by the API server.
pub(crate) fn any_json(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-preserve-unknown-fields": true })
}

/// `corev1.ResourceList`: resource name to quantity.
pub(crate) fn resource_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": quantity(),
    })
}

/// A `resource.Quantity`: integer or string, as the API server's own types declare it.
pub(crate) fn quantity() -> serde_json::Value {
    serde_json::json!({
        "anyOf": [{ "type": "integer" }, { "type": "string" }],
        "pattern": r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$",
        "x-kubernetes-int-or-string": true,
    })
}

/// `imagePullSecrets`: a map-list keyed on `name`, as in a Pod spec.
pub(crate) fn image_pull_secrets(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "description": "A reference to a Secret in the same namespace.",
            "type": "object",
            "properties": {
                "name": {
                    "description": "Name of the Secret.",
                    "type": "string",
                    "x-cert-manager-rs-default": "",
                },
            },
            "x-kubernetes-map-type": "atomic",
        },
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-list-type": "map",
    })
}
