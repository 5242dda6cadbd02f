//! Bitshuffle: the bit transpose (inside Blosc, and the HDF5 filter 32008,
//! alone or with LZ4 or Zstd inside), decoder only, written from the format.
//!
//! A block of `n` elements (`n` a multiple of 8) of `s` bytes is stored as
//! `8 s` rows of `n / 8` bytes: row `8 j + k` holds bit `k` of byte `j` of
//! every element, element `i` at bit `i % 8` of byte `i / 8`.
//!
//! The HDF5 filter splits a chunk into blocks of `block` elements (from the
//! filter's parameters, or Bitshuffle's default), then one block of the
//! remaining elements rounded down to a multiple of 8; the last `n % 8`
//! elements are stored as they are. With compression, the chunk starts with
//! its size (u64, big-endian) and the block size in bytes (u32, big-endian),
//! and each block is a big-endian u32 length followed by an LZ4 block or a
//! Zstd frame of the transposed bytes.

use crate::{Error, Result};

const CODEC: &str = "bitshuffle";
/// Block sizes are multiples of this many elements.
const BLOCKED_MULT: usize = 8;
/// Bitshuffle's default block: about 8 KiB, at least 128 elements.
const TARGET_BLOCK_BYTES: usize = 8192;
const MIN_RECOMMEND_BLOCK: usize = 128;

/// The HDF5 filter's compression codes (`cd_values[4]`).
const COMPRESS_NONE: u32 = 0;
const COMPRESS_LZ4: u32 = 2;
const COMPRESS_ZSTD: u32 = 3;

/// Undoes the bit transpose of `count` elements of `elem_size` bytes
/// (`count` a multiple of 8): `src` and `dest` hold `count * elem_size` bytes.
pub fn untranspose(src: &[u8], dest: &mut [u8], elem_size: usize) {
    let len = src.len().min(dest.len());
    if elem_size == 0 {
        return;
    }
    let count = len / elem_size / 8 * 8;
    let row = count / 8;
    if row == 0 {
        return;
    }
    for j in 0..elem_size {
        for b in 0..row {
            // Byte b of rows 8j..8j+8, one per byte of x.
            let mut x = 0u64;
            for k in 0..8 {
                x |= u64::from(src[(j * 8 + k) * row + b]) << (8 * k);
            }
            let x = transpose_8x8(x);
            for (m, byte) in x.to_le_bytes().into_iter().enumerate() {
                dest[(b * 8 + m) * elem_size + j] = byte;
            }
        }
    }
}

/// Transposes the 8×8 bit matrix held in `x` (byte `r`, bit `c`) so that
/// bit `c` of byte `r` becomes bit `r` of byte `c`.
fn transpose_8x8(mut x: u64) -> u64 {
    let mut t = (x ^ (x >> 7)) & 0x00AA_00AA_00AA_00AA;
    x = x ^ t ^ (t << 7);
    t = (x ^ (x >> 14)) & 0x0000_CCCC_0000_CCCC;
    x = x ^ t ^ (t << 14);
    t = (x ^ (x >> 28)) & 0x0000_0000_F0F0_F0F0;
    x ^ t ^ (t << 28)
}

/// Bitshuffle's default block size in elements for `elem_size`.
fn default_block(elem_size: usize) -> usize {
    let block = TARGET_BLOCK_BYTES / elem_size / BLOCKED_MULT * BLOCKED_MULT;
    block.max(MIN_RECOMMEND_BLOCK)
}

