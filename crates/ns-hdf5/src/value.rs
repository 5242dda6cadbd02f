//! Decoded values of any HDF5 type, and their JSON form.

use hdf5_reader::error::ByteOrder;
use hdf5_reader::{Datatype, StringPadding, StringSize};
use serde_json::{Map, Value as Json};

use crate::dtype::is_bool_enum;

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
        #[allow(
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

/// Whether values of `datatype` hold object references anywhere inside.
pub(crate) fn has_references(datatype: &Datatype) -> bool {
    match datatype {
        Datatype::Reference { .. } => true,
        Datatype::Compound { fields, .. } => fields.iter().any(|f| has_references(&f.datatype)),
        Datatype::Array { base, .. }
        | Datatype::VarLen { base, .. }
        | Datatype::Enum { base, .. } => has_references(base),
        _ => false,
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

/// Fetches a variable-length item's bytes from its stored reference and the
/// size of one base element.
pub type VlenResolver<'a> = dyn Fn(&[u8], usize) -> Option<Vec<u8>> + 'a;

/// What decoding needs from the file: how wide addresses are, how to turn
/// an object address into a path, and how to fetch variable-length data.
pub struct Decoder<'a> {
    pub offset_size: u8,
    pub resolve_ref: &'a dyn Fn(u64) -> Option<String>,
    /// Bytes of a variable-length item given its stored reference and the
    /// size of one base element.
    pub resolve_vlen: &'a VlenResolver<'a>,
}

impl Decoder<'_> {
    /// Decodes up to `count` consecutive elements of `datatype` from `raw`:
    /// fewer if `raw` holds fewer (`count` comes from a header; what is
    /// allocated is bounded by the bytes actually there).
    pub fn decode_all(&self, datatype: &Datatype, raw: &[u8], count: usize) -> Vec<Value> {
        let size = element_size(datatype).max(1);
        raw.chunks_exact(size)
            .take(count)
            .map(|bytes| self.decode(datatype, bytes))
            .collect()
    }

    /// Decodes one element.
    pub fn decode(&self, datatype: &Datatype, raw: &[u8]) -> Value {
        match datatype {
            Datatype::FixedPoint {
                signed, byte_order, ..
            } => {
                let v = int_from_bytes(raw, *signed, *byte_order);
                if *signed {
                    i64::try_from(v).map_or(Value::Null, Value::Int)
                } else {
                    u64::try_from(v).map_or(Value::Null, Value::UInt)
                }
            }
            Datatype::FloatingPoint { size, byte_order } => {
                float_from_bytes(raw, *size, *byte_order).map_or(Value::Null, Value::Float)
            }
            Datatype::String { size, padding, .. } => match size {
                StringSize::Fixed(_) => Value::String(fixed_string(raw, *padding)),
                StringSize::Variable => self.vlen_string(raw),
            },
            Datatype::VarLen { base, .. } if base.is_vlen_string_base() => self.vlen_string(raw),
            Datatype::VarLen { base, .. } => {
                let base_size = element_size(base);
                match (self.resolve_vlen)(raw, base_size) {
                    Some(bytes) if base_size > 0 => {
                        Value::List(self.decode_all(base, &bytes, bytes.len() / base_size))
                    }
                    _ => Value::Null,
                }
            }
            Datatype::Reference { ref_type, .. } => {
                if *ref_type != hdf5_reader::ReferenceType::Object {
                    return Value::Bytes(raw.to_vec());
                }
                let n = usize::from(self.offset_size).min(8).min(raw.len());
                let addr = int_from_bytes(&raw[..n], false, ByteOrder::LittleEndian);
                let undefined = raw[..n].iter().all(|b| *b == 0xff);
                match u64::try_from(addr) {
                    Ok(0) | Err(_) => Value::Ref(None),
                    Ok(_) if undefined => Value::Ref(None),
                    Ok(addr) => Value::Ref(Some(
                        (self.resolve_ref)(addr)
                            .unwrap_or_else(|| format!("<object at {addr:#x}>")),
                    )),
                }
            }
            Datatype::Compound { fields, .. } => Value::Compound(
                fields
                    .iter()
                    .map(|f| {
                        let start = usize::try_from(f.byte_offset).unwrap_or(usize::MAX);
                        let end = start.saturating_add(element_size(&f.datatype));
                        let v = raw
                            .get(start..end)
                            .map_or(Value::Null, |b| self.decode(&f.datatype, b));
                        (f.name.clone(), v)
                    })
                    .collect(),
            ),
            Datatype::Enum { base, .. } => {
                let v = self.decode(base, raw);
                if is_bool_enum(datatype) {
                    Value::Bool(v.as_f64().is_some_and(|x| x != 0.0))
                } else {
                    v
                }
            }
            Datatype::Array { base, dims } => {
                let Some(dims) = dims_usize(dims) else {
                    return Value::Null;
                };
                let count = dims.iter().try_fold(1usize, |n, d| n.checked_mul(*d));
                let flat = self.decode_all(base, raw, count.unwrap_or(usize::MAX));
                nest(flat, &dims)
            }
            Datatype::Opaque { .. } | Datatype::Bitfield { .. } => Value::Bytes(raw.to_vec()),
        }
    }

    fn vlen_string(&self, raw: &[u8]) -> Value {
        match (self.resolve_vlen)(raw, 1) {
            Some(bytes) => Value::String(fixed_string(&bytes, StringPadding::NullTerminate)),
            None => Value::Null,
        }
    }
}

