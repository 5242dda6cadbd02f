//! Byte shuffle (HDF5 filter 2, numcodecs `shuffle`, inside Blosc).

/// Reverses a byte shuffle of `src` into `dest` (same length): elements of
/// `typesize` bytes stored byte plane by byte plane; a remainder that is not
/// a whole element is stored as is.
pub fn unshuffle(typesize: usize, src: &[u8], dest: &mut [u8]) {
    let len = src.len().min(dest.len());
    if typesize <= 1 {
        dest[..len].copy_from_slice(&src[..len]);
        return;
    }
    let count = len / typesize;
    if count > 0 {
        for (j, plane) in src.chunks_exact(count).take(typesize).enumerate() {
            for (i, b) in plane.iter().enumerate() {
                dest[i * typesize + j] = *b;
            }
        }
    }
    let whole = count * typesize;
    dest[whole..len].copy_from_slice(&src[whole..len]);
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
}
