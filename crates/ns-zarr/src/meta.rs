//! Zarr v2 array metadata (`.zarray`) and the codecs of its chunks.

use serde::Deserialize;
use serde_json::Value as Json;

/// The element type of a Zarr array (numpy's type string, e.g. `<i2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElemType {
    Bool,
    Int {
        size: u8,
        signed: bool,
        big: bool,
    },
    Float {
        size: u8,
        big: bool,
    },
    /// `|S<n>`: fixed-length byte strings.
    Bytes(usize),
    /// `<U<n>`: fixed-length strings of `n` UTF-32 code points.
    Unicode {
        chars: usize,
        big: bool,
    },
    /// `|O`: Python objects, encoded by an object codec (JSON for LINDI).
    Object,
    /// Anything else (structured dtypes, complex numbers, datetimes...).
    Unsupported(String),
}

impl ElemType {
    pub fn parse(dtype: &Json) -> Self {
        let Some(text) = dtype.as_str() else {
            // A structured dtype with an object field is stored through an
            // object codec, each element a list of field values (hdmf-zarr's
            // compounds with references).
            if let Json::Array(fields) = dtype
                && fields
                    .iter()
                    .any(|f| f.get(1).and_then(Json::as_str) == Some("|O"))
            {
                return ElemType::Object;
            }
            return ElemType::Unsupported(dtype.to_string());
        };
        let unsupported = || ElemType::Unsupported(text.to_string());
        let mut chars = text.chars();
        let (big, rest) = match chars.next() {
            Some('<') => (false, chars.as_str()),
            Some('>') => (true, chars.as_str()),
            Some('|' | '=') => (false, chars.as_str()),
            _ => (false, text),
        };
        let Some(kind) = rest.chars().next() else {
            return unsupported();
        };
        let Ok(size) = rest[kind.len_utf8()..].parse::<usize>() else {
            return if rest == "O" {
                ElemType::Object
            } else {
                unsupported()
            };
        };
        let small = u8::try_from(size).ok();
        match (kind, small) {
            ('b', Some(1)) => ElemType::Bool,
            ('i', Some(s @ (1 | 2 | 4 | 8))) => ElemType::Int {
                size: s,
                signed: true,
                big,
            },
            ('u', Some(s @ (1 | 2 | 4 | 8))) => ElemType::Int {
                size: s,
                signed: false,
                big,
            },
            ('f', Some(s @ (2 | 4 | 8))) => ElemType::Float { size: s, big },
            ('S', _) => ElemType::Bytes(size),
            ('U', _) => ElemType::Unicode { chars: size, big },
            ('O', _) => ElemType::Object,
            _ => unsupported(),
        }
    }

    /// Bytes of one element in a decoded chunk (0 for objects).
    pub fn itemsize(&self) -> usize {
        match self {
            ElemType::Bool => 1,
            ElemType::Int { size, .. } | ElemType::Float { size, .. } => usize::from(*size),
            ElemType::Bytes(n) => *n,
            ElemType::Unicode { chars, .. } => chars.saturating_mul(4),
            ElemType::Object | ElemType::Unsupported(_) => 0,
        }
    }

    pub fn is_big_endian(&self) -> bool {
        matches!(
            self,
            ElemType::Int {
                big: true,
                size: 2..,
                ..
            } | ElemType::Float { big: true, .. }
                | ElemType::Unicode { big: true, .. }
        )
    }
}

/// One codec of a chunk's pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Codec {
    Zlib,
    Gzip,
    Blosc,
    Zstd,
    /// numcodecs `lz4`: the size (u32, little-endian), then one LZ4 block.
    Lz4,
    Bz2,
    Shuffle {
        elementsize: usize,
    },
    Fletcher32,
    Other(String),
}

impl Codec {
    fn parse(config: &Json) -> Result<Self, String> {
        let config =
            CodecConfig::deserialize(config).map_err(|e| format!("bad codec {config}: {e}"))?;
        Ok(match config.id.as_str() {
            "zlib" => Codec::Zlib,
            "gzip" => Codec::Gzip,
            "blosc" => Codec::Blosc,
            "zstd" => Codec::Zstd,
            "lz4" => Codec::Lz4,
            "bz2" => Codec::Bz2,
            "fletcher32" => Codec::Fletcher32,
            "shuffle" => Codec::Shuffle {
                elementsize: config
                    .elementsize
                    .map_or(Ok(4), usize::try_from)
                    .map_err(|_| "shuffle element size does not fit in memory".to_string())?,
            },
            other => Codec::Other(other.to_string()),
        })
    }

