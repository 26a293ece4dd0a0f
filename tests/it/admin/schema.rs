//! A small JSON Schema (2020-12) subset checker for the OpenAPI test: `$ref` to components,
//! `type` (one or several), `enum`, `properties`, `required`, `additionalProperties: false`
//! and `items`. Enough for the admin API's schemas; anything else in them is a test failure.

use serde_json::Value;

const KNOWN: [&str; 10] = [
    "$ref",
    "type",
    "enum",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "description",
];

/// Errors found validating `value` against `schema` (`doc` resolves `$ref`s), with JSON paths.
pub fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(obj) = schema.as_object() else {
        return vec![format!("{at}: schema is not an object")];
    };
    for key in obj.keys() {
        if !KNOWN.contains(&key.as_str()) {
            errors.push(format!(
                "{at}: the checker does not know schema keyword {key}"
            ));
        }
    }
    if let Some(Value::String(r)) = obj.get("$ref") {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        if target.is_null() {
            return vec![format!("{at}: unresolved $ref {r}")];
        }
        return check(doc, target, value, at);
    }
    if let Some(t) = obj.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            errors.push(format!("{at}: expected {types:?}, got {actual} ({value})"));
            return errors;
        }
    }
    if let Some(Value::Array(allowed)) = obj.get("enum") {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Value::Object(map) = value {
        let props = obj.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(required)) = obj.get("required") {
            for r in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    errors.push(format!("{at}: required property {r} is missing"));
                }
            }
        }
        for (k, v) in map {
            match props.and_then(|p| p.get(k)) {
                Some(s) => errors.extend(check(doc, s, v, &format!("{at}.{k}"))),
                None if obj.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{at}: property {k} is not documented"))
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, obj.get("items")) {
        for (i, v) in items.iter().enumerate() {
            errors.extend(check(doc, s, v, &format!("{at}[{i}]")));
        }
    }
    errors
}

#[test]
fn the_schema_checker_reports_what_does_not_match() {
    let doc = serde_json::json!({ "components": { "schemas": { "A": {
        "type": "object", "required": ["n"], "additionalProperties": false,
        "properties": { "n": { "type": "integer" }, "s": { "type": ["string", "null"], "enum": ["x", null] } } } } } });
    let schema = serde_json::json!({ "$ref": "#/components/schemas/A" });
    assert!(check(
        &doc,
        &schema,
        &serde_json::json!({ "n": 1, "s": null }),
        "$"
    )
    .is_empty());
    let errors = check(
        &doc,
        &schema,
        &serde_json::json!({ "s": "y", "extra": true }),
        "$",
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
}
