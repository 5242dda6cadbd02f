//! Images: values through a display range into RGBA.

/// Shown for NaN pixels.
pub const NAN_COLOR: [u8; 3] = [255, 0, 255];

/// Paints `values` (row-major, `channels` per pixel: 1 gray, 3 RGB, 4
/// RGBA) of a `width × height` image through the range `lo..hi` into an
/// RGBA buffer; alpha is taken as stored (0..255), a NaN pixel is
/// [`NAN_COLOR`].
pub fn paint(
    values: &[f32],
    width: usize,
    height: usize,
    channels: usize,
    (lo, hi): (f64, f64),
    out: &mut Vec<u8>,
) {
    let n = width * height;
    out.clear();
    out.resize(n * 4, 255);
    let scale = 255.0 / (hi - lo).max(f64::MIN_POSITIVE);
    let level = |v: f32| -> u8 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to 0..=255"
        )]
        let l = ((f64::from(v) - lo) * scale).clamp(0.0, 255.0) as u8;
        l
    };
    let ch = channels.max(1);
    for (i, px) in values.chunks_exact(ch).take(n).enumerate() {
        let o = &mut out[i * 4..i * 4 + 4];
        if px.iter().take(3).any(|v| v.is_nan()) {
            o[..3].copy_from_slice(&NAN_COLOR);
            continue;
        }
        match px {
            [g] => {
                let l = level(*g);
                o[..3].copy_from_slice(&[l, l, l]);
            }
            [r, g, b, rest @ ..] => {
                o[0] = level(*r);
                o[1] = level(*g);
                o[2] = level(*b);
                if let Some(a) = rest.first() {
                    #[expect(
                        clippy::cast_possible_truncation,
                        clippy::cast_sign_loss,
                        reason = "clamped to 0..=255"
                    )]
                    let alpha = a.clamp(0.0, 255.0) as u8;
                    o[3] = alpha;
                }
            }
            _ => {}
        }
    }
}

/// The element types [`decode_le`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
}

/// Little-endian elements as f32 (a frame has hundreds of thousands; this
/// is the hot path of playing). A trailing partial element is ignored.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    reason = "pixels for display"
)]
pub fn decode_le(bytes: &[u8], elem: Elem) -> Vec<f32> {
    macro_rules! each {
        ($n:literal, $t:ty) => {
            bytes
                .chunks_exact($n)
                .map(|c| {
                    let mut a = [0u8; $n];
                    a.copy_from_slice(c);
                    <$t>::from_le_bytes(a) as f32
                })
                .collect()
        };
    }
    match elem {
        Elem::U8 => bytes.iter().map(|v| f32::from(*v)).collect(),
        Elem::I8 => bytes.iter().map(|v| f32::from(v.cast_signed())).collect(),
        Elem::U16 => each!(2, u16),
        Elem::I16 => each!(2, i16),
        Elem::U32 => each!(4, u32),
        Elem::I32 => each!(4, i32),
        Elem::F32 => each!(4, f32),
        Elem::U64 => each!(8, u64),
        Elem::I64 => each!(8, i64),
        Elem::F64 => each!(8, f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_gray_color_and_nan() {
        let mut out = Vec::new();
        paint(&[0.0, 5.0, f32::NAN], 3, 1, 1, (0.0, 10.0), &mut out);
        assert_eq!(&out[..4], &[0, 0, 0, 255]);
        assert_eq!(&out[4..8], &[127, 127, 127, 255]);
        assert_eq!(&out[8..11], &NAN_COLOR);
        paint(&[255.0, 0.0, 128.0, 64.0], 1, 1, 4, (0.0, 255.0), &mut out);
        assert_eq!(out, vec![255, 0, 128, 64]);
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(
            decode_le(&[1, 0, 255, 255, 9], Elem::U16),
            vec![1.0, 65535.0]
        );
        assert_eq!(decode_le(&(-3i16).to_le_bytes(), Elem::I16), vec![-3.0]);
        assert_eq!(decode_le(&[253], Elem::I8), vec![-3.0]);
        assert_eq!(decode_le(&0.5f64.to_le_bytes(), Elem::F64), vec![0.5]);
        assert_eq!(decode_le(&7u64.to_le_bytes(), Elem::U64), vec![7.0]);
    }
}
