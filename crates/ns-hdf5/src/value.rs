//! Decoded values of any HDF5 type, and their JSON form.

use hdf5_reader::error::ByteOrder;
use hdf5_reader::{Datatype, StringPadding, StringSize};
use ns_model::{Value, dims_usize, f16_to_f32, nest};

use crate::dtype::is_bool_enum;

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
    /// Bytes of the global heap object at a collection address and index
    /// (where a region reference keeps its object and selection).
    pub resolve_heap: &'a dyn Fn(u64, u32) -> Option<Vec<u8>>,
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

    /// A dataset region reference (heap collection address, object index):
    /// `{ref: path, region: "[2:5]"}`, as h5py's `f[ref].name` and the
    /// selection; null if it points nowhere; the raw bytes if its heap
    /// object cannot be read.
    fn region(&self, raw: &[u8]) -> Value {
        let n = usize::from(self.offset_size).min(8);
        let (Some(addr), Some(index)) = (raw.get(..n), raw.get(n..n + 4)) else {
            return Value::Bytes(raw.to_vec());
        };
        if addr.iter().all(|b| *b == 0) || addr.iter().all(|b| *b == 0xff) {
            return Value::Ref(None);
        }
        let collection = int_from_bytes(addr, false, ByteOrder::LittleEndian);
        let index = int_from_bytes(index, false, ByteOrder::LittleEndian);
        let (Ok(collection), Ok(index)) = (u64::try_from(collection), u32::try_from(index)) else {
            return Value::Bytes(raw.to_vec());
        };
        let Some((object, region)) = (self.resolve_heap)(collection, index)
            .and_then(|bytes| crate::region::decode(&bytes, self.offset_size))
        else {
            return Value::Bytes(raw.to_vec());
        };
        let path = (self.resolve_ref)(object).unwrap_or_else(|| format!("<object at {object:#x}>"));
        Value::Compound(vec![
            ("ref".into(), Value::Ref(Some(path))),
            ("region".into(), Value::String(region)),
        ])
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
            Datatype::VarLen { .. } if crate::dtype::is_text(datatype) => self.vlen_string(raw),
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
                if *ref_type == hdf5_reader::ReferenceType::DatasetRegion {
                    return self.region(raw);
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
            Datatype::Bitfield { byte_order, .. } => {
                u64::try_from(int_from_bytes(raw, false, *byte_order))
                    .map_or(Value::Null, Value::UInt)
            }
            Datatype::Opaque { .. } => Value::Bytes(raw.to_vec()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn decode_all_is_bounded_by_the_bytes() {
        let decoder = Decoder {
            offset_size: 8,
            resolve_ref: &|_| None,
            resolve_vlen: &|_, _| None,
            resolve_heap: &|_, _| None,
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
