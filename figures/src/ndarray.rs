//! figurl's array encoding: `{"_type":"ndarray","shape":[…],"dtype":"float32",
//! "data_gzip_b64":"<base64 of zlib(bytes)>"}` (little-endian, C order).

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ns_protocol::NumericType;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// Arrays larger than this are refused when decoding (a claimed shape is
/// checked before anything is allocated).
pub const MAX_ARRAY_BYTES: usize = 1 << 30;

/// A typed array with a shape, as figurl encodes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    pub dtype: NumericType,
    pub shape: Vec<u64>,
    /// Little-endian values, C order.
    pub bytes: Vec<u8>,
}

impl NdArray {
    /// A 1-D array of these bytes.
    ///
    /// # Errors
    /// When the bytes are not a whole number of values.
    pub fn vector(dtype: NumericType, bytes: Vec<u8>) -> Result<NdArray> {
        let size = dtype.size_bytes();
        if !bytes.len().is_multiple_of(size) {
            return Err(Error::BadArray {
                what: format!("{dtype:?}"),
                message: format!("{} bytes are not whole {size}-byte values", bytes.len()),
            });
        }
        Ok(NdArray {
            dtype,
            shape: vec![(bytes.len() / size) as u64],
            bytes,
        })
    }

    /// f64 values as a 1-D array.
    pub fn from_f64(values: &[f64]) -> NdArray {
        NdArray {
            dtype: NumericType::Float64,
            shape: vec![values.len() as u64],
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Every value as f64 (as numpy's `astype(float)`).
    pub fn to_f64(&self) -> Vec<f64> {
        let size = self.dtype.size_bytes();
        self.bytes
            .chunks_exact(size)
            .map(|c| {
                let mut b8 = [0u8; 8];
                b8[..size].copy_from_slice(c);
                #[expect(clippy::cast_precision_loss, reason = "as numpy's astype(float)")]
                match self.dtype {
                    NumericType::Int8 => f64::from(i8::from_le_bytes([b8[0]])),
                    NumericType::Int16 => f64::from(i16::from_le_bytes([b8[0], b8[1]])),
                    NumericType::Int32 => {
                        f64::from(i32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]]))
                    }
                    NumericType::Int64 => i64::from_le_bytes(b8) as f64,
                    NumericType::UInt8 => f64::from(b8[0]),
                    NumericType::UInt16 => f64::from(u16::from_le_bytes([b8[0], b8[1]])),
                    NumericType::UInt32 => {
                        f64::from(u32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]]))
                    }
                    NumericType::UInt64 => u64::from_le_bytes(b8) as f64,
                    NumericType::Float32 => {
                        f64::from(f32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]]))
                    }
                    NumericType::Float64 => f64::from_le_bytes(b8),
                }
            })
            .collect()
    }
}

#[derive(Serialize, Deserialize)]
struct Encoded {
    #[serde(rename = "_type")]
    ty: String,
    shape: Vec<u64>,
    dtype: String,
    data_gzip_b64: String,
}

fn dtype_name(t: NumericType) -> &'static str {
    match t {
        NumericType::Int8 => "int8",
        NumericType::Int16 => "int16",
        NumericType::Int32 => "int32",
        NumericType::Int64 => "int64",
        NumericType::UInt8 => "uint8",
        NumericType::UInt16 => "uint16",
        NumericType::UInt32 => "uint32",
        NumericType::UInt64 => "uint64",
        NumericType::Float32 => "float32",
        NumericType::Float64 => "float64",
    }
}

fn dtype_of(name: &str) -> Option<NumericType> {
    // numpy's names, with an optional little-endian marker (`<f4` style too).
    Some(match name.trim_start_matches('<') {
        "int8" | "i1" => NumericType::Int8,
        "int16" | "i2" => NumericType::Int16,
        "int32" | "i4" => NumericType::Int32,
        "int64" | "i8" => NumericType::Int64,
        "uint8" | "u1" => NumericType::UInt8,
        "uint16" | "u2" => NumericType::UInt16,
        "uint32" | "u4" => NumericType::UInt32,
        "uint64" | "u8" => NumericType::UInt64,
        "float32" | "f4" => NumericType::Float32,
        "float64" | "f8" => NumericType::Float64,
        _ => return None,
    })
}

