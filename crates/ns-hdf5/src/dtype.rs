//! Element types as a user sees them (`int16`, `string`, `reference`, ...).

use hdf5_reader::Datatype;
use hdf5_reader::error::ByteOrder;
use ns_model::Dtype;

/// The [`Dtype`] that values of an HDF5 datatype read as.
pub fn dtype_of(datatype: &Datatype) -> Dtype {
    match datatype {
        Datatype::FixedPoint { size, signed, .. } => {
            Dtype::int(*size, *signed).unwrap_or(Dtype::Opaque)
        }
        Datatype::FloatingPoint { size, .. } => Dtype::float(*size).unwrap_or(Dtype::Opaque),
        Datatype::String { .. } => Dtype::String,
        Datatype::VarLen { .. } if is_text(datatype) => Dtype::String,
        Datatype::VarLen { .. } => Dtype::VarLen,
        // h5py reads bitfields as unsigned integers of their size.
        Datatype::Bitfield { size, .. } => Dtype::int(*size, false).unwrap_or(Dtype::Opaque),
        Datatype::Reference { .. } => Dtype::Reference,
        Datatype::Compound { .. } => Dtype::Compound,
        Datatype::Enum { .. } if is_bool_enum(datatype) => Dtype::Bool,
        Datatype::Enum { .. } => Dtype::Enum,
        Datatype::Array { .. } => Dtype::Array,
        Datatype::Opaque { .. } => Dtype::Opaque,
    }
}

/// Whether a variable-length type holds text: a vlen string, or a
/// sequence of one-character strings. A sequence of 8-bit integers is a
/// list of numbers (h5py: `vlen_dtype(uint8)`), not text.
pub(crate) fn is_text(datatype: &Datatype) -> bool {
    match datatype {
        Datatype::VarLen { base, .. } => {
            is_string(datatype)
                || matches!(
                    **base,
                    Datatype::String {
                        size: hdf5_reader::StringSize::Fixed(1),
                        ..
                    }
                )
        }
        _ => false,
    }
}

fn is_string(datatype: &Datatype) -> bool {
    matches!(
        datatype,
        Datatype::VarLen {
            kind: hdf5_reader::VarLenKind::String,
            ..
        }
    )
}

/// h5py stores numpy bools as an int8 enum {FALSE: 0, TRUE: 1}.
pub(crate) fn is_bool_enum(datatype: &Datatype) -> bool {
    let Datatype::Enum { base, members } = datatype else {
        return false;
    };
    if !matches!(**base, Datatype::FixedPoint { size: 1, .. }) || members.len() != 2 {
        return false;
    }
    let mut names: Vec<(&str, &[u8])> = members
        .iter()
        .map(|m| (m.name.as_str(), m.value.as_slice()))
        .collect();
    ns_sort::sort(&mut names);
    names == [("FALSE", &[0u8][..]), ("TRUE", &[1u8][..])]
}

/// A short human description: `int16`, `string (vlen utf-8)`, `compound {a: int32, b: float64}`.
pub fn describe(datatype: &Datatype) -> String {
    match datatype {
        Datatype::String { size, encoding, .. } => {
            let len = match size {
                hdf5_reader::StringSize::Fixed(n) => format!("fixed {n}"),
                hdf5_reader::StringSize::Variable => "vlen".into(),
            };
            format!("string ({len}, {})", encoding_name(*encoding))
        }
        Datatype::VarLen { encoding, .. } if is_string(datatype) => {
            format!("string (vlen, {})", encoding_name(*encoding))
        }
        Datatype::Compound { fields, .. } => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f.name, describe(&f.datatype)))
                .collect();
            format!("compound {{{}}}", inner.join(", "))
        }
        Datatype::Enum { base, members } if !is_bool_enum(datatype) => {
            let names: Vec<String> = members
                .iter()
                .map(|m| format!("{}={}", m.name, enum_value(base, &m.value)))
                .collect();
            format!("enum {} {{{}}}", describe(base), names.join(", "))
        }
        Datatype::Array { base, dims } => format!("array {:?} of {}", dims, describe(base)),
        Datatype::VarLen { base, .. } if !is_text(datatype) => {
            format!("vlen sequence of {}", describe(base))
        }
        Datatype::Bitfield { size, .. } => format!(
            "bitfield ({size} bytes, read as uint{})",
            u32::from(*size) * 8
        ),
        Datatype::FixedPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        }
        | Datatype::FloatingPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        } => format!("{} (big-endian)", dtype_of(datatype)),
        Datatype::Reference { ref_type, .. } => format!("reference ({ref_type:?})").to_lowercase(),
        Datatype::Opaque { tag, size } => format!(
            "opaque ({size} bytes{})",
            if tag.is_empty() {
                String::new()
            } else {
                format!(", {tag}")
            }
        ),
        other => dtype_of(other).name().to_string(),
    }
}

fn encoding_name(encoding: hdf5_reader::StringEncoding) -> &'static str {
    match encoding {
        hdf5_reader::StringEncoding::Ascii => "ascii",
        hdf5_reader::StringEncoding::Utf8 => "utf-8",
    }
}

/// The integer value of an enum member's raw bytes.
pub(crate) fn enum_value(base: &Datatype, raw: &[u8]) -> i128 {
    match base {
        Datatype::FixedPoint {
            signed, byte_order, ..
        } => crate::value::int_from_bytes(raw, *signed, *byte_order),
        _ => 0,
    }
}
