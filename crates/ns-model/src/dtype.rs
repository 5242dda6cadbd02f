//! Element types as a user sees them (`int16`, `string`, `reference`, ...).

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
    /// A variable-length sequence of another type (not text).
    VarLen,
    Opaque,
}

impl Dtype {
    /// The integer type of `size_bytes` bytes (1, 2, 4 or 8), `None` for others.
    pub fn int(size_bytes: u8, signed: bool) -> Option<Self> {
        Some(match (size_bytes, signed) {
            (1, true) => Self::Int8,
            (2, true) => Self::Int16,
            (4, true) => Self::Int32,
            (8, true) => Self::Int64,
            (1, false) => Self::UInt8,
            (2, false) => Self::UInt16,
            (4, false) => Self::UInt32,
            (8, false) => Self::UInt64,
            _ => return None,
        })
    }

    /// The float type of `size_bytes` bytes (2, 4 or 8), `None` for others.
    pub fn float(size_bytes: u8) -> Option<Self> {
        Some(match size_bytes {
            2 => Self::Float16,
            4 => Self::Float32,
            8 => Self::Float64,
            _ => return None,
        })
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
            Self::VarLen => "vlen",
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
