//! Zarr elements decoded to the object model's [`Value`]s and [`Data`]:
//! raw numpy bytes of numeric and fixed-size string chunks, fill values,
//! and the JSON elements of object (`|O`) arrays (strings, references,
//! compound elements as lists of field values).
//!
//! How a reference is spelled differs between writers (LINDI:
//! `{"_REFERENCE": {"path"}}`; hdmf-zarr: `{"source": ".", "path"}`):
//! the caller passes its [`RefFn`].

use base64::Engine;
use ns_model::{Data, Dtype, Value};
use serde_json::Value as Json;

use crate::meta::ElemType;

/// A JSON number as the narrowest fitting value.
pub fn number(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Int(i)
    } else if let Some(u) = n.as_u64() {
        Value::UInt(u)
    } else {
        n.as_f64().map_or(Value::Null, Value::Float)
    }
}

/// `"NaN"`, `"Infinity"`, `"-Infinity"` (how non-finite floats are
/// spelled in JSON attributes) as floats.
pub fn non_finite(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Recognizes a reference among JSON elements: the writer's spelling.
pub type RefFn = fn(&Json) -> Option<Value>;

/// The type of one field of a compound (`_COMPOUND_DTYPE`), as far as
/// decoding its JSON needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Int,
    Float,
    Bool,
    String,
    Reference,
    Other,
}

impl FieldType {
    /// From numpy's name of the field type (`int32`, `float64`, `|S10`,
    /// `<REFERENCE>`, ...).
    pub fn parse(name: &str) -> Self {
        let name = name.trim_start_matches(['<', '>', '|', '=']);
        if name.starts_with("REFERENCE") || name == "object" {
            FieldType::Reference
        } else if name.starts_with("int")
            || name.starts_with("uint")
            || name.starts_with(['i', 'u'])
        {
            FieldType::Int
        } else if name.starts_with("float") || name.starts_with('f') {
            FieldType::Float
        } else if name.starts_with("bool") || name == "b1" {
            FieldType::Bool
        } else if name.starts_with(['S', 'U'])
            || name.starts_with("str")
            || name.starts_with("bytes")
        {
            FieldType::String
        } else {
            FieldType::Other
        }
    }

    fn value(&self, json: &Json, reference: RefFn) -> Value {
        match (self, json) {
            (FieldType::Float, Json::String(s)) => {
                non_finite(s).map_or_else(|| Value::String(s.clone()), Value::Float)
            }
            (FieldType::Float, Json::Number(n)) => n.as_f64().map_or(Value::Null, Value::Float),
            (FieldType::Bool, Json::Number(n)) => Value::Bool(n.as_f64().is_some_and(|x| x != 0.0)),
            (FieldType::Reference, _) => reference(json).unwrap_or(Value::Ref(None)),
            _ => element_value(json, reference),
        }
    }
}

/// How the elements of an object (`|O`) array read.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectKind {
    Strings,
    References,
    Compound(Vec<(String, FieldType)>),
}

/// One element of an object array.
pub fn object_value(json: &Json, kind: &ObjectKind, reference: RefFn) -> Value {
    match kind {
        ObjectKind::Compound(fields) => match json {
            Json::Array(items) => Value::Compound(
                fields
                    .iter()
                    .zip(items.iter().chain(std::iter::repeat(&Json::Null)))
                    .map(|((name, ty), v)| (name.clone(), ty.value(v, reference)))
                    .collect(),
            ),
            other => element_value(other, reference),
        },
        _ => element_value(json, reference),
    }
}

/// A JSON element as stored: strings stay strings.
pub fn element_value(json: &Json, reference: RefFn) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => number(n),
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            Value::List(items.iter().map(|v| element_value(v, reference)).collect())
        }
        Json::Object(map) => reference(json).unwrap_or_else(|| {
            Value::Compound(
                map.iter()
                    .map(|(k, v)| (k.clone(), element_value(v, reference)))
                    .collect(),
            )
        }),
    }
}

