//! The filters this reader decodes beyond hdf5-reader's built-in ones
//! (deflate, shuffle, fletcher32, szip, nbit, scale-offset): the plugins
//! NWB writers use through hdf5plugin, decoded by `ns-codecs` (pure Rust,
//! so the browser worker has them too), registered with hdf5-reader's
//! filter registry. Lossy plugins are refused with an error naming them.

use hdf5_reader::FilterRegistry;
use hdf5_reader::error::Error as H5Error;
use hdf5_reader::messages::filter_pipeline::FilterDescription;

pub(crate) const BZIP2: u16 = 307;
pub(crate) const LZF: u16 = 32000;
pub(crate) const BLOSC: u16 = 32001;
pub(crate) const LZ4: u16 = 32004;
pub(crate) const BITSHUFFLE: u16 = 32008;
pub(crate) const ZSTD: u16 = 32015;

/// Filters that lose information: their decoders are large C/C++
/// libraries with no pure-Rust equivalent.
const LOSSY: &[(u16, &str)] = &[
    (32012, "jpeg-ls"),
    (32013, "zfp"),
    (32017, "sz"),
    (32018, "fcidecomp"),
    (32024, "sz3"),
    (32028, "sperr"),
    (32029, "htj2k"),
];

/// The most bytes a filter may produce when hdf5-reader gives no limit
/// (an intermediate stage whose bound it cannot compute): the largest
/// chunk it reads at all.
const FALLBACK_LIMIT: usize = hdf5_reader::DEFAULT_MAX_CHUNK_BYTES + 1;

/// A filter's name as users and hdf5plugin know it (`filter_<id>` if unknown).
pub(crate) fn name(id: u16) -> String {
    let known = match id {
        1 => "deflate",
        2 => "shuffle",
        3 => "fletcher32",
        4 => "szip",
        5 => "nbit",
        6 => "scaleoffset",
        BZIP2 => "bzip2",
        LZF => "lzf",
        BLOSC => "blosc",
        LZ4 => "lz4",
        BITSHUFFLE => "bitshuffle",
        ZSTD => "zstd",
        32026 => "blosc2",
        other => match LOSSY.iter().find(|(lossy, _)| *lossy == other) {
            Some((_, name)) => name,
            None => return format!("filter_{other}"),
        },
    };
    known.to_string()
}

/// Whether this reader decodes filter `id`.
pub(crate) fn supported(id: u16) -> bool {
    matches!(id, 1..=6 | BZIP2 | LZF | BLOSC | LZ4 | BITSHUFFLE | ZSTD)
}

/// Why filter `id` cannot be read, for an error naming the dataset.
pub(crate) fn unsupported_reason(filter: &FilterDescription) -> Option<String> {
    if supported(filter.id) {
        return None;
    }
    let stored = filter
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .map(|n| format!(", named \"{n}\" in the file"))
        .unwrap_or_default();
    let what = if LOSSY.iter().any(|(id, _)| *id == filter.id) {
        "is a lossy compression this reader does not decode"
    } else {
        "is not supported (supported: deflate, shuffle, fletcher32, szip, nbit, scaleoffset, \
         lzf, blosc, lz4, bitshuffle, zstd, bzip2)"
    };
    Some(format!(
        "filter {} ({}{stored}) {what}",
        filter.id,
        name(filter.id)
    ))
}

/// One filter's decoder: its description (client data), the stored bytes,
/// the element size, and the most bytes it may produce.
type Decode = fn(&FilterDescription, &[u8], usize, usize) -> ns_codecs::Result<Vec<u8>>;

/// hdf5-reader's registry with every filter this reader adds.
pub(crate) fn registry() -> FilterRegistry {
    let mut registry = FilterRegistry::new();
    let add = |registry: &mut FilterRegistry, id: u16, decode: Decode| {
        registry.register_with_limit(
            id,
            Box::new(move |filter, data, element_size, limit| {
                decode(filter, data, element_size, limit.unwrap_or(FALLBACK_LIMIT)).map_err(|e| {
                    H5Error::DecompressionError(format!("filter {id} ({}): {e}", name(id)))
                })
            }),
        );
    };
    add(&mut registry, BLOSC, |_, data, _, max| {
        ns_codecs::blosc::decompress(data, max)
    });
    add(&mut registry, ZSTD, |_, data, _, max| {
        ns_codecs::zstd(data, max)
    });
    add(&mut registry, LZ4, |_, data, _, max| {
        ns_codecs::lz4::hdf5_filter(data, max)
    });
    add(
        &mut registry,
        BITSHUFFLE,
        |filter, data, element_size, max| {
            ns_codecs::bitshuffle::hdf5_filter(data, &filter.client_data, element_size, max)
        },
    );
    add(&mut registry, LZF, |_, data, _, max| {
        ns_codecs::lzf::decompress(data, max)
    });
    add(&mut registry, BZIP2, |_, data, _, max| {
        ns_codecs::bzip2(data, max)
    });
    registry
}
