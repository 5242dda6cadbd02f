//! LINDI's encodings of values, decoded to the object model's [`Value`]s
//! and [`Data`].
//!
//! - Attributes are JSON: numbers, booleans, strings, nested lists;
//!   non-finite floats are the strings `"NaN"`, `"Infinity"`,
//!   `"-Infinity"`; an object reference is `{"_REFERENCE": {"path": ...}}`.
//! - Object (`|O`) dataset elements, through the JSON codec: strings,
//!   references as above, compound elements as lists of field values whose
//!   types the `_COMPOUND_DTYPE` attribute gives.
//! - Everything else is raw numpy bytes in chunks.

use ns_model::Value;
use ns_zarr::elements::{non_finite, number};
use serde_json::Value as Json;

pub(crate) use ns_zarr::elements::{FieldType, ObjectKind};

/// An attribute value.
pub(crate) fn attr_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number(n),
        Json::String(s) => match non_finite(s) {
            Some(f) => Value::Float(f),
            None => Value::String(s.clone()),
        },
        Json::Array(items) => Value::List(items.iter().map(attr_value).collect()),
        Json::Object(map) => match reference(json) {
            Some(r) => r,
            None => Value::Compound(
                map.iter()
                    .map(|(k, v)| (k.clone(), attr_value(v)))
                    .collect(),
            ),
        },
    }
}

/// `{"_REFERENCE": {"path": "/x", ...}}` as a reference to its path.
pub(crate) fn reference(json: &Json) -> Option<Value> {
    let target = json.get("_REFERENCE")?;
    let path = target.get("path").and_then(Json::as_str);
    Some(Value::Ref(path.map(|p| {
        if p.starts_with('/') {
            p.to_string()
        } else {
            format!("/{p}")
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attributes() {
        assert_eq!(attr_value(&json!(3)), Value::Int(3));
        assert_eq!(attr_value(&json!(u64::MAX)), Value::UInt(u64::MAX));
        assert_eq!(attr_value(&json!(0.5)), Value::Float(0.5));
        assert!(matches!(attr_value(&json!("NaN")), Value::Float(f) if f.is_nan()));
        assert_eq!(
            attr_value(&json!("-Infinity")),
            Value::Float(f64::NEG_INFINITY)
        );
        assert_eq!(attr_value(&json!("text")), Value::String("text".into()));
        assert_eq!(
            attr_value(&json!({"_REFERENCE": {"path": "/a/b", "object_id": null}})),
            Value::Ref(Some("/a/b".into()))
        );
        assert_eq!(
            attr_value(&json!([[1, 2], [3, 4]])).to_json(),
            json!([[1, 2], [3, 4]])
        );
    }
}