    /// The name listed among a dataset's filters: HDF5's where the codec
    /// is the same transformation (`zlib` is HDF5's `deflate`).
    pub fn name(&self) -> String {
        match self {
            Codec::Zlib => "deflate".into(),
            Codec::Gzip => "gzip".into(),
            Codec::Blosc => "blosc".into(),
            Codec::Zstd => "zstd".into(),
            Codec::Lz4 => "lz4".into(),
            Codec::Bz2 => "bzip2".into(),
            Codec::Shuffle { .. } => "shuffle".into(),
            Codec::Fletcher32 => "fletcher32".into(),
            Codec::Other(id) => id.clone(),
        }
    }

    /// Undoes this codec. `max_len` bounds what decompression may produce.
    fn decode(&self, data: Vec<u8>, max_len: usize) -> Result<Vec<u8>, String> {
        match self {
            Codec::Zlib => ns_codecs::zlib(&data, max_len).map_err(|e| e.to_string()),
            Codec::Gzip => ns_codecs::gzip(&data, max_len).map_err(|e| e.to_string()),
            Codec::Blosc => ns_codecs::blosc::decompress(&data, max_len).map_err(|e| e.to_string()),
            Codec::Zstd => ns_codecs::zstd(&data, max_len).map_err(|e| e.to_string()),
            Codec::Bz2 => ns_codecs::bzip2(&data, max_len).map_err(|e| e.to_string()),
            Codec::Lz4 => {
                let size = data
                    .get(..4)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_le_bytes)
                    .ok_or_else(|| "lz4: chunk shorter than its size".to_string())?;
                let size = usize::try_from(size)
                    .ok()
                    .filter(|n| *n <= max_len)
                    .ok_or_else(|| {
                        format!("lz4: chunk says {size} bytes, more than the {max_len} expected")
                    })?;
                let mut out = vec![0u8; size];
                ns_codecs::lz4::block_into(&data[4..], &mut out).map_err(|e| e.to_string())?;
                Ok(out)
            }
            Codec::Shuffle { elementsize } => {
                if *elementsize <= 1 {
                    return Ok(data);
                }
                let mut out = vec![0u8; data.len()];
                ns_codecs::unshuffle(*elementsize, &data, &mut out);
                Ok(out)
            }
            Codec::Fletcher32 => strip_fletcher32(data),
            Codec::Other(id) => Err(format!("the {id:?} codec is not supported")),
        }
    }
}

/// Why an array whose object codec is `pickle` cannot be read.
pub const PICKLE_REFUSED: &str = "the elements are Python pickles (numcodecs \"pickle\", \
     hdmf-zarr's default object codec), which this reader does not load: unpickling runs \
     code named by the file. Write the file with a JSON object codec \
     (hdmf_zarr ZarrIO(object_codec_class=numcodecs.JSON)) to make it readable";

/// How object (`|O`) elements are encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectCodec {
    /// numcodecs `json2` (LINDI's choice): a JSON list of the elements, then
    /// the dtype string and the shape.
    Json,
    /// numcodecs `vlen-utf8` / `vlen-bytes`: a count, then length-prefixed items.
    VlenUtf8,
    VlenBytes,
    /// numcodecs `pickle` (hdmf-zarr's default for references and
    /// compounds): recognized, never decoded. Loading a pickle runs
    /// whatever Python it names; reads of such arrays are an error.
    Pickle,
}

impl ObjectCodec {
    pub fn parse(config: &Json) -> Option<Self> {
        match config.get("id").and_then(Json::as_str)? {
            "json2" | "json" => Some(ObjectCodec::Json),
            "vlen-utf8" => Some(ObjectCodec::VlenUtf8),
            "vlen-bytes" => Some(ObjectCodec::VlenBytes),
            "pickle" => Some(ObjectCodec::Pickle),
            _ => None,
        }
    }