/// Bytes of one stored element of `datatype`.
pub fn element_size(datatype: &Datatype) -> usize {
    hdf5_reader::dtype_element_size(datatype).unwrap_or(0)
}

/// Text of a fixed-length string, cut as its padding says.
pub fn fixed_string(raw: &[u8], padding: StringPadding) -> String {
    let cut = match padding {
        StringPadding::NullTerminate => raw.iter().position(|b| *b == 0).map_or(raw, |i| &raw[..i]),
        StringPadding::NullPad => {
            let end = raw.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            &raw[..end]
        }
        StringPadding::SpacePad => {
            let end = raw
                .iter()
                .rposition(|b| *b != b' ' && *b != 0)
                .map_or(0, |i| i + 1);
            &raw[..end]
        }
    };
    String::from_utf8_lossy(cut).into_owned()
}

pub(crate) fn int_from_bytes(raw: &[u8], signed: bool, order: ByteOrder) -> i128 {
    let n = raw.len().min(16);
    let mut buf = [0u8; 16];
    match order {
        ByteOrder::LittleEndian => buf[..n].copy_from_slice(&raw[..n]),
        ByteOrder::BigEndian => {
            for (i, b) in raw[..n].iter().rev().enumerate() {
                buf[i] = *b;
            }
        }
    }
    if signed && n > 0 && n < 16 && buf[n - 1] & 0x80 != 0 {
        for b in &mut buf[n..] {
            *b = 0xff;
        }
    }
    i128::from_le_bytes(buf)
}

pub(crate) fn float_from_bytes(raw: &[u8], size: u8, order: ByteOrder) -> Option<f64> {
    let mut bytes: Vec<u8> = raw.get(..usize::from(size))?.to_vec();
    if order == ByteOrder::BigEndian {
        bytes.reverse();
    }
    match size {
        2 => Some(f64::from(f16_to_f32(u16::from_le_bytes([
            bytes[0], bytes[1],
        ])))),
        4 => Some(f64::from(f32::from_le_bytes(bytes.try_into().ok()?))),
        8 => Some(f64::from_le_bytes(bytes.try_into().ok()?)),
        _ => None,
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
            #[allow(clippy::cast_sign_loss, reason = "e + 127 is positive here")]
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
    fn ints_both_orders() {
        assert_eq!(
            int_from_bytes(&[0xff, 0xfe], true, ByteOrder::LittleEndian),
            -257
        );
        assert_eq!(
            int_from_bytes(&[0xfe, 0xff], true, ByteOrder::BigEndian),
            -257
        );
        assert_eq!(
            int_from_bytes(&[0xff; 8], false, ByteOrder::LittleEndian),
            i128::from(u64::MAX)
        );
    }

    #[test]
    fn nesting() {
        let flat: Vec<Value> = (0..6).map(Value::Int).collect();
        let nested = nest(flat, &[2, 3]);
        assert_eq!(nested.to_json().to_string(), "[[0,1,2],[3,4,5]]");
        assert_eq!(float_json(f64::NAN), Json::String("NaN".into()));
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

    #[test]
    fn decode_all_is_bounded_by_the_bytes() {
        let decoder = Decoder {
            offset_size: 8,
            resolve_ref: &|_| None,
            resolve_vlen: &|_, _| None,
        };
        let int = Datatype::FixedPoint {
            size: 2,
            signed: true,
            byte_order: ByteOrder::LittleEndian,
        };
        // A header claiming 2^60 elements over 4 bytes: two values, no 2^60 allocation.
        let values = decoder.decode_all(&int, &[1, 0, 2, 0], 1 << 60);
        assert_eq!(values, vec![Value::Int(1), Value::Int(2)]);
        let array = Datatype::Array {
            base: Box::new(int),
            dims: vec![1 << 40, 0],
        };
        assert_eq!(decoder.decode(&array, &[]), Value::List(Vec::new()));
    }
}
