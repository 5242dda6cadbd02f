//! Numeric payloads: typed arrays that travel as bytes beside a message.

use serde::{Deserialize, Serialize};

/// The element type of a [`TypedBuffer`] (little-endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumericType {
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float32,
    Float64,
}

impl NumericType {
    pub fn size_bytes(self) -> usize {
        match self {
            Self::Int8 | Self::UInt8 => 1,
            Self::Int16 | Self::UInt16 => 2,
            Self::Int32 | Self::UInt32 | Self::Float32 => 4,
            Self::Int64 | Self::UInt64 | Self::Float64 => 8,
        }
    }
}

/// A typed array. In JSON only its type and length appear; its bytes
/// travel beside the message (see [`crate::encode`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypedBuffer {
    pub dtype: NumericType,
    len: usize,
    #[serde(skip)]
    bytes: Vec<u8>,
}

/// Equal when the values are equal (NaN equal to NaN: same bits).
impl PartialEq for TypedBuffer {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype && self.len == other.len && self.bytes == other.bytes
    }
}

macro_rules! constructors {
    ($($name:ident: $t:ty => $variant:ident),* $(,)?) => {
        impl TypedBuffer {
            $(
                pub fn $name(values: &[$t]) -> Self {
                    let mut bytes = Vec::with_capacity(values.len() * size_of::<$t>());
                    for v in values {
                        bytes.extend_from_slice(&v.to_le_bytes());
                    }
                    Self { dtype: NumericType::$variant, len: values.len(), bytes }
                }
            )*
        }
    };
}

constructors! {
    from_i8: i8 => Int8,
    from_i16: i16 => Int16,
    from_i32: i32 => Int32,
    from_i64: i64 => Int64,
    from_u8: u8 => UInt8,
    from_u16: u16 => UInt16,
    from_u32: u32 => UInt32,
    from_u64: u64 => UInt64,
    from_f32: f32 => Float32,
    from_f64: f64 => Float64,
}

impl TypedBuffer {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The raw little-endian bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes of value `i`, zero-padded to eight.
    fn raw(&self, i: usize) -> Option<[u8; 8]> {
        let size = self.dtype.size_bytes();
        let start = i.checked_mul(size)?;
        let raw = self.bytes.get(start..start.checked_add(size)?)?;
        let mut b8 = [0u8; 8];
        b8[..size].copy_from_slice(raw);
        Some(b8)
    }

    /// Value `i` as a float (integers beyond 2^53 lose precision, as in numpy).
    pub fn get_f64(&self, i: usize) -> Option<f64> {
        let b8 = self.raw(i)?;
        #[expect(clippy::cast_precision_loss, reason = "as numpy's astype(float)")]
        let v = match self.dtype {
            NumericType::Int8 => f64::from(i8::from_le_bytes([b8[0]])),
            NumericType::Int16 => f64::from(i16::from_le_bytes([b8[0], b8[1]])),
            NumericType::Int32 => f64::from(i32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]])),
            NumericType::Int64 => i64::from_le_bytes(b8) as f64,
            NumericType::UInt8 => f64::from(b8[0]),
            NumericType::UInt16 => f64::from(u16::from_le_bytes([b8[0], b8[1]])),
            NumericType::UInt32 => f64::from(u32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]])),
            NumericType::UInt64 => u64::from_le_bytes(b8) as f64,
            NumericType::Float32 => f64::from(f32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]])),
            NumericType::Float64 => f64::from_le_bytes(b8),
        };
        Some(v)
    }

    /// Every value as a float.
    pub fn to_f64(&self) -> Vec<f64> {
        (0..self.len).filter_map(|i| self.get_f64(i)).collect()
    }

    /// Value `i` as text: integers exactly, floats as JSON writes them,
    /// non-finite ones as `NaN`, `Infinity`, `-Infinity`.
    pub fn text(&self, i: usize) -> Option<String> {
        let b8 = self.raw(i)?;
        Some(match self.dtype {
            NumericType::Int64 => i64::from_le_bytes(b8).to_string(),
            NumericType::UInt64 => u64::from_le_bytes(b8).to_string(),
            NumericType::Float32 => {
                float_text(f64::from(f32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]])))
            }
            NumericType::Float64 => float_text(f64::from_le_bytes(b8)),
            _ => format!("{}", self.get_f64(i)?),
        })
    }

    /// Takes the bytes out (they travel beside the message).
    pub(crate) fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }

    /// Puts the bytes that travelled back; their length must fit.
    pub(crate) fn put_bytes(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        let want = self.len.checked_mul(self.dtype.size_bytes());
        if want != Some(bytes.len()) {
            return Err(format!(
                "bad message: a buffer of {} {:?} values has {} bytes",
                self.len,
                self.dtype,
                bytes.len()
            ));
        }
        self.bytes = bytes;
        Ok(())
    }
}

fn float_text(f: f64) -> String {
    ns_model::float_json(f)
        .as_str()
        .map_or_else(|| ns_model::float_json(f).to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_floats() {
        let b = TypedBuffer::from_f32(&[1.5, f32::NAN, f32::NEG_INFINITY]);
        assert_eq!(b.text(0).as_deref(), Some("1.5"));
        assert_eq!(b.text(1).as_deref(), Some("NaN"));
        assert_eq!(b.text(2).as_deref(), Some("-Infinity"));
        assert_eq!(b.text(3), None);
        let b = TypedBuffer::from_u64(&[u64::MAX]);
        assert_eq!(b.text(0).as_deref(), Some("18446744073709551615"));
        let b = TypedBuffer::from_i8(&[-3]);
        assert_eq!(b.to_f64(), vec![-3.0]);
    }
}
