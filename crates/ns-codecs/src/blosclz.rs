//! BloscLZ, Blosc's own LZ77 codec (derived from FastLZ level 1), decoder
//! only, written from the format: a stream of instructions, each a control
//! byte, the first one's top three bits a marker.
//!
//! - control < 32: a literal run of `control + 1` bytes follows.
//! - otherwise a match: length code `control >> 5` (7 = extended by bytes
//!   that follow, each 255 adding 255 and continuing), then one distance
//!   byte; the distance is `((control & 31) << 8) + byte + 1`, except that
//!   the pair (31, 255) is followed by a 16-bit big-endian far distance
//!   `d`, meaning `d + 8191 + 1`. The match copies `length + 2` bytes (the
//!   code minus one, plus three) from that far back, byte by byte, so it
//!   may overlap what it writes (a run).

use crate::{Error, Result};

const MAX_DISTANCE: usize = 8191;

/// Decodes `src` into exactly `dest.len()` bytes.
pub(crate) fn decompress(src: &[u8], dest: &mut [u8]) -> Result<()> {
    let err = |message: String| Error::new("blosc (blosclz)", message);
    let mut ip = 0usize;
    let mut op = 0usize;
    let Some(&first) = src.first() else {
        return Err(err("empty stream".into()));
    };
    let mut ctrl = usize::from(first & 31);
    ip += 1;
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let mut ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    let code = *src
                        .get(ip)
                        .ok_or_else(|| err("truncated match length".into()))?;
                    ip += 1;
                    len += usize::from(code);
                    if code != 255 {
                        break;
                    }
                }
            }
            let code = *src
                .get(ip)
                .ok_or_else(|| err("truncated match distance".into()))?;
            ip += 1;
            len += 3;
            let mut distance = ofs + usize::from(code) + 1;
            if code == 255 && ofs == 31 << 8 {
                let far = src
                    .get(ip..ip + 2)
                    .ok_or_else(|| err("truncated far distance".into()))?;
                ip += 2;
                ofs = (usize::from(far[0]) << 8) + usize::from(far[1]);
                distance = ofs + MAX_DISTANCE + 1;
            }
            if distance > op {
                return Err(err(format!(
                    "match {distance} bytes back at output byte {op}"
                )));
            }
            if op + len > dest.len() {
                return Err(err(format!(
                    "decodes to more than the {} bytes expected",
                    dest.len()
                )));
            }
            let from = op - distance;
            if distance >= len {
                dest.copy_within(from..from + len, op);
            } else {
                for i in 0..len {
                    dest[op + i] = dest[from + i];
                }
            }
            op += len;
        } else {
            let len = ctrl + 1;
            if op + len > dest.len() {
                return Err(err(format!(
                    "decodes to more than the {} bytes expected",
                    dest.len()
                )));
            }
            let literal = src
                .get(ip..ip + len)
                .ok_or_else(|| err("truncated literal".into()))?;
            dest[op..op + len].copy_from_slice(literal);
            ip += len;
            op += len;
        }
        match src.get(ip) {
            Some(&next) => {
                ctrl = usize::from(next);
                ip += 1;
            }
            None => break,
        }
    }
    if op != dest.len() {
        return Err(err(format!(
            "decodes to {op} bytes, expected {}",
            dest.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_runs_and_far_matches() {
        // "abc" literal, then a run: 7 more bytes copying from 1 back.
        // Match: len code 5 -> 5 - 1 + 3 = 7 bytes; distance 0 + 0 + 1 = 1.
        let src = [0x20 | 2, b'a', b'b', b'c', 5 << 5, 0];
        let mut out = [0u8; 10];
        decompress(&src, &mut out).expect("decodes");
        assert_eq!(&out, b"abccccccccc"[..10].as_ref());
        // A distance past the start is an error, not a panic.
        let bad = [0x20, b'a', 1 << 5, 5];
        assert!(decompress(&bad, &mut [0u8; 4]).is_err());
        // Extended length: code 7, extension 255 then 1 -> 6 + 256 + 3 = 265 bytes.
        let src = [0x20, b'x', 7 << 5, 255, 1, 0];
        let mut out = vec![0u8; 266];
        decompress(&src, &mut out).expect("decodes");
        assert!(out.iter().all(|b| *b == b'x'));
        // Too long for the output: an error.
        let mut short = vec![0u8; 100];
        assert!(decompress(&src, &mut short).is_err());
        // Far distance: 8192 literal bytes would be needed; 8192 + 0 back is past the start.
        let far = [0x20, b'x', (1 << 5) | 31, 255, 0, 0];
        assert!(decompress(&far, &mut [0u8; 8]).is_err());
        // Truncated streams.
        for cut in [
            &[0x20u8, b'x', 7 << 5][..],
            &[0x20, b'x', 1 << 5],
            &[0x22, b'a'],
        ] {
            assert!(decompress(cut, &mut [0u8; 16]).is_err(), "{cut:?}");
        }
    }
}
