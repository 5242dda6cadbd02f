//! LZ4 as the HDF5 LZ4 filter (32004) frames it, and raw LZ4 blocks.
//!
//! A chunk is the uncompressed size (u64, big-endian), the block size
//! (u32, big-endian), then per block a big-endian u32 compressed length and
//! the LZ4 block; a block whose length equals its uncompressed size is
//! stored as it is. Every block but the last holds the block size.

use crate::{Error, Result};

const CODEC: &str = "lz4";

/// Decodes one chunk of the HDF5 LZ4 filter, at most `max_len` bytes.
pub fn hdf5_filter(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
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
    let block = crate::u32_at(src, 8, true, CODEC)?.min(total);
    if block == 0 && total > 0 {
        return Err(Error::new(CODEC, "block size 0"));
    }
    let mut out = crate::zeroed(total, CODEC)?;
    let mut at = 12usize;
    let mut written = 0usize;
    while written < total {
        let size = block.min(total - written);
        let clen = crate::u32_at(src, at, true, CODEC)?;
        at += 4;
        let stream = at
            .checked_add(clen)
            .and_then(|end| src.get(at..end))
            .ok_or_else(|| Error::new(CODEC, format!("truncated block at offset {at}")))?;
        at += clen;
        let dest = &mut out[written..written + size];
        if clen == size {
            dest.copy_from_slice(stream);
        } else {
            block_into(stream, dest)?;
        }
        written += size;
    }
    Ok(out)
}

/// Decodes one raw LZ4 block into exactly `dest.len()` bytes.
pub fn block_into(src: &[u8], dest: &mut [u8]) -> Result<()> {
    let got = lz4_flex::block::decompress_into(src, dest)
        .map_err(|e| Error::new(CODEC, format!("corrupt block: {e}")))?;
    if got != dest.len() {
        return Err(Error::new(
            CODEC,
            format!("block gave {got} bytes, expected {}", dest.len()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(data: &[u8], block: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&u64::try_from(data.len()).expect("small").to_be_bytes());
        out.extend_from_slice(&u32::try_from(block).expect("small").to_be_bytes());
        for part in data.chunks(block) {
            let c = lz4_flex::block::compress(part);
            let c = if c.len() >= part.len() {
                part.to_vec()
            } else {
                c
            };
            out.extend_from_slice(&u32::try_from(c.len()).expect("small").to_be_bytes());
            out.extend_from_slice(&c);
        }
        out
    }

    #[test]
    fn blocks_compressed_and_stored() {
        let mut data: Vec<u8> = (0..3000u32)
            .map(|i| u8::try_from(i / 100).expect("small"))
            .collect();
        // Incompressible tail: stored as is.
        data.extend((0..100u32).map(|i| u8::try_from((i * 97 + 13) % 256).expect("small")));
        let stored = frame(&data, 1024);
        assert_eq!(hdf5_filter(&stored, data.len()).expect("decodes"), data);
        assert!(hdf5_filter(&stored, data.len() - 1).is_err());
        assert!(hdf5_filter(&stored[..stored.len() - 1], data.len()).is_err());
        let mut huge = stored.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(hdf5_filter(&huge, 1 << 20).is_err());
    }
}
