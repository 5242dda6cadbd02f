//! Decompression of Blosc (version 1 format) buffers, as the HDF5 Blosc
//! filter (32001) stores each chunk and numcodecs' `blosc` codec (zarr's
//! default compressor, which LINDI uses for every array it stores inline)
//! writes them.
//!
//! A buffer is a 16-byte header (format version, codec version, flags,
//! type size, uncompressed size, block size, compressed size), then either
//! the raw bytes (flag "memcpyed") or a table of block offsets and the
//! blocks. Each block is compressed whole or, when byte-shuffled data
//! allows, as one stream per byte of the element (a "split"), then
//! un-shuffled (bytes or bits). Codecs: BloscLZ, LZ4 (and LZ4HC, same
//! format), Snappy, zlib and Zstd.

use crate::{Error, Result};

const CODEC: &str = "blosc";
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

fn err(message: impl Into<String>) -> Error {
    Error::new(CODEC, message)
}

/// Decompresses one Blosc buffer. `max_len` bounds the uncompressed size
/// (the caller knows how big a chunk can be), so a corrupt header cannot
/// make it allocate more.
pub fn decompress(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    if src.len() < HEADER {
        return Err(err(format!(
            "buffer of {} bytes is shorter than its header",
            src.len()
        )));
    }
    let version = src[0];
    let flags = src[2];
    let typesize = usize::from(src[3]);
    let nbytes = read_u32(src, 4)?;
    let blocksize = read_u32(src, 8)?;
    let cbytes = read_u32(src, 12)?;
    if version == 0 || version > 2 {
        return Err(err(format!("format version {version} is not supported")));
    }
    if nbytes == 0 {
        return Ok(Vec::new());
    }
    if nbytes > max_len {
        return Err(err(format!(
            "buffer says {nbytes} bytes, more than the {max_len} expected"
        )));
    }
    if cbytes > src.len() {
        return Err(err(format!(
            "buffer says {cbytes} compressed bytes but has {}",
            src.len()
        )));
    }
    let src = &src[..cbytes];
    if flags & FLAG_MEMCPYED != 0 {
        return src
            .get(HEADER..HEADER.saturating_add(nbytes))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| err("buffer (uncompressed) is truncated"));
    }
    if flags & FLAG_FUTURE != 0 {
        return Err(err("buffer has flags this reader does not know"));
    }
    if blocksize == 0 || typesize == 0 {
        return Err(err("buffer has a zero block or type size"));
    }
    let codec = Codec::from_format(flags >> 5)?;
    let shuffle = if flags & FLAG_BITSHUFFLE != 0 {
        Shuffle::Bit
    } else if flags & FLAG_SHUFFLE != 0 && typesize > 1 {
        Shuffle::Byte
    } else {
        Shuffle::None
    };
    let dont_split = flags & FLAG_DONT_SPLIT != 0;
    let nblocks = nbytes.div_ceil(blocksize);
    let leftover = nbytes % blocksize;
    // Each block has a 4-byte offset after the header.
    if nblocks
        .checked_mul(4)
        .and_then(|n| n.checked_add(HEADER))
        .is_none_or(|n| n > src.len())
    {
        return Err(err(format!(
            "buffer of {} bytes cannot hold the offsets of its {nblocks} blocks",
            src.len()
        )));
    }
    let mut out = crate::zeroed(nbytes, CODEC)?;
    // The header's block size is only a claim: no block holds more than
    // the whole buffer, so that bounds the staging area.
    let staging = if shuffle == Shuffle::None {
        0
    } else {
        blocksize.min(nbytes)
    };
    let mut tmp = crate::zeroed(staging, CODEC)?;
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
        match shuffle {
            Shuffle::None => decode_block(src, start, nsplits, codec, dest)?,
            Shuffle::Byte => {
                let staged = &mut tmp[..bsize];
                decode_block(src, start, nsplits, codec, staged)?;
                crate::unshuffle(typesize, staged, dest);
            }
            Shuffle::Bit => {
                let staged = &mut tmp[..bsize];
                decode_block(src, start, nsplits, codec, staged)?;
                bit_unshuffle(typesize, staged, dest);
            }
        }
    }
    Ok(out)
}