/// The bytes of one element holding the array's fill value (zeros when
/// there is none).
pub fn fill_bytes(elem: &ElemType, fill: &Json) -> Vec<u8> {
    let size = elem.itemsize();
    let mut out = match (elem, fill) {
        (_, Json::Null) => Vec::new(),
        (ElemType::Bool, v) => vec![u8::from(
            v.as_bool()
                .unwrap_or_else(|| v.as_f64().is_some_and(|x| x != 0.0)),
        )],
        (ElemType::Int { size, .. }, v) => {
            let n: i128 = v
                .as_i64()
                .map(i128::from)
                .or_else(|| v.as_u64().map(i128::from))
                .or_else(|| {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "a float fill value for an integer type: cast as numpy does (saturating)"
                    )]
                    v.as_f64().map(|f| f as i128)
                })
                .unwrap_or(0);
            n.to_le_bytes()[..usize::from(*size)].to_vec()
        }
        (ElemType::Float { size, .. }, v) => {
            let f = v
                .as_f64()
                .or_else(|| v.as_str().and_then(non_finite))
                .unwrap_or(0.0);
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a fill value stored as float32/float16, rounded as numpy does"
            )]
            let single = f as f32;
            match size {
                2 => f32_to_f16(single).to_le_bytes().to_vec(),
                4 => single.to_le_bytes().to_vec(),
                _ => f.to_le_bytes().to_vec(),
            }
        }
        // zarr writes a bytes fill value in base64.
        (ElemType::Bytes(_), Json::String(s)) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .unwrap_or_else(|_| s.as_bytes().to_vec()),
        (ElemType::Unicode { .. }, Json::String(s)) => {
            s.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect()
        }
        _ => Vec::new(),
    };
    if elem.is_big_endian() && matches!(elem, ElemType::Int { .. } | ElemType::Float { .. }) {
        out.reverse();
    } else if elem.is_big_endian() {
        for c in out.chunks_exact_mut(4) {
            c.reverse();
        }
    }
    out.resize(size, 0);
    out
}

/// Raw element bytes (row-major, `count` elements) as typed data.
pub fn to_data(elem: &ElemType, raw: &[u8]) -> Data {
    macro_rules! ints {
        ($t:ty, $n:expr, $big:expr) => {
            raw.chunks_exact($n)
                .map(|c| {
                    let mut b = [0u8; $n];
                    b.copy_from_slice(c);
                    if $big {
                        <$t>::from_be_bytes(b)
                    } else {
                        <$t>::from_le_bytes(b)
                    }
                })
                .collect()
        };
    }
    match elem {
        ElemType::Bool => Data::Values(raw.iter().map(|b| Value::Bool(*b != 0)).collect()),
        ElemType::Int {
            size: 1,
            signed: true,
            ..
        } => Data::Int8(raw.iter().map(|b| i8::from_le_bytes([*b])).collect()),
        ElemType::Int {
            size: 1,
            signed: false,
            ..
        } => Data::UInt8(raw.to_vec()),
        ElemType::Int {
            size: 2,
            signed,
            big,
        } => {
            if *signed {
                Data::Int16(ints!(i16, 2, *big))
            } else {
                Data::UInt16(ints!(u16, 2, *big))
            }
        }
        ElemType::Int {
            size: 4,
            signed,
            big,
        } => {
            if *signed {
                Data::Int32(ints!(i32, 4, *big))
            } else {
                Data::UInt32(ints!(u32, 4, *big))
            }
        }
        ElemType::Int { signed, big, .. } => {
            if *signed {
                Data::Int64(ints!(i64, 8, *big))
            } else {
                Data::UInt64(ints!(u64, 8, *big))
            }
        }
        ElemType::Float { size: 2, big } => {
            let halves: Vec<u16> = ints!(u16, 2, *big);
            Data::Values(
                halves
                    .into_iter()
                    .map(|h| Value::Float(f64::from(ns_model::f16_to_f32(h))))
                    .collect(),
            )
        }
        ElemType::Float { size: 4, big } => Data::Float32(ints!(f32, 4, *big)),
        ElemType::Float { big, .. } => Data::Float64(ints!(f64, 8, *big)),
        ElemType::Bytes(n) => Data::Values(
            raw.chunks_exact((*n).max(1))
                .map(|c| {
                    let end = c.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
                    Value::String(String::from_utf8_lossy(&c[..end]).into_owned())
                })
                .collect(),
        ),
        ElemType::Unicode { chars, big } => Data::Values(
            raw.chunks_exact(chars.saturating_mul(4).max(4))
                .map(|c| {
                    let mut text: String = c
                        .chunks_exact(4)
                        .map(|b| {
                            let b = [b[0], b[1], b[2], b[3]];
                            let code = if *big {
                                u32::from_be_bytes(b)
                            } else {
                                u32::from_le_bytes(b)
                            };
                            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
                        })
                        .collect();
                    let kept = text.trim_end_matches('\0').len();
                    text.truncate(kept);
                    Value::String(text)
                })
                .collect(),
        ),
        ElemType::Object | ElemType::Unsupported(_) => Data::Values(Vec::new()),
    }
}

/// IEEE 754 single to half precision (round to nearest even; subnormal
/// halves flush to zero). Only fill values need it.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "bit fields of IEEE 754 numbers, each within its width"
)]
fn f32_to_f16(f: f32) -> u16 {
    let bits = f.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let frac = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if frac != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        return sign;
    }
    let mut half = (sign as u32) | ((e as u32) << 10) | (frac >> 13);
    let rest = frac & 0x1fff;
    if rest > 0x1000 || (rest == 0x1000 && half & 1 == 1) {
        half += 1;
    }
    half as u16
}

