//! Decoded values of any type, and their JSON form.

use serde_json::{Map, Value as Json};

/// One decoded element (or a nested array of them).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    String(String),
    /// An object reference, resolved to a path when the target is known.
    Ref(Option<String>),
    List(Vec<Value>),
    Compound(Vec<(String, Value)>),
    Bytes(Vec<u8>),
}

impl Value {
    /// The JSON form used by `inspect --json` and `cat --json`: non-finite
    /// floats become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, and
    /// references `{"ref": "/path"}`.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null | Value::Ref(None) => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::UInt(u) => Json::from(*u),
            Value::Float(f) => float_json(*f),
            Value::String(s) => Json::String(s.clone()),
            Value::Ref(Some(path)) => {
                let mut map = Map::new();
                map.insert("ref".into(), Json::String(path.clone()));
                Json::Object(map)
            }
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Compound(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
            Value::Bytes(bytes) => Json::String(bytes.iter().map(|b| format!("{b:02x}")).collect()),
        }
    }

    /// The value as a float, for numbers.
    pub fn as_f64(&self) -> Option<f64> {
        #[expect(
            clippy::cast_precision_loss,
            reason = "values beyond 2^53 lose precision, as in numpy"
        )]
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::UInt(u) => Some(*u as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A float as JSON, non-finite values as strings.
pub fn float_json(f: f64) -> Json {
    if f.is_nan() {
        Json::String("NaN".into())
    } else if f == f64::INFINITY {
        Json::String("Infinity".into())
    } else if f == f64::NEG_INFINITY {
        Json::String("-Infinity".into())
    } else {
        serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

/// IEEE 754 half precision (as its bits) to single precision.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: renormalize.
            let mut e: i32 = -14;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            let f = f & 0x3ff;
            #[expect(clippy::cast_sign_loss, reason = "e + 127 is positive here")]
            let biased = (e + 127) as u32;
            sign | (biased << 23) | (f << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Most lists [`nest`] builds beyond one per value and dimension: a shape
/// read from a file such as `[2^40, 0]` holds no values but names 2^40
/// empty lists.
pub const MAX_EMPTY_LISTS: usize = 1 << 16;

/// `dims` (from a file) as `usize`s, `None` if one does not fit.
pub fn dims_usize(dims: &[u64]) -> Option<Vec<usize>> {
    dims.iter().map(|d| usize::try_from(*d).ok()).collect()
}

/// Whether nesting `len` values as `dims` builds a bounded number of lists
/// (see [`MAX_EMPTY_LISTS`]).
fn nest_fits(len: usize, dims: &[usize]) -> bool {
    let mut lists = 0usize;
    let mut prefix = 1usize;
    for d in dims.iter().take(dims.len().saturating_sub(1)) {
        let Some(p) = prefix.checked_mul(*d) else {
            return false;
        };
        prefix = p;
        let Some(l) = lists.checked_add(prefix) else {
            return false;
        };
        lists = l;
    }
    lists
        <= len
            .saturating_mul(dims.len())
            .saturating_add(MAX_EMPTY_LISTS)
}

/// Nests a flat row-major list into lists following `dims` (no dims: the
/// single value itself). A shape that would build more lists than the
/// values justify (see [`MAX_EMPTY_LISTS`]) leaves the list flat.
pub fn nest(flat: Vec<Value>, dims: &[usize]) -> Value {
    if !nest_fits(flat.len(), dims) {
        return Value::List(flat);
    }
    nest_unchecked(flat, dims)
}

fn nest_unchecked(flat: Vec<Value>, dims: &[usize]) -> Value {
    match dims {
        [] => flat.into_iter().next().unwrap_or(Value::Null),
        [_] => Value::List(flat),
        [_, rest @ ..] => {
            let inner: usize = rest.iter().product();
            if inner == 0 {
                return Value::List((0..dims[0]).map(|_| Value::List(Vec::new())).collect());
            }
            let mut out = Vec::with_capacity(dims[0]);
            let mut it = flat.into_iter();
            for _ in 0..dims[0] {
                let chunk: Vec<Value> = it.by_ref().take(inner).collect();
                out.push(nest_unchecked(chunk, rest));
            }
            Value::List(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
    }

    #[test]
    fn non_finite_floats_as_strings() {
        assert_eq!(float_json(f64::NAN), Json::String("NaN".into()));
        assert_eq!(
            float_json(f64::NEG_INFINITY),
            Json::String("-Infinity".into())
        );
    }

    #[test]
    fn nesting() {
        let flat: Vec<Value> = (0..6).map(Value::Int).collect();
        let nested = nest(flat, &[2, 3]);
        assert_eq!(nested.to_json().to_string(), "[[0,1,2],[3,4,5]]");
        // A zero inner dimension: a few empty lists are fine...
        assert_eq!(nest(Vec::new(), &[2, 0]).to_json().to_string(), "[[],[]]");
    }

    #[test]
    fn nest_bounds_empty_lists() {
        // ...2^40 of them (a shape from a hostile header) are not built.
        let huge = 1usize << 40;
        assert_eq!(nest(Vec::new(), &[huge, 0]), Value::List(Vec::new()));
        assert_eq!(nest(Vec::new(), &[huge, huge, 0]), Value::List(Vec::new()));
        let flat: Vec<Value> = (0..3).map(Value::Int).collect();
        assert_eq!(nest(flat.clone(), &[huge, 1]), Value::List(flat));
    }
}