/// Blosc 1's bit unshuffle of one block: the whole block when it holds a
/// multiple of 8 elements, otherwise the block was stored unshuffled.
fn bit_unshuffle(typesize: usize, src: &[u8], dest: &mut [u8]) {
    let count = src.len() / typesize;
    if count.is_multiple_of(8) {
        let whole = count * typesize;
        crate::bitshuffle::untranspose(&src[..whole], &mut dest[..whole], typesize);
        dest[whole..].copy_from_slice(&src[whole..]);
    } else {
        dest.copy_from_slice(src);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shuffle {
    None,
    Byte,
    Bit,
}

/// Decodes one block at `start` of `src` into `dest` (its exact size).
fn decode_block(
    src: &[u8],
    mut start: usize,
    nsplits: usize,
    codec: Codec,
    dest: &mut [u8],
) -> Result<()> {
    let neblock = dest.len() / nsplits;
    for part in dest.chunks_exact_mut(neblock).take(nsplits) {
        let cbytes = read_u32(src, start)?;
        start = start.saturating_add(4);
        let stream = src
            .get(start..start.saturating_add(cbytes))
            .ok_or_else(|| err("block is truncated"))?;
        start = start.saturating_add(cbytes);
        if cbytes == neblock {
            part.copy_from_slice(stream);
        } else {
            codec.decompress(stream, part)?;
        }
    }
    Ok(())
}

/// The codec inside a Blosc buffer (the top three bits of its flags).
#[derive(Debug, Clone, Copy)]
enum Codec {
    BloscLz,
    Lz4,
    Snappy,
    Zlib,
    Zstd,
}

impl Codec {
    fn from_format(format: u8) -> Result<Self> {
        match format {
            0 => Ok(Codec::BloscLz),
            1 => Ok(Codec::Lz4),
            2 => Ok(Codec::Snappy),
            3 => Ok(Codec::Zlib),
            4 => Ok(Codec::Zstd),
            other => Err(err(format!("codec {other} is unknown"))),
        }
    }

    /// Decompresses `src` into exactly `dest.len()` bytes.
    fn decompress(self, src: &[u8], dest: &mut [u8]) -> Result<()> {
        match self {
            Codec::BloscLz => crate::blosclz::decompress(src, dest),
            Codec::Lz4 => crate::lz4::block_into(src, dest).map_err(|e| err(e.to_string())),
            Codec::Snappy => {
                let n = snap::raw::decompress_len(src)
                    .map_err(|e| err(format!("snappy stream: {e}")))?;
                if n != dest.len() {
                    return Err(err(format!(
                        "snappy stream says {n} bytes, expected {}",
                        dest.len()
                    )));
                }
                snap::raw::Decoder::new()
                    .decompress(src, dest)
                    .map(|_| ())
                    .map_err(|e| err(format!("snappy stream: {e}")))
            }
            Codec::Zlib => crate::read_exact_all(
                flate2::read::ZlibDecoder::new(src),
                dest,
                "blosc (zlib stream)",
            ),
            Codec::Zstd => {
                let decoder = ruzstd::decoding::StreamingDecoder::new(src)
                    .map_err(|e| err(format!("zstd stream: {e}")))?;
                crate::read_exact_all(decoder, dest, "blosc (zstd stream)")
            }
        }
    }
}

fn read_u32(src: &[u8], at: usize) -> Result<usize> {
    crate::u32_at(src, at, false, CODEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memcpyed_buffer() {
        // numcodecs Blosc of b"abc" (too small to compress): copied after the header.
        let mut buf = vec![2, 1, 0x13, 1, 3, 0, 0, 0, 3, 0, 0, 0, 19, 0, 0, 0];
        buf.extend_from_slice(b"abc");
        assert_eq!(decompress(&buf, 3).expect("decodes"), b"abc");
        assert!(decompress(&buf, 2).is_err(), "larger than expected");
        assert!(decompress(&buf[..10], 3).is_err(), "truncated");
    }

    /// One block of `data` (typesize 1, no split) compressed by `codec`.
    fn single_block(
        codec_bits: u8,
        extra_flags: u8,
        typesize: u8,
        stream: &[u8],
        n: usize,
    ) -> Vec<u8> {
        let n32 = u32::try_from(n).expect("small");
        let mut buf = vec![2, 1, (codec_bits << 5) | 0x10 | extra_flags, typesize];
        buf.extend_from_slice(&n32.to_le_bytes());
        buf.extend_from_slice(&n32.to_le_bytes());
        let total = 16 + 4 + 4 + stream.len();
        buf.extend_from_slice(&u32::try_from(total).expect("small").to_le_bytes());
        buf.extend_from_slice(&20u32.to_le_bytes());
        buf.extend_from_slice(&u32::try_from(stream.len()).expect("small").to_le_bytes());
        buf.extend_from_slice(stream);
        buf
    }

    #[test]
    fn lz4_single_block() {
        // An LZ4 block of 256 bytes of 7s, shuffle off, no split (typesize 1).
        let data = vec![7u8; 256];
        let stream = lz4_flex::block::compress(&data);
        let buf = single_block(1, 0, 1, &stream, 256);
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
    fn zstd_snappy_and_bitshuffle_blocks() {
        let data: Vec<u8> = (0..512u32)
            .map(|i| u8::try_from(i / 3 % 256).expect("small"))
            .collect();
        let zstd = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        assert_eq!(
            decompress(&single_block(4, 0, 1, &zstd, 512), 512).expect("zstd"),
            data
        );
        let snappy = snap::raw::Encoder::new()
            .compress_vec(&data)
            .expect("snappy");
        assert_eq!(
            decompress(&single_block(2, 0, 1, &snappy, 512), 512).expect("snappy"),
            data
        );
        // Bit-shuffled 4-byte elements (128 of them, a multiple of 8).
        let shuffled = crate::bitshuffle::tests::transpose(&data, 4);
        let stream = lz4_flex::block::compress(&shuffled);
        let buf = single_block(1, FLAG_BITSHUFFLE, 4, &stream, 512);
        assert_eq!(decompress(&buf, 512).expect("bitshuffle"), data);
    }

    #[test]
    fn hostile_headers() {
        // 4 GB uncompressed: refused before anything is allocated.
        let mut buf = vec![2, 1, 0x20, 1];
        buf.extend_from_slice(&u32::MAX.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        buf.extend_from_slice(&16u32.to_le_bytes());
        let e = decompress(&buf, 1 << 20).expect_err("too big");
        assert!(e.message.contains("more than the 1048576 expected"), "{e}");
        // 1 MB in blocks of 1 byte: a million block offsets that the 16-byte
        // buffer does not have.
        buf[4..8].copy_from_slice(&(1u32 << 20).to_le_bytes());
        let e = decompress(&buf, 1 << 20).expect_err("no offsets");
        assert!(e.message.contains("cannot hold the offsets"), "{e}");
        // Memcpyed with a claimed size past the end.
        buf[2] = FLAG_MEMCPYED;
        assert!(decompress(&buf, 1 << 20).is_err());
        // What the blosc fuzz target found on the code before issue 6's fix
        // (a 4 GB staging allocation from the block size of a shuffled
        // 1146-byte buffer): now an error about the buffer itself.
        let found = [
            0x02, 0x01, 0x61, 0x06, 0x7a, 0x04, 0x00, 0x00, 0xb0, 0x80, 0xfe, 0xff, 0x19, 0x00,
            0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,
        ];
        assert!(decompress(&found, 1 << 20).is_err());
    }
}