/// The dtype and its description for an element type.
pub fn dtype_of(elem: &ElemType, object: Option<&ObjectKind>) -> (Dtype, String) {
    let plain = |d: Dtype| (d, d.name().to_string());
    match elem {
        ElemType::Bool => plain(Dtype::Bool),
        ElemType::Int { size, signed, big } => {
            let d = Dtype::int(*size, *signed).unwrap_or(Dtype::Opaque);
            endian(d, *big && *size > 1)
        }
        ElemType::Float { size, big } => {
            let d = Dtype::float(*size).unwrap_or(Dtype::Opaque);
            endian(d, *big)
        }
        ElemType::Bytes(n) => (Dtype::String, format!("string (fixed {n} bytes)")),
        ElemType::Unicode { chars, .. } => (
            Dtype::String,
            format!("string (fixed {chars} chars, utf-32)"),
        ),
        ElemType::Object => match object {
            Some(ObjectKind::References) => (Dtype::Reference, "reference (object)".into()),
            Some(ObjectKind::Compound(fields)) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(name, ty)| format!("{name}: {}", field_name(ty)))
                    .collect();
                (
                    Dtype::Compound,
                    format!("compound {{{}}}", inner.join(", ")),
                )
            }
            _ => (Dtype::String, "string (vlen, utf-8)".into()),
        },
        ElemType::Unsupported(t) => (Dtype::Opaque, format!("opaque ({t})")),
    }
}

fn endian(d: Dtype, big: bool) -> (Dtype, String) {
    if big {
        (d, format!("{d} (big-endian)"))
    } else {
        (d, d.name().to_string())
    }
}

fn field_name(ty: &FieldType) -> &'static str {
    match ty {
        FieldType::Int => "int",
        FieldType::Float => "float",
        FieldType::Bool => "bool",
        FieldType::String => "string",
        FieldType::Reference => "reference",
        FieldType::Other => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// LINDI's spelling, for the tests.
    fn lindi_ref(json: &Json) -> Option<Value> {
        let path = json.get("_REFERENCE")?.get("path")?.as_str()?;
        Some(Value::Ref(Some(path.to_string())))
    }

    #[test]
    fn compound_elements() {
        let kind = ObjectKind::Compound(vec![
            ("a".into(), FieldType::parse("int32")),
            ("b".into(), FieldType::parse("float64")),
            ("r".into(), FieldType::parse("<REFERENCE>")),
            ("s".into(), FieldType::parse("|S10")),
        ]);
        let v = object_value(
            &json!([1, "NaN", {"_REFERENCE": {"path": "/x"}}, "hi"]),
            &kind,
            lindi_ref,
        );
        assert_eq!(
            v.to_json(),
            json!({"a": 1, "b": "NaN", "r": {"ref": "/x"}, "s": "hi"})
        );
        // A string element stays a string even if it reads "NaN".
        assert_eq!(
            object_value(&json!("NaN"), &ObjectKind::Strings, lindi_ref),
            Value::String("NaN".into())
        );
    }

    #[test]
    fn raw_to_data_and_fill() {
        let be = ElemType::Int {
            size: 4,
            signed: true,
            big: true,
        };
        assert_eq!(
            to_data(&be, &[0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe]),
            Data::Int32(vec![256, -2])
        );
        assert_eq!(fill_bytes(&be, &json!(-2)), vec![0xff, 0xff, 0xff, 0xfe]);
        let f4 = ElemType::Float {
            size: 4,
            big: false,
        };
        assert_eq!(fill_bytes(&f4, &json!(0.5)), 0.5f32.to_le_bytes().to_vec());
        let nan = fill_bytes(
            &ElemType::Float {
                size: 8,
                big: false,
            },
            &json!("NaN"),
        );
        assert!(f64::from_le_bytes(nan.try_into().expect("8 bytes")).is_nan());
        assert_eq!(fill_bytes(&ElemType::Bool, &json!(false)), vec![0]);
        assert_eq!(fill_bytes(&be, &Json::Null), vec![0; 4]);
        let u = ElemType::Unicode {
            chars: 3,
            big: false,
        };
        let mut raw: Vec<u8> = "hé"
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        raw.extend_from_slice(&[0; 4]);
        assert_eq!(
            to_data(&u, &raw),
            Data::Values(vec![Value::String("hé".into())])
        );
        assert_eq!(
            to_data(&ElemType::Bytes(4), b"ab\0\0"),
            Data::Values(vec![Value::String("ab".into())])
        );
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(-2.0), 0xc000);
        assert_eq!(f32_to_f16(f32::INFINITY), 0x7c00);
    }
}
