//! Element types as a user sees them (`int16`, `string`, `reference`, ...).

use hdf5_reader::Datatype;
use hdf5_reader::error::ByteOrder;

/// The kind of one element, named like numpy/h5py name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float16,
    Float32,
    Float64,
    Bool,
    String,
    Reference,
    Compound,
    Enum,
    Array,
    Opaque,
}

impl Dtype {
    pub fn of(datatype: &Datatype) -> Self {
        match datatype {
            Datatype::FixedPoint { size, signed, .. } => match (size, signed) {
                (1, true) => Self::Int8,
                (2, true) => Self::Int16,
                (4, true) => Self::Int32,
                (8, true) => Self::Int64,
                (1, false) => Self::UInt8,
                (2, false) => Self::UInt16,
                (4, false) => Self::UInt32,
                (8, false) => Self::UInt64,
                _ => Self::Opaque,
            },
            Datatype::FloatingPoint { size, .. } => match size {
                2 => Self::Float16,
                4 => Self::Float32,
                8 => Self::Float64,
                _ => Self::Opaque,
            },
            Datatype::String { .. } => Self::String,
            Datatype::VarLen { base, .. } if is_string(datatype) || base.is_vlen_string_base() => {
                Self::String
            }
            Datatype::Reference { .. } => Self::Reference,
            Datatype::Compound { .. } => Self::Compound,
            Datatype::Enum { .. } if is_bool_enum(datatype) => Self::Bool,
            Datatype::Enum { .. } => Self::Enum,
            Datatype::Array { .. } => Self::Array,
            Datatype::VarLen { .. } | Datatype::Opaque { .. } | Datatype::Bitfield { .. } => {
                Self::Opaque
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Int8 => "int8",
            Self::Int16 => "int16",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::UInt8 => "uint8",
            Self::UInt16 => "uint16",
            Self::UInt32 => "uint32",
            Self::UInt64 => "uint64",
            Self::Float16 => "float16",
            Self::Float32 => "float32",
            Self::Float64 => "float64",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Reference => "reference",
            Self::Compound => "compound",
            Self::Enum => "enum",
            Self::Array => "array",
            Self::Opaque => "opaque",
        }
    }

    /// Whether values are plain numbers (read with typed hyperslab reads).
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Self::Int8
                | Self::Int16
                | Self::Int32
                | Self::Int64
                | Self::UInt8
                | Self::UInt16
                | Self::UInt32
                | Self::UInt64
                | Self::Float32
                | Self::Float64
        )
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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
    names.sort_unstable();
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
        Datatype::FixedPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        }
        | Datatype::FloatingPoint {
            byte_order: ByteOrder::BigEndian,
            ..
        } => format!("{} (big-endian)", Dtype::of(datatype)),
        Datatype::Reference { ref_type, .. } => format!("reference ({ref_type:?})").to_lowercase(),
        Datatype::Opaque { tag, size } => format!(
            "opaque ({size} bytes{})",
            if tag.is_empty() {
                String::new()
            } else {
                format!(", {tag}")
            }
        ),
        other => Dtype::of(other).name().to_string(),
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