    /// The elements of a decoded chunk, as JSON values (strings for the
    /// vlen codecs).
    pub fn items(&self, bytes: &[u8]) -> Result<Vec<Json>, String> {
        match self {
            ObjectCodec::Pickle => Err(PICKLE_REFUSED.into()),
            ObjectCodec::Json => {
                let doc = crate::json::parse(bytes)
                    .map_err(|e| format!("object chunk is not JSON: {e}"))?;
                let Json::Array(mut items) = doc else {
                    return Err("object chunk is not a JSON list".into());
                };
                // numcodecs appends the dtype string and the shape.
                if items.len() < 2 {
                    return Err("object chunk lacks its dtype and shape".into());
                }
                items.truncate(items.len() - 2);
                Ok(items)
            }
            ObjectCodec::VlenUtf8 | ObjectCodec::VlenBytes => {
                let read_u32 = |at: usize| -> Result<usize, String> {
                    let b = bytes
                        .get(at..at + 4)
                        .ok_or_else(|| "vlen chunk is truncated".to_string())?;
                    usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .map_err(|_| "vlen length does not fit".to_string())
                };
                let n = read_u32(0)?;
                let mut at = 4;
                let mut items = Vec::with_capacity(n.min(bytes.len() / 4));
                for _ in 0..n {
                    let len = read_u32(at)?;
                    at += 4;
                    let item = bytes
                        .get(at..at.saturating_add(len))
                        .ok_or_else(|| "vlen chunk is truncated".to_string())?;
                    at += len;
                    items.push(Json::String(String::from_utf8_lossy(item).into_owned()));
                }
                Ok(items)
            }
        }
    }
}

/// A parsed `.zarray`.
#[derive(Debug, Clone)]
pub struct ArrayMeta {
    pub shape: Vec<u64>,
    pub chunks: Vec<u64>,
    pub elem: ElemType,
    pub fill: Json,
    /// Codecs in encoding order (filters, then the compressor), object
    /// codec excluded.
    pub codecs: Vec<Codec>,
    pub object_codec: Option<ObjectCodec>,
    /// Between chunk indices in chunk keys (`.` or `/`).
    pub separator: char,
    /// `F` (column-major) chunks are not supported.
    pub fortran_order: bool,
}

/// Most dimensions an array may have (numpy's limit).
const MAX_RANK: usize = 64;

/// A `.zarray` document as zarr v2 writes it; unknown keys are ignored.
#[derive(Debug, Deserialize)]
struct ZArray {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    /// A type string, or a list for structured dtypes (unsupported).
    #[serde(default)]
    dtype: Json,
    #[serde(default)]
    fill_value: Json,
    #[serde(default)]
    filters: Option<Vec<Json>>,
    #[serde(default)]
    compressor: Option<Json>,
    #[serde(default)]
    dimension_separator: Option<String>,
    #[serde(default)]
    order: Option<String>,
}

/// The part of a codec's configuration this reader uses.
#[derive(Debug, Deserialize)]
struct CodecConfig {
    #[serde(default)]
    id: String,
    #[serde(default)]
    elementsize: Option<u64>,
}

impl ArrayMeta {
    /// Parses and checks a `.zarray`: shape and chunks of the same rank (at
    /// most [`MAX_RANK`]), no zero chunk size, and a chunk whose element
    /// count fits in a `u64` (the shape itself may be as large as a `u64`
    /// allows: only the chunks a read touches are visited).
    pub fn parse(doc: &Json) -> Result<Self, String> {
        let z = ZArray::deserialize(doc).map_err(|e| format!("bad .zarray: {e}"))?;
        if z.shape.len() != z.chunks.len() {
            return Err(format!(
                ".zarray has shape {:?} but chunks {:?}",
                z.shape, z.chunks
            ));
        }
        if z.shape.len() > MAX_RANK {
            return Err(format!(
                ".zarray has {} dimensions, more than {MAX_RANK}",
                z.shape.len()
            ));
        }
        if z.chunks.contains(&0) {
            return Err(format!(".zarray has a zero chunk size: {:?}", z.chunks));
        }
        if z.chunks
            .iter()
            .try_fold(1u64, |n, c| n.checked_mul(*c))
            .is_none()
        {
            return Err(format!(
                ".zarray chunks {:?} hold more elements than a 64-bit count",
                z.chunks
            ));
        }
        let elem = ElemType::parse(&z.dtype);
        let mut codecs = Vec::new();
        let mut object_codec = None;
        for (i, f) in z.filters.iter().flatten().enumerate() {
            match ObjectCodec::parse(f) {
                // zarr puts the object codec first among the filters.
                Some(oc) if i == 0 && elem == ElemType::Object => object_codec = Some(oc),
                _ => codecs.push(Codec::parse(f)?),
            }
        }
        if let Some(compressor) = z.compressor.as_ref().filter(|c| !c.is_null()) {
            codecs.push(Codec::parse(compressor)?);
        }
        Ok(Self {
            shape: z.shape,
            chunks: z.chunks,
            elem,
            fill: z.fill_value,
            codecs,
            object_codec,
            separator: if z.dimension_separator.as_deref() == Some("/") {
                '/'
            } else {
                '.'
            },
            fortran_order: z.order.as_deref() == Some("F"),
        })
    }

