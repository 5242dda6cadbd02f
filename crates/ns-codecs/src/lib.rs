//! Pure-Rust decompressors for the HDF5 filter plugins NWB writers use
//! (through hdf5plugin) and for zarr's codecs: Blosc (every internal codec,
//! byte and bit shuffle), Zstandard, LZ4 (HDF5 framing), Bitshuffle (alone,
//! with LZ4 or with Zstd inside), LZF and BZip2.
//!
//! Every function takes `max_len`, the most bytes it may produce (the caller
//! knows how big a chunk is): a buffer that claims or expands to more is an
//! error, and nothing is allocated by a size the input claims beyond it.
//! Nothing here knows about files; errors say which codec and what is wrong,
//! and the caller adds where.

pub mod bitshuffle;
pub mod blosc;
mod blosclz;
mod error;
pub mod lz4;
pub mod lzf;
mod shuffle;

use std::io::Read;

pub use error::{Error, Result};
pub use shuffle::unshuffle;

/// A Zstandard frame (HDF5 filter 32015, numcodecs `zstd`).
pub fn zstd(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    let decoder = ruzstd::decoding::StreamingDecoder::new(src)
        .map_err(|e| Error::new("zstd", format!("bad frame header: {e}")))?;
    read_bounded(decoder, max_len, "zstd")
}

/// A bzip2 stream (HDF5 filter 307, numcodecs `bz2`).
pub fn bzip2(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    read_bounded(bzip2_rs::DecoderReader::new(src), max_len, "bzip2")
}

/// A zlib stream (HDF5's deflate, numcodecs `zlib`).
pub fn zlib(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    read_bounded(flate2::read::ZlibDecoder::new(src), max_len, "zlib")
}

/// A gzip stream (numcodecs `gzip`).
pub fn gzip(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    read_bounded(flate2::read::GzDecoder::new(src), max_len, "gzip")
}

/// Everything `reader` gives, as long as that is at most `max_len` bytes.
/// The buffer grows with what is actually decoded, never by a claimed size.
pub(crate) fn read_bounded(
    reader: impl Read,
    max_len: usize,
    codec: &'static str,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| Error::new(codec, format!("corrupt stream: {e}")))?;
    if out.len() > max_len {
        return Err(Error::new(
            codec,
            format!("decodes to more than the {max_len} bytes expected"),
        ));
    }
    Ok(out)
}

/// Decodes exactly `dest.len()` bytes from `reader`, which must then end.
pub(crate) fn read_exact_all(
    mut reader: impl Read,
    dest: &mut [u8],
    codec: &'static str,
) -> Result<()> {
    reader.read_exact(dest).map_err(|e| {
        Error::new(
            codec,
            format!("stream gave fewer than {} bytes: {e}", dest.len()),
        )
    })?;
    let mut extra = [0u8; 1];
    match reader.read(&mut extra) {
        Ok(0) => Ok(()),
        Ok(_) => Err(Error::new(
            codec,
            format!("stream gave more than {} bytes", dest.len()),
        )),
        Err(e) => Err(Error::new(codec, format!("corrupt stream end: {e}"))),
    }
}

/// Reads a little- or big-endian `u32` at `at` as a `usize`.
pub(crate) fn u32_at(
    src: &[u8],
    at: usize,
    big_endian: bool,
    codec: &'static str,
) -> Result<usize> {
    let bytes: [u8; 4] = at
        .checked_add(4)
        .and_then(|end| src.get(at..end))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::new(
                codec,
                format!("truncated: no 4 bytes at offset {at} of {}", src.len()),
            )
        })?;
    let v = if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    };
    usize::try_from(v).map_err(|_| Error::new(codec, format!("size {v} does not fit in memory")))
}

/// Reads a big-endian `u64` at `at`.
pub(crate) fn u64_be_at(src: &[u8], at: usize, codec: &'static str) -> Result<u64> {
    let bytes: [u8; 8] = at
        .checked_add(8)
        .and_then(|end| src.get(at..end))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::new(
                codec,
                format!("truncated: no 8 bytes at offset {at} of {}", src.len()),
            )
        })?;
    Ok(u64::from_be_bytes(bytes))
}

/// A zeroed buffer of `len` bytes, or an error if it cannot be had.
pub(crate) fn zeroed(len: usize, codec: &'static str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len)
        .map_err(|_| Error::new(codec, format!("cannot allocate {len} bytes")))?;
    out.resize(len, 0);
    Ok(out)
}
