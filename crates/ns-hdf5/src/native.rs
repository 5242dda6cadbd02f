//! Numeric elements read by their width only: hdf5-reader's reading code
//! is generic over the element type, so reading each of the ten numeric
//! types through its own `H5Type` compiles that code ten times (about
//! 400 KB of the browser worker's wasm). [`Native<N>`] is one element of
//! `N` bytes in native byte order: four widths cover every numeric type,
//! and each read is turned into its [`Data`] variant afterwards. Which
//! type the bytes are is decided before, by [`crate::dtype::dtype_of`];
//! here a datatype of another width or class is still a type mismatch.

use hdf5_reader::error::{ByteOrder, Error, Result};
use hdf5_reader::{Datatype, H5Type};

/// One numeric element's `N` bytes, in native byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Native<const N: usize>(pub [u8; N]);

const NATIVE_ORDER: ByteOrder = if cfg!(target_endian = "little") {
    ByteOrder::LittleEndian
} else {
    ByteOrder::BigEndian
};

/// The byte order of a fixed-point or floating-point datatype `N` bytes
/// wide; `None` for anything else.
fn order_of<const N: usize>(dtype: &Datatype) -> Option<ByteOrder> {
    match dtype {
        Datatype::FixedPoint {
            size, byte_order, ..
        }
        | Datatype::FloatingPoint { size, byte_order } => {
            (usize::from(*size) == N).then_some(*byte_order)
        }
        _ => None,
    }
}

fn mismatch<const N: usize>(dtype: &Datatype) -> Error {
    Error::TypeMismatch {
        expected: format!("a {N}-byte number"),
        actual: format!("{dtype:?}"),
    }
}

impl<const N: usize> H5Type for Native<N> {
    fn hdf5_type() -> Datatype {
        Datatype::Opaque {
            size: u32::try_from(N).unwrap_or(u32::MAX),
            tag: String::new(),
        }
    }

    fn from_bytes(bytes: &[u8], dtype: &Datatype) -> Result<Self> {
        let order = order_of::<N>(dtype).ok_or_else(|| mismatch::<N>(dtype))?;
        let mut a: [u8; N] = bytes
            .get(..N)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Error::InvalidData(format!("expected {N} bytes, got {}", bytes.len()))
            })?;
        if order != NATIVE_ORDER {
            a.reverse();
        }
        Ok(Self(a))
    }

    fn element_size(_dtype: &Datatype) -> usize {
        N
    }

    fn decode_vec(raw: &[u8], dtype: &Datatype, count: usize) -> Option<Result<Vec<Self>>> {
        let Some(order) = order_of::<N>(dtype) else {
            return Some(Err(mismatch::<N>(dtype)));
        };
        let bytes = raw.get(..count.checked_mul(N)?)?;
        let swap = order != NATIVE_ORDER;
        Some(Ok(bytes
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                if swap {
                    a.reverse();
                }
                Self(a)
            })
            .collect()))
    }

    fn native_copy_compatible(dtype: &Datatype) -> bool {
        order_of::<N>(dtype) == Some(NATIVE_ORDER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_orders_and_mismatches() {
        let be = Datatype::FixedPoint {
            size: 2,
            signed: true,
            byte_order: ByteOrder::BigEndian,
        };
        let n = Native::<2>::from_bytes(&[0xff, 0xfe], &be).expect("2 bytes");
        assert_eq!(i16::from_ne_bytes(n.0), -2);
        let v = Native::<2>::decode_vec(&[0, 1, 0, 2, 9], &be, 2)
            .expect("fast path")
            .expect("decoded");
        assert_eq!(
            v.iter()
                .map(|n| i16::from_ne_bytes(n.0))
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(!Native::<2>::native_copy_compatible(&be) || cfg!(target_endian = "big"));
        let f = Datatype::FloatingPoint {
            size: 8,
            byte_order: ByteOrder::LittleEndian,
        };
        let n = Native::<8>::from_bytes(&1.5f64.to_le_bytes(), &f).expect("8 bytes");
        assert!((f64::from_ne_bytes(n.0) - 1.5).abs() < f64::EPSILON);
        // Another width or class, or too few bytes: errors, never values.
        assert!(Native::<4>::from_bytes(&[0; 8], &f).is_err());
        assert!(matches!(
            Native::<4>::decode_vec(&[0; 8], &f, 2),
            Some(Err(_))
        ));
        assert!(Native::<8>::from_bytes(&[0; 4], &f).is_err());
        let s = Datatype::Opaque {
            size: 8,
            tag: String::new(),
        };
        assert!(Native::<8>::from_bytes(&[0; 8], &s).is_err());
    }
}