    /// Elements in one (whole) chunk (checked to fit by [`Self::parse`]).
    pub fn chunk_len(&self) -> u64 {
        self.chunks.iter().fold(1u64, |n, c| n.saturating_mul(*c))
    }

    /// Elements in the whole array, `None` if more than a `u64` counts.
    pub fn element_count(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |n, d| n.checked_mul(*d))
    }

    /// The key suffix of the chunk at grid position `coords`.
    pub fn chunk_key(&self, coords: &[u64]) -> String {
        if coords.is_empty() {
            return "0".into();
        }
        let parts: Vec<String> = coords.iter().map(ToString::to_string).collect();
        parts.join(&self.separator.to_string())
    }

    /// Decodes a stored chunk to its raw element bytes (or, for objects,
    /// the bytes the object codec reads). `max_len` bounds every step.
    pub fn decode(&self, stored: &[u8], max_len: usize) -> Result<Vec<u8>, String> {
        let mut data = stored.to_vec();
        for codec in self.codecs.iter().rev() {
            data = codec.decode(data, max_len)?;
        }
        Ok(data)
    }
}

/// Checks and removes the Fletcher-32 checksum that HDF5's filter (and
/// numcodecs' `fletcher32` codec, which LINDI maps it to) appends.
fn strip_fletcher32(mut data: Vec<u8>) -> Result<Vec<u8>, String> {
    let Some(body_len) = data.len().checked_sub(4) else {
        return Err("fletcher32: chunk shorter than its checksum".into());
    };
    let stored = u32::from_le_bytes([
        data[body_len],
        data[body_len + 1],
        data[body_len + 2],
        data[body_len + 3],
    ]);
    let sum = fletcher32(&data[..body_len]);
    // HDF5 before 1.8.6 stored it with the bytes of each half swapped.
    let swapped = ((sum & 0x00ff_00ff) << 8) | ((sum & 0xff00_ff00) >> 8);
    if stored != sum && stored != swapped {
        return Err(format!(
            "fletcher32 checksum mismatch (stored {stored:#010x}, computed {sum:#010x}): the chunk is corrupt"
        ));
    }
    data.truncate(body_len);
    Ok(data)
}

