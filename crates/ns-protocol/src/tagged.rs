//! Internally tagged enums (`{"<tag>": "<variant>", …its fields}`, the
//! JSON the protocol's and the figures' enums have always had), read and
//! written by serde's externally tagged code (`{"<variant>": {…}}`) with
//! the tag moved in between, on a JSON value.
//!
//! Why: serde reads an internally tagged enum by buffering its input into
//! its private `Content` tree first and then reading every variant from
//! that, so each type inside gets a second deserializer (`Content`'s), on
//! top of the one JSON gives it. In the browser's wasm those were about
//! 100 KB of code. An enum opts in with `#[serde(remote = "Self")]` (the
//! derive then writes its externally tagged code as inherent functions)
//! and [`internally_tagged!`](crate::internally_tagged), which writes the
//! `Serialize` and `Deserialize` impls around them.

use serde_json::{Map, Value};

/// `{"<tag>": "<variant>", …fields}` → `{"<variant>": {…fields}}` (the
/// enums that opt in have no unit variants).
///
/// # Errors
/// When `value` is not an object with a string `tag`.
pub fn to_external(value: Value, tag: &str) -> Result<Value, String> {
    let Value::Object(mut fields) = value else {
        return Err(format!(
            "invalid type: {}, expected an object with a `{tag}` field",
            kind(&value)
        ));
    };
    let variant = match fields.shift_remove(tag) {
        Some(Value::String(v)) => v,
        Some(other) => {
            return Err(format!(
                "invalid type: {} for `{tag}`, expected a string",
                kind(&other)
            ));
        }
        None => return Err(format!("missing field `{tag}`")),
    };
    let mut outer = Map::with_capacity(1);
    outer.insert(variant, Value::Object(fields));
    Ok(Value::Object(outer))
}

/// `{"<variant>": {…fields}}` → `{"<tag>": "<variant>", …fields}`: the
/// tag first.
///
/// # Errors
/// When `value` is not that (a variant whose data is not an object cannot
/// be tagged inside).
pub fn to_internal(value: Value, tag: &str) -> Result<Value, String> {
    let (variant, fields) = match value {
        Value::Object(outer) if outer.len() == 1 => {
            let Some((variant, inner)) = outer.into_iter().next() else {
                unreachable!("one entry")
            };
            match inner {
                Value::Object(fields) => (variant, fields),
                other => {
                    return Err(format!(
                        "variant `{variant}` holds {}, which cannot carry a `{tag}` field",
                        kind(&other)
                    ));
                }
            }
        }
        other => return Err(format!("not an enum variant: {}", kind(&other))),
    };
    let mut map = Map::with_capacity(fields.len() + 1);
    map.insert(tag.to_string(), Value::String(variant));
    map.extend(fields);
    Ok(Value::Object(map))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `Serialize` and `Deserialize` for an enum with `#[serde(remote =
/// "Self")]` and no unit variants, in the internally tagged JSON form, tag
/// `$tag`.
#[macro_export]
macro_rules! internally_tagged {
    ($ty:ty, $tag:literal) => {
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(
                &self,
                s: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                // Not generic: compiled once, whatever `S` is.
                #[inline(never)]
                fn internal(
                    v: &$ty,
                ) -> ::core::result::Result<::serde_json::Value, ::std::string::String> {
                    let external = <$ty>::serialize(v, ::serde_json::value::Serializer)
                        .map_err(|e| e.to_string())?;
                    $crate::tagged::to_internal(external, $tag)
                }
                internal(self)
                    .map_err(<S::Error as ::serde::ser::Error>::custom)?
                    .serialize(s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::core::result::Result<Self, D::Error> {
                // Not generic: compiled once, whatever `D` is.
                #[inline(never)]
                fn read(
                    value: ::serde_json::Value,
                ) -> ::core::result::Result<$ty, ::std::string::String> {
                    let external = $crate::tagged::to_external(value, $tag)?;
                    <$ty>::deserialize(external).map_err(|e| e.to_string())
                }
                let value = <::serde_json::Value as ::serde::Deserialize>::deserialize(d)?;
                read(value).map_err(<D::Error as ::serde::de::Error>::custom)
            }
        }
    };
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let internal = json!({"kind": "url", "url": "https://x", "size_bytes": 3});
        let external = to_external(internal.clone(), "kind").unwrap();
        assert_eq!(
            external,
            json!({"url": {"url": "https://x", "size_bytes": 3}})
        );
        let back = to_internal(external, "kind").unwrap();
        assert_eq!(back, internal);
        // The tag first, as serde's internally tagged code writes it.
        assert_eq!(back.as_object().unwrap().keys().next().unwrap(), "kind");
        // A struct variant whose fields are all absent stays an object.
        assert_eq!(
            to_external(json!({"type": "x"}), "type").unwrap(),
            json!({"x": {}})
        );
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            to_external(json!([1]), "type").unwrap_err(),
            "invalid type: an array, expected an object with a `type` field"
        );
        assert_eq!(
            to_external(json!({"a": 1}), "type").unwrap_err(),
            "missing field `type`"
        );
        assert_eq!(
            to_external(json!({"type": 1}), "type").unwrap_err(),
            "invalid type: a number for `type`, expected a string"
        );
        assert!(
            to_internal(json!({"v": [1]}), "type")
                .unwrap_err()
                .contains("cannot carry a `type` field")
        );
        assert!(to_internal(json!(1), "type").is_err());
        // A unit variant (serde writes it as a string) has no place for a tag.
        assert!(to_internal(json!("ready"), "type").is_err());
    }
}