impl Serialize for NdArray {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let compressed = z
            .write_all(&self.bytes)
            .and_then(|()| z.finish())
            .map_err(serde::ser::Error::custom)?;
        Encoded {
            ty: "ndarray".into(),
            shape: self.shape.clone(),
            dtype: dtype_name(self.dtype).into(),
            data_gzip_b64: B64.encode(compressed),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for NdArray {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let e = Encoded::deserialize(d)?;
        decode(&e).map_err(|err| D::Error::custom(err.to_string()))
    }
}

fn decode(e: &Encoded) -> Result<NdArray> {
    let bad = |message: String| Error::BadArray {
        what: format!("{} {:?}", e.dtype, e.shape),
        message,
    };
    if e.ty != "ndarray" {
        return Err(bad(format!("_type is {:?}, not \"ndarray\"", e.ty)));
    }
    let dtype = dtype_of(&e.dtype).ok_or_else(|| bad("unknown dtype".into()))?;
    let want = e
        .shape
        .iter()
        .try_fold(dtype.size_bytes() as u64, |acc, &n| acc.checked_mul(n))
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n <= MAX_ARRAY_BYTES)
        .ok_or_else(|| bad(format!("larger than {MAX_ARRAY_BYTES} bytes")))?;
    let compressed = B64
        .decode(e.data_gzip_b64.as_bytes())
        .map_err(|err| bad(format!("data_gzip_b64: {err}")))?;
    // figurl writes zlib; accept gzip too.
    let bytes = if compressed.starts_with(&[0x1f, 0x8b]) {
        ns_codecs::gzip(&compressed, want)
    } else {
        ns_codecs::zlib(&compressed, want)
    }
    .map_err(|err| bad(err.to_string()))?;
    if bytes.len() != want {
        return Err(bad(format!(
            "{} bytes of data, the shape needs {want}",
            bytes.len()
        )));
    }
    Ok(NdArray {
        dtype,
        shape: e.shape.clone(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_figurl_arrays() {
        let a = NdArray::from_f64(&[1.0, -2.5, 3.25]);
        let json = serde_json::to_string(&a).expect("serialize");
        assert!(json.contains(r#""_type":"ndarray""#), "{json}");
        let back: NdArray = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, a);
        assert_eq!(back.to_f64(), vec![1.0, -2.5, 3.25]);
        // Written by Python: base64.b64encode(zlib.compress(np.array([1,2,3], dtype='int16').tobytes()))
        let py = r#"{"_type":"ndarray","shape":[3],"dtype":"int16","data_gzip_b64":"eJxjZGBiYGYAAAAaAAc="}"#;
        let b: NdArray = serde_json::from_str(py).expect("python array");
        assert_eq!(b.to_f64(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn refuses_arrays_that_do_not_fit() {
        let bad_shape = r#"{"_type":"ndarray","shape":[4],"dtype":"int16","data_gzip_b64":"eJxjZGBiYGYAAAAaAAc="}"#;
        let e = serde_json::from_str::<NdArray>(bad_shape).expect_err("short data");
        assert!(
            e.to_string().contains("6 bytes of data, the shape needs 8"),
            "{e}"
        );
        let huge = r#"{"_type":"ndarray","shape":[4294967296,4294967296],"dtype":"int16","data_gzip_b64":""}"#;
        let e = serde_json::from_str::<NdArray>(huge).expect_err("huge");
        assert!(e.to_string().contains("larger than"), "{e}");
        let dtype = r#"{"_type":"ndarray","shape":[1],"dtype":"complex64","data_gzip_b64":""}"#;
        assert!(serde_json::from_str::<NdArray>(dtype).is_err());
    }
}
