//! LZF (h5py's filter 32000), decoder only, written from the format: a
//! stream of instructions, each a control byte. Below 32: a literal run of
//! `control + 1` bytes follows. Otherwise a back reference: length code
//! `control >> 5` (7 = plus the next byte), then a distance byte; it copies
//! `length + 2` bytes from `((control & 31) << 8) + byte + 1` bytes back,
//! byte by byte (it may overlap what it writes).

use crate::{Error, Result};

const CODEC: &str = "lzf";

/// Decodes an LZF stream of at most `max_len` bytes.
pub fn decompress(src: &[u8], max_len: usize) -> Result<Vec<u8>> {
    let too_long = || {
        Error::new(
            CODEC,
            format!("decodes to more than the {max_len} bytes expected"),
        )
    };
    let mut out: Vec<u8> = Vec::new();
    let mut ip = 0usize;
    while let Some(&ctrl) = src.get(ip) {
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < 32 {
            let len = ctrl + 1;
            let literal = src
                .get(ip..ip + len)
                .ok_or_else(|| Error::new(CODEC, format!("truncated literal at offset {ip}")))?;
            if out.len() + len > max_len {
                return Err(too_long());
            }
            out.extend_from_slice(literal);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(
                    *src.get(ip)
                        .ok_or_else(|| Error::new(CODEC, "truncated match length"))?,
                );
                ip += 1;
            }
            let low = *src
                .get(ip)
                .ok_or_else(|| Error::new(CODEC, "truncated match distance"))?;
            ip += 1;
            len += 2;
            let distance = ((ctrl & 31) << 8) + usize::from(low) + 1;
            if distance > out.len() {
                return Err(Error::new(
                    CODEC,
                    format!(
                        "reference {distance} bytes back at output byte {}",
                        out.len()
                    ),
                ));
            }
            if out.len() + len > max_len {
                return Err(too_long());
            }
            let from = out.len() - distance;
            for i in 0..len {
                let b = out[from + i];
                out.push(b);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_overlapping_references() {
        // "ab", then 6 bytes from 2 back ("ababab"), then 9+2 = 11... code 7 + 2.
        let src = [1, b'a', b'b', 4 << 5, 1, 7 << 5, 2, 0];
        let out = decompress(&src, 100).expect("decodes");
        let mut want = b"ab".to_vec();
        want.extend_from_slice(b"ababab");
        want.extend(std::iter::repeat_n(b'b', 11));
        assert_eq!(out, want);
        assert!(decompress(&src, 10).is_err());
        assert!(
            decompress(&[0x20, 5], 10).is_err(),
            "reference before the start"
        );
        assert!(decompress(&[3, b'a'], 10).is_err(), "truncated literal");
        assert!(
            decompress(&[1, b'a', b'b', 7 << 5], 10).is_err(),
            "truncated reference"
        );
    }
}