/// Decodes one chunk of the HDF5 Bitshuffle filter (32008). `params` are
/// the filter's client data (`[major, minor, elem_size, block_size,
/// compression, ...]`), `elem_size` HDF5's element size (used when the
/// parameters lack it); at most `max_len` bytes come out.
pub fn hdf5_filter(
    src: &[u8],
    params: &[u32],
    elem_size: usize,
    max_len: usize,
) -> Result<Vec<u8>> {
    let param = |i: usize| params.get(i).copied();
    let elem_size = match param(2) {
        Some(s) if s > 0 => usize::try_from(s)
            .map_err(|_| Error::new(CODEC, format!("element size {s} does not fit")))?,
        _ => elem_size,
    };
    if elem_size == 0 {
        return Err(Error::new(CODEC, "element size 0"));
    }
    let compression = param(4).unwrap_or(COMPRESS_NONE);
    let (total, block_elems, body) = match compression {
        COMPRESS_LZ4 | COMPRESS_ZSTD => {
            let total = crate::u64_be_at(src, 0, CODEC)?;
            let total = usize::try_from(total)
                .ok()
                .filter(|t| *t <= max_len)
                .ok_or_else(|| {
                    Error::new(
                        CODEC,
                        format!("chunk says {total} bytes, more than the {max_len} expected"),
                    )
                })?;
            let block_bytes = crate::u32_at(src, 8, true, CODEC)?;
            (total, block_bytes / elem_size, &src[12..])
        }
        COMPRESS_NONE => {
            if src.len() > max_len {
                return Err(Error::new(
                    CODEC,
                    format!(
                        "chunk of {} bytes, more than the {max_len} expected",
                        src.len()
                    ),
                ));
            }
            let block = match param(3) {
                Some(b) if b > 0 => usize::try_from(b)
                    .map_err(|_| Error::new(CODEC, format!("block size {b} does not fit")))?,
                _ => default_block(elem_size),
            };
            (src.len(), block, src)
        }
        other => {
            return Err(Error::new(
                CODEC,
                format!("compression code {other} is unknown (0 none, 2 lz4, 3 zstd)"),
            ));
        }
    };
    if !total.is_multiple_of(elem_size) {
        return Err(Error::new(
            CODEC,
            format!("{total} bytes is not a whole number of {elem_size}-byte elements"),
        ));
    }
    if block_elems == 0 || !block_elems.is_multiple_of(BLOCKED_MULT) {
        return Err(Error::new(
            CODEC,
            format!("block of {block_elems} elements is not a positive multiple of 8"),
        ));
    }
    let count = total / elem_size;
    let mut out = crate::zeroed(total, CODEC)?;
    let mut blocks: Vec<usize> = vec![block_elems; count / block_elems];
    let last = count % block_elems / BLOCKED_MULT * BLOCKED_MULT;
    if last > 0 {
        blocks.push(last);
    }
    let mut at = 0usize;
    let mut written = 0usize;
    let mut staged = Vec::new();
    for n in blocks {
        let bytes = n * elem_size;
        let dest = &mut out[written..written + bytes];
        match compression {
            COMPRESS_NONE => {
                let raw = body
                    .get(at..at + bytes)
                    .ok_or_else(|| Error::new(CODEC, "truncated block"))?;
                untranspose(raw, dest, elem_size);
                at += bytes;
            }
            _ => {
                let clen = crate::u32_at(body, at, true, CODEC)?;
                at += 4;
                let stream = at
                    .checked_add(clen)
                    .and_then(|end| body.get(at..end))
                    .ok_or_else(|| Error::new(CODEC, "truncated compressed block"))?;
                at += clen;
                staged.clear();
                staged.resize(bytes, 0);
                if compression == COMPRESS_LZ4 {
                    let got = lz4_flex::block::decompress_into(stream, &mut staged)
                        .map_err(|e| Error::new(CODEC, format!("lz4 block: {e}")))?;
                    if got != bytes {
                        return Err(Error::new(
                            CODEC,
                            format!("lz4 block gave {got} bytes, expected {bytes}"),
                        ));
                    }
                } else {
                    let decoder = ruzstd::decoding::StreamingDecoder::new(stream)
                        .map_err(|e| Error::new(CODEC, format!("zstd block: {e}")))?;
                    crate::read_exact_all(decoder, &mut staged, "bitshuffle (zstd block)")?;
                }
                untranspose(&staged, dest, elem_size);
            }
        }
        written += bytes;
    }
    // The last elements (fewer than 8) are stored as they are.
    let rest = total - written;
    let raw = body
        .get(at..at + rest)
        .ok_or_else(|| Error::new(CODEC, "truncated trailing elements"))?;
    out[written..].copy_from_slice(raw);
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The forward transpose, straight from the definition.
    pub(crate) fn transpose(src: &[u8], elem_size: usize) -> Vec<u8> {
        let count = src.len() / elem_size;
        let row = count / 8;
        let mut out = vec![0u8; src.len()];
        for i in 0..count {
            for j in 0..elem_size {
                for k in 0..8 {
                    if src[i * elem_size + j] >> k & 1 == 1 {
                        out[(j * 8 + k) * row + i / 8] |= 1 << (i % 8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn untranspose_inverts_the_definition() {
        for elem_size in [1usize, 2, 3, 4, 8] {
            let data: Vec<u8> = (0..64 * elem_size)
                .map(|i| u8::try_from((i * 37 + 11) % 251).expect("small"))
                .collect();
            let shuffled = transpose(&data, elem_size);
            let mut back = vec![0u8; data.len()];
            untranspose(&shuffled, &mut back, elem_size);
            assert_eq!(back, data, "elem_size {elem_size}");
        }
    }

    #[test]
    fn uncompressed_filter_with_short_last_block_and_leftovers() {
        // 21 int16 values in blocks of 8: two blocks, then the last 5
        // elements (fewer than 8) stored as they are.
        let data: Vec<u8> = (0..42u8).collect();
        let mut stored = transpose(&data[..16], 2);
        stored.extend(transpose(&data[16..32], 2));
        stored.extend_from_slice(&data[32..]);
        let out = hdf5_filter(&stored, &[0, 3, 2, 8, 0], 2, 42).expect("decodes");
        assert_eq!(out, data);
        assert!(hdf5_filter(&stored, &[0, 3, 2, 8, 0], 2, 41).is_err());
        assert!(hdf5_filter(&stored, &[0, 3, 2, 7, 0], 2, 42).is_err());
    }

    #[test]
    fn lz4_filter_and_hostile_headers() {
        let data: Vec<u8> = (0..4000u32).flat_map(|i| (i / 7).to_le_bytes()).collect();
        let block = 512usize; // elements
        let mut stored = Vec::new();
        stored.extend_from_slice(&u64::try_from(data.len()).expect("small").to_be_bytes());
        stored.extend_from_slice(&u32::try_from(block * 4).expect("small").to_be_bytes());
        let n = data.len() / 4;
        let mut at = 0;
        let mut sizes = vec![block; n / block];
        if n % block / 8 * 8 > 0 {
            sizes.push(n % block / 8 * 8);
        }
        for size in sizes {
            let t = transpose(&data[at..at + size * 4], 4);
            let c = lz4_flex::block::compress(&t);
            stored.extend_from_slice(&u32::try_from(c.len()).expect("small").to_be_bytes());
            stored.extend_from_slice(&c);
            at += size * 4;
        }
        stored.extend_from_slice(&data[at..]);
        let out = hdf5_filter(&stored, &[0, 3, 4, 0, 2], 4, data.len()).expect("decodes");
        assert_eq!(out, data);
        // A size claim past the bound is refused before allocating.
        let mut huge = stored.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(hdf5_filter(&huge, &[0, 3, 4, 0, 2], 4, data.len()).is_err());
        // A block length past the end.
        let mut bad = stored.clone();
        bad[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(hdf5_filter(&bad, &[0, 3, 4, 0, 2], 4, data.len()).is_err());
        assert!(hdf5_filter(&stored[..40], &[0, 3, 4, 0, 2], 4, data.len()).is_err());
    }
}
