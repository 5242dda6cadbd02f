//! Canonical JSON: keys sorted, compact, no NaN or infinity; so equal
//! figures have equal bytes and equal sha1.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{Error, Result};

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            ns_sort::sort_by(&mut entries, |a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The canonical JSON bytes of `value`. It must read back equal to itself:
/// a NaN or an infinity (which JSON cannot hold, and serde would write as
/// `null`) is an error, never a silently changed figure.
///
/// # Errors
/// [`Error::NotCanonical`] when the value does not survive JSON.
pub fn canonical_json<T: Serialize + DeserializeOwned + PartialEq>(value: &T) -> Result<Vec<u8>> {
    let v = serde_json::to_value(value).map_err(|e| Error::NotCanonical(e.to_string()))?;
    let text = serde_json::to_string(&sorted(v)).map_err(|e| Error::NotCanonical(e.to_string()))?;
    let back: T = serde_json::from_str(&text).map_err(|e| {
        Error::NotCanonical(format!(
            "it does not read back ({e}); a NaN or infinite number where a number is required?"
        ))
    })?;
    if &back != value {
        return Err(Error::NotCanonical(
            "it reads back different (NaN or infinite numbers are not allowed)".into(),
        ));
    }
    Ok(text.into_bytes())
}

/// The sha1 of canonical JSON bytes, as the store names them.
pub fn sha1_of(bytes: &[u8]) -> ns_store_uri::Sha1Hash {
    ns_store_uri::Sha1Hash::of(bytes)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        z: f64,
        a: Vec<f64>,
        m: std::collections::BTreeMap<String, u32>,
    }

    #[test]
    fn sorted_compact_and_stable() {
        let t = T {
            z: 0.1,
            a: vec![1.0, 2.5],
            m: [("b".to_string(), 1), ("a".to_string(), 2)].into(),
        };
        let bytes = canonical_json(&t).expect("canonical");
        assert_eq!(
            String::from_utf8(bytes.clone()).expect("utf8"),
            r#"{"a":[1.0,2.5],"m":{"a":2,"b":1},"z":0.1}"#
        );
        assert_eq!(
            sha1_of(&bytes),
            sha1_of(&canonical_json(&t).expect("again"))
        );
    }

    #[test]
    fn nan_is_refused() {
        let t = T {
            z: f64::NAN,
            a: vec![],
            m: Default::default(),
        };
        let e = canonical_json(&t).expect_err("NaN");
        assert!(e.to_string().contains("NaN"), "{e}");
        let t = T {
            z: 1.0,
            a: vec![f64::INFINITY],
            m: Default::default(),
        };
        assert!(canonical_json(&t).is_err());
    }
}
