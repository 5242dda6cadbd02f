//! Decompression of Blosc (version 1 format) buffers, as numcodecs' `blosc`
//! codec writes them. zarr's default compressor is Blosc with LZ4 and byte
//! shuffle, and LINDI uses it for every array it stores inline, so this is
//! needed for nearly every LINDI file.
//!
//! A buffer is a 16-byte header (format version, codec version, flags,
//! type size, uncompressed size, block size, compressed size), then either
//! the raw bytes (flag "memcpyed") or a table of block offsets and the
//! blocks. Each block is compressed whole or, when byte-shuffled data
//! allows, as one stream per byte of the element (a "split"), then
//! un-shuffled. Supported codecs: LZ4 (and LZ4HC, same format) and zlib;
//! BloscLZ, Snappy, Zstd and bit-shuffle give a clear error.

use std::io::Read;

const HEADER: usize = 16;
const FLAG_SHUFFLE: u8 = 0x1;
const FLAG_MEMCPYED: u8 = 0x2;
const FLAG_BITSHUFFLE: u8 = 0x4;
const FLAG_FUTURE: u8 = 0x8;
const FLAG_DONT_SPLIT: u8 = 0x10;
/// Splits happen only for type sizes up to this...
const MAX_SPLITS: usize = 16;
/// ...and blocks of at least this many elements.
const MIN_BUFFERSIZE: usize = 128;

/// Decompresses one Blosc buffer. `max_len` bounds the uncompressed size
/// (the caller knows how big a chunk can be), so a corrupt header cannot
/// make it allocate more.
pub(crate) fn decompress(src: &[u8], max_len: usize) -> Result<Vec<u8>, String> {
    if src.len() < HEADER {
        return Err(format!(
            "blosc buffer of {} bytes is shorter than its header",
            src.len()
        ));
    }
    let version = src[0];
    let flags = src[2];
    let typesize = usize::from(src[3]);
    let nbytes = read_u32(src, 4)?;
    let blocksize = read_u32(src, 8)?;
    let cbytes = read_u32(src, 12)?;
    if version == 0 || version > 2 {
        return Err(format!("blosc format version {version} is not supported"));
    }
    if nbytes == 0 {
        return Ok(Vec::new());
    }
    if nbytes > max_len {
        return Err(format!(
            "blosc buffer says {nbytes} bytes, more than the {max_len} expected"
        ));
    }
    if cbytes > src.len() {
        return Err(format!(
            "blosc buffer says {cbytes} compressed bytes but has {}",
            src.len()
        ));
    }
    let src = &src[..cbytes];
    if flags & FLAG_MEMCPYED != 0 {
        return src
            .get(HEADER..HEADER.saturating_add(nbytes))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| "blosc buffer (uncompressed) is truncated".to_string());
    }
    if flags & FLAG_FUTURE != 0 {
        return Err("blosc buffer has flags this reader does not know".into());
    }
    if flags & FLAG_BITSHUFFLE != 0 {
        return Err("blosc bit-shuffle is not supported".into());
    }
    if blocksize == 0 || typesize == 0 {
        return Err("blosc buffer has a zero block or type size".into());
    }
    let codec = Codec::from_format(flags >> 5)?;
    let shuffle = flags & FLAG_SHUFFLE != 0 && typesize > 1;
    let dont_split = flags & FLAG_DONT_SPLIT != 0;
    let nblocks = nbytes.div_ceil(blocksize);
    let leftover = nbytes % blocksize;
    // Each block has a 4-byte offset after the header.
    if nblocks
        .checked_mul(4)
        .and_then(|n| n.checked_add(HEADER))
        .is_none_or(|n| n > src.len())
    {
        return Err(format!(
            "blosc buffer of {} bytes cannot hold the offsets of its {nblocks} blocks",
            src.len()
        ));
    }
    let mut out = vec![0u8; nbytes];
    // The header's block size is only a claim: no block holds more than
    // the whole buffer, so that bounds the staging area.
    let mut tmp = vec![0u8; if shuffle { blocksize.min(nbytes) } else { 0 }];
    for j in 0..nblocks {
        let is_leftover = j == nblocks - 1 && leftover > 0;
        let bsize = if is_leftover { leftover } else { blocksize };
        let start = read_u32(src, HEADER + 4 * j)?;
        let dest = &mut out[j * blocksize..j * blocksize + bsize];
        let nsplits = if !dont_split
            && typesize <= MAX_SPLITS
            && bsize / typesize >= MIN_BUFFERSIZE
            && !is_leftover
        {
            typesize
        } else {
            1
        };
        if shuffle {
            let staged = &mut tmp[..bsize];
            decode_block(src, start, nsplits, codec, staged)?;
            unshuffle(typesize, staged, dest);
        } else {
            decode_block(src, start, nsplits, codec, dest)?;
        }
    }
    Ok(out)
}