/// HDF5's Fletcher-32 (`H5_checksum_fletcher32`): 16-bit big-endian words.
fn fletcher32(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let mut words = data.chunks_exact(2);
    let mut remaining = data.len() / 2;
    while remaining > 0 {
        let block = remaining.min(360);
        remaining -= block;
        for w in words.by_ref().take(block) {
            sum1 += (u32::from(w[0]) << 8) | u32::from(w[1]);
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if let [last] = words.remainder() {
        sum1 += u32::from(*last) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dtypes() {
        assert_eq!(
            ElemType::parse(&json!("<i2")),
            ElemType::Int {
                size: 2,
                signed: true,
                big: false
            }
        );
        assert_eq!(
            ElemType::parse(&json!(">f8")),
            ElemType::Float { size: 8, big: true }
        );
        assert_eq!(ElemType::parse(&json!("|b1")), ElemType::Bool);
        assert_eq!(ElemType::parse(&json!("|O")), ElemType::Object);
        assert_eq!(ElemType::parse(&json!("|S10")), ElemType::Bytes(10));
        assert_eq!(
            ElemType::parse(&json!("<U41")),
            ElemType::Unicode {
                chars: 41,
                big: false
            }
        );
        assert!(matches!(
            ElemType::parse(&json!("<c16")),
            ElemType::Unsupported(_)
        ));
        assert!(matches!(
            ElemType::parse(&json!([["a", "<i4"]])),
            ElemType::Unsupported(_)
        ));
        assert_eq!(
            ElemType::parse(&json!([["a", "<i4"], ["r", "|O"]])),
            ElemType::Object
        );
    }

    #[test]
    fn metadata_and_pipeline_order() {
        let meta = ArrayMeta::parse(&json!({
            "chunks": [10, 4], "compressor": null, "dtype": "<i2", "fill_value": -1,
            "filters": [{"id": "shuffle", "elementsize": 2}, {"id": "zlib", "level": 4}, {"id": "fletcher32"}],
            "order": "C", "shape": [25, 4], "zarr_format": 2
        }))
        .expect("parses");
        let names: Vec<String> = meta.codecs.iter().map(Codec::name).collect();
        assert_eq!(names, ["shuffle", "deflate", "fletcher32"]);
        assert_eq!(meta.chunk_key(&[2, 0]), "2.0");
        assert_eq!(meta.chunk_len(), 40);
        assert!(ArrayMeta::parse(&json!({"shape": [2], "chunks": [0], "dtype": "<i2"})).is_err());
        assert!(ArrayMeta::parse(&json!({"shape": [2], "dtype": "<i2"})).is_err());
    }

    #[test]
    fn hostile_metadata() {
        // A shape of 2^62 is fine to describe (reads visit only the chunks
        // they touch), its element count is known not to fit...
        let huge = ArrayMeta::parse(
            &json!({"shape": [1u64 << 62, 4], "chunks": [1000, 4], "dtype": "<i2"}),
        )
        .expect("parses");
        assert_eq!(huge.element_count(), None);
        assert_eq!(huge.chunk_len(), 4000);
        // ...but chunks whose element count overflows are refused.
        let err = ArrayMeta::parse(
            &json!({"shape": [4, 4], "chunks": [1u64 << 40, 1u64 << 40], "dtype": "<i2"}),
        )
        .expect_err("refused");
        assert!(err.contains("more elements than"), "{err}");
        // Wrong types are errors naming the key, not defaults.
        let err = ArrayMeta::parse(&json!({"shape": [-1], "chunks": [1], "dtype": "<i2"}))
            .expect_err("refused");
        assert!(err.contains("bad .zarray"), "{err}");
        let rank = vec![1; 65];
        assert!(ArrayMeta::parse(&json!({"shape": rank, "chunks": rank, "dtype": "<i2"})).is_err());
        let bad_codec =
            json!({"shape": [1], "chunks": [1], "dtype": "<i2", "compressor": {"id": 5}});
        assert!(ArrayMeta::parse(&bad_codec).is_err());
    }

    #[test]
    fn fletcher32_known_values() {
        // What numcodecs' Fletcher32 (= HDF5's) stores for these inputs.
        assert_eq!(fletcher32(b"abcde"), 0x4ff0_29c7);
        assert_eq!(fletcher32(b"abcdef"), 0x5056_2a2d);
        let long: Vec<u8> = (0..2560u32).map(|i| (i % 256).to_le_bytes()[0]).collect();
        assert_eq!(fletcher32(&long), 0xf0fa_827d);
        let mut data = b"abcdef".to_vec();
        data.extend_from_slice(&0x5056_2a2du32.to_le_bytes());
        assert_eq!(strip_fletcher32(data).expect("checks"), b"abcdef");
        assert!(strip_fletcher32(b"abcdef\0\0\0\0".to_vec()).is_err());
    }

    #[test]
    fn object_codecs() {
        let items = ObjectCodec::Json
            .items(br#"["a",{"_REFERENCE":{"path":"/x"}},"|O",[2]]"#)
            .expect("decodes");
        assert_eq!(items.len(), 2);
        let mut vlen = 2u32.to_le_bytes().to_vec();
        for s in ["hi", ""] {
            vlen.extend_from_slice(&u32::try_from(s.len()).expect("small").to_le_bytes());
            vlen.extend_from_slice(s.as_bytes());
        }
        assert_eq!(
            ObjectCodec::VlenUtf8.items(&vlen).expect("decodes"),
            vec![json!("hi"), json!("")]
        );
        assert!(ObjectCodec::VlenUtf8.items(&vlen[..5]).is_err());
    }
}