/// Decodes one block at `start` of `src` into `dest` (its exact size).
fn decode_block(
    src: &[u8],
    mut start: usize,
    nsplits: usize,
    codec: Codec,
    dest: &mut [u8],
) -> Result<(), String> {
    let neblock = dest.len() / nsplits;
    for part in dest.chunks_exact_mut(neblock).take(nsplits) {
        let cbytes = read_u32(src, start)?;
        start = start.saturating_add(4);
        let stream = src
            .get(start..start.saturating_add(cbytes))
            .ok_or_else(|| "blosc block is truncated".to_string())?;
        start = start.saturating_add(cbytes);
        if cbytes == neblock {
            part.copy_from_slice(stream);
        } else {
            codec.decompress(stream, part)?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Codec {
    Lz4,
    Zlib,
}

impl Codec {
    fn from_format(format: u8) -> Result<Self, String> {
        match format {
            1 => Ok(Codec::Lz4),
            3 => Ok(Codec::Zlib),
            0 => Err("blosc with the blosclz codec is not supported (lz4 and zlib are)".into()),
            2 => Err("blosc with the snappy codec is not supported (lz4 and zlib are)".into()),
            4 => Err("blosc with the zstd codec is not supported (lz4 and zlib are)".into()),
            other => Err(format!("blosc codec {other} is unknown")),
        }
    }

    /// Decompresses `src` into exactly `dest.len()` bytes.
    fn decompress(self, src: &[u8], dest: &mut [u8]) -> Result<(), String> {
        match self {
            Codec::Lz4 => {
                let n = lz4_flex::block::decompress_into(src, dest)
                    .map_err(|e| format!("blosc lz4 stream: {e}"))?;
                if n != dest.len() {
                    return Err(format!(
                        "blosc lz4 stream gave {n} bytes, expected {}",
                        dest.len()
                    ));
                }
            }
            Codec::Zlib => {
                let mut decoder = flate2::read::ZlibDecoder::new(src);
                decoder
                    .read_exact(dest)
                    .map_err(|e| format!("blosc zlib stream: {e}"))?;
            }
        }
        Ok(())
    }
}

/// Reverses a byte shuffle of `src` (elements of `typesize` bytes stored
/// byte plane by byte plane; a remainder that is not a whole element is
/// stored as is). Also what HDF5's and numcodecs' shuffle filters do.
pub(crate) fn unshuffle(typesize: usize, src: &[u8], dest: &mut [u8]) {
    let count = src.len() / typesize;
    for (j, plane) in src.chunks_exact(count.max(1)).take(typesize).enumerate() {
        if count == 0 {
            break;
        }
        for (i, b) in plane.iter().enumerate() {
            dest[i * typesize + j] = *b;
        }
    }
    let whole = count * typesize;
    dest[whole..].copy_from_slice(&src[whole..]);
}

fn read_u32(src: &[u8], at: usize) -> Result<usize, String> {
    let bytes = src
        .get(at..at.saturating_add(4))
        .ok_or_else(|| "blosc buffer is truncated".to_string())?;
    let v = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    usize::try_from(v).map_err(|_| "blosc size does not fit in memory".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_with_remainder() {
        // Two 4-byte elements shuffled, then one trailing byte.
        let src = [1, 5, 2, 6, 3, 7, 4, 8, 9];
        let mut dest = [0u8; 9];
        unshuffle(4, &src, &mut dest);
        assert_eq!(dest, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut short = [0u8; 3];
        unshuffle(4, &[1, 2, 3], &mut short);
        assert_eq!(short, [1, 2, 3]);
    }

    #[test]
    fn memcpyed_buffer() {
        // numcodecs Blosc of b"abc" (too small to compress): copied after the header.
        let mut buf = vec![2, 1, 0x13, 1, 3, 0, 0, 0, 3, 0, 0, 0, 19, 0, 0, 0];
        buf.extend_from_slice(b"abc");
        assert_eq!(decompress(&buf, 3).expect("decodes"), b"abc");
        assert!(decompress(&buf, 2).is_err(), "larger than expected");
        assert!(decompress(&buf[..10], 3).is_err(), "truncated");
    }

    #[test]
    fn lz4_single_block() {
        // An LZ4 block of 256 bytes of 7s, shuffle off, no split (typesize 1).
        let data = vec![7u8; 256];
        let stream = lz4_flex::block::compress(&data);
        let mut buf = vec![2, 1, 0x20 | 0x10, 1];
        buf.extend_from_slice(&256u32.to_le_bytes());
        buf.extend_from_slice(&256u32.to_le_bytes());
        let total = 16 + 4 + 4 + stream.len();
        buf.extend_from_slice(&u32::try_from(total).expect("small").to_le_bytes());
        buf.extend_from_slice(&20u32.to_le_bytes());
        buf.extend_from_slice(&u32::try_from(stream.len()).expect("small").to_le_bytes());
        buf.extend_from_slice(&stream);
        assert_eq!(decompress(&buf, 1024).expect("decodes"), data);
        // Corrupt the stream length: an error, not a panic.
        let mut bad = buf.clone();
        bad[20] = 200;
        assert!(decompress(&bad, 1024).is_err());
        // A block size of 4 GB (shuffled, so a block is staged): the block
        // is the buffer's 256 bytes, not a 4 GB allocation.
        let mut huge_block = buf.clone();
        huge_block[2] |= FLAG_SHUFFLE;
        huge_block[3] = 2;
        huge_block[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let out = decompress(&huge_block, 1024).expect("decodes");
        assert_eq!(out, data);
    }

    #[test]
    fn hostile_headers() {
        // 4 GB uncompressed: refused before anything is allocated.
        let mut buf = vec![2, 1, 0x20, 1];
        buf.extend_from_slice(&u32::MAX.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        buf.extend_from_slice(&16u32.to_le_bytes());
        let err = decompress(&buf, 1 << 20).expect_err("too big");
        assert!(err.contains("more than the 1048576 expected"), "{err}");
        // 1 MB in blocks of 1 byte: a million block offsets that the 16-byte
        // buffer does not have.
        buf[4..8].copy_from_slice(&(1u32 << 20).to_le_bytes());
        let err = decompress(&buf, 1 << 20).expect_err("no offsets");
        assert!(err.contains("cannot hold the offsets"), "{err}");
        // Memcpyed with a claimed size past the end.
        buf[2] = FLAG_MEMCPYED;
        assert!(decompress(&buf, 1 << 20).is_err());
        // What the blosc fuzz target found on the code before the fix
        // (a 4 GB staging allocation from the block size of a shuffled
        // 1146-byte buffer): now an error about the buffer itself.
        let found = [
            0x02, 0x01, 0x61, 0x06, 0x7a, 0x04, 0x00, 0x00, 0xb0, 0x80, 0xfe, 0xff, 0x19, 0x00,
            0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
        ];
        assert!(decompress(&found, 1 << 20).is_err());
    }
}
