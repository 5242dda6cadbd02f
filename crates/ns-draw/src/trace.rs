//! Timeseries traces: min/max windows (buckets × channels) drawn as
//! per-column envelopes into an RGBA buffer.

/// A min/max window as drawn: decoded once when it arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Bucket start times, seconds.
    pub times: Vec<f64>,
    /// `times.len() × channels`, bucket-major.
    pub min: Vec<f32>,
    pub max: Vec<f32>,
    /// The first channel's index in the series.
    pub channel_start: u64,
    pub channels: usize,
    pub samples_per_bucket: u64,
    /// Per channel: the median of bucket middles (the trace's baseline).
    pub centers: Vec<f32>,
}

impl Envelope {
    pub fn new(
        times: Vec<f64>,
        min: Vec<f32>,
        max: Vec<f32>,
        channel_start: u64,
        channels: usize,
        samples_per_bucket: u64,
    ) -> Self {
        let centers = (0..channels)
            .map(|c| {
                let mut mids: Vec<f32> = (0..times.len())
                    .filter_map(|b| {
                        let (lo, hi) = (*min.get(b * channels + c)?, *max.get(b * channels + c)?);
                        let m = f32::midpoint(lo, hi);
                        m.is_finite().then_some(m)
                    })
                    .collect();
                median(&mut mids).unwrap_or(0.0)
            })
            .collect();
        Self {
            times,
            min,
            max,
            channel_start,
            channels,
            samples_per_bucket,
            centers,
        }
    }

    /// A robust amplitude: the 95th percentile of distances from the
    /// channels' centers (1 when there is none).
    pub fn spread(&self) -> f32 {
        let mut d: Vec<f32> = Vec::new();
        for (i, (lo, hi)) in self.min.iter().zip(&self.max).enumerate() {
            let c = self
                .centers
                .get(i % self.channels.max(1))
                .copied()
                .unwrap_or(0.0);
            let v = (hi - c).abs().max((c - lo).abs());
            if v.is_finite() {
                d.push(v);
            }
        }
        if d.is_empty() {
            return 1.0;
        }
        let k = (d.len() * 95 / 100).min(d.len() - 1);
        d.select_nth_unstable_by(k, f32::total_cmp);
        let s = d[k];
        if s > 0.0 { s } else { 1.0 }
    }
}

fn median(v: &mut [f32]) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let k = v.len() / 2;
    v.select_nth_unstable_by(k, f32::total_cmp);
    Some(v[k])
}

/// Time → x pixel: `left + (t - start) / (end - start) * width`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XMap {
    pub left: f64,
    pub start: f64,
    pub end: f64,
    pub width: f64,
}

impl XMap {
    pub fn x_of(&self, t: f64) -> f64 {
        self.left + (t - self.start) / (self.end - self.start) * self.width
    }
}

/// One channel (`col` of `e`) into the `w × h` RGBA buffer: per bucket a
/// vertical span from min to max, joined to the previous bucket; a value
/// `v` is drawn at `base - (v - center) * k`.
#[expect(clippy::too_many_arguments, reason = "the inner drawing loop")]
pub fn draw_trace(
    buf: &mut [u8],
    w: usize,
    h: usize,
    x: XMap,
    e: &Envelope,
    col: usize,
    base: f64,
    k: f64,
    center: f64,
    color: [u8; 3],
) {
    if w == 0 || h == 0 {
        return;
    }
    #[expect(clippy::cast_precision_loss, reason = "canvas sizes")]
    let (wf, hf) = (w as f64, h as f64);
    let mut put = |x: i64, y0: f64, y1: f64| {
        let Ok(xu) = usize::try_from(x) else { return };
        if xu >= w {
            return;
        }
        let (lo, hi) = (y0.min(y1).max(0.0), y0.max(y1).min(hf - 1.0));
        if hi < 0.0 || lo > hf - 1.0 {
            return;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to the buffer"
        )]
        let (a, b) = (lo.floor() as usize, hi.ceil() as usize);
        for y in a..=b.min(h - 1) {
            let i = (y * w + xu) * 4;
            if let Some(px) = buf.get_mut(i..i + 3) {
                px.copy_from_slice(&color);
            }
        }
    };
    let mut prev: Option<(i64, f64)> = None;
    // The previous bucket's envelope (top, bottom pixel).
    let mut prev_span = (0.0, 0.0);
    for (b, t) in e.times.iter().enumerate() {
        let (Some(lo), Some(hi)) = (
            e.min.get(b * e.channels + col),
            e.max.get(b * e.channels + col),
        ) else {
            break;
        };
        let xf = x.x_of(*t);
        if !(lo.is_finite() && hi.is_finite() && xf.is_finite()) {
            prev = None;
            continue;
        }
        if xf < -wf || xf > 2.0 * wf {
            prev = None;
            continue;
        }
        #[expect(
            clippy::cast_possible_truncation,
            reason = "checked to be near the canvas"
        )]
        let xi = xf.round() as i64;
        let y_hi = base - (f64::from(*hi) - center) * k;
        let y_lo = base - (f64::from(*lo) - center) * k;
        match prev {
            // A min/max bucket covers the columns up to the next bucket:
            // its envelope spans them (a thin join would leave white gaps).
            Some((px, py)) if xi > px + 1 && e.samples_per_bucket > 1 => {
                for c in px + 1..xi {
                    put(c, prev_span.0, prev_span.1);
                }
                put(xi, py.min(y_hi), py.max(y_lo));
            }
            Some((px, py)) if xi > px + 1 => {
                // Samples: a line across the columns in between.
                let start = f64::midpoint(y_hi, y_lo);
                #[expect(clippy::cast_precision_loss, reason = "pixel counts")]
                let steps = (xi - px) as f64;
                let mut last = py;
                for s in 1..(xi - px) {
                    #[expect(clippy::cast_precision_loss, reason = "pixel counts")]
                    let y = py + (start - py) * (s as f64) / steps;
                    put(px + s, last, y);
                    last = y;
                }
                put(xi, last.min(y_hi), last.max(y_lo));
                put(xi, y_hi, y_lo);
            }
            Some((_, py)) => {
                put(xi, py.min(y_hi), py.max(y_lo));
            }
            None => put(xi, y_hi, y_lo),
        }
        prev = Some((xi, f64::midpoint(y_hi, y_lo)));
        prev_span = (y_hi, y_lo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(min: &[f32], max: &[f32], spb: u64) -> Envelope {
        #[expect(clippy::cast_precision_loss, reason = "test sizes")]
        let times = (0..min.len()).map(|i| i as f64).collect();
        Envelope::new(times, min.to_vec(), max.to_vec(), 0, 1, spb)
    }

    #[test]
    fn centers_and_spread() {
        let e = env(&[0.0, 2.0, f32::NAN, 4.0], &[2.0, 4.0, 1.0, 6.0], 10);
        // Middles 1, 3, 5 (NaN skipped): median 3.
        assert!((e.centers[0] - 3.0).abs() < f32::EPSILON);
        assert!((e.spread() - 3.0).abs() < f32::EPSILON);
        assert!((env(&[1.0], &[1.0], 1).spread() - 1.0).abs() < f32::EPSILON);
    }

    #[test]
    fn buckets_fill_their_columns_and_clip() {
        let (w, h) = (10, 10);
        let mut buf = vec![255u8; w * h * 4];
        // Two buckets at x = 0 and 4 (1 s = 1 px... 4 px apart).
        let e = Envelope::new(
            vec![0.0, 1.0],
            vec![-1.0, -100.0],
            vec![1.0, 100.0],
            0,
            1,
            8,
        );
        let x = XMap {
            left: 0.0,
            start: 0.0,
            end: 2.5,
            width: 10.0,
        };
        draw_trace(&mut buf, w, h, x, &e, 0, 5.0, 1.0, 0.0, [1, 2, 3]);
        let at = |x: usize, y: usize| buf[(y * w + x) * 4];
        // Bucket 0 spans rows 4..=6 at x = 0 and the columns up to the next one.
        for c in 0..4 {
            assert_eq!(at(c, 4), 1);
            assert_eq!(at(c, 6), 1);
            assert_eq!(at(c, 2), 255);
        }
        // Bucket 1 at x = 4 is clipped to the whole height.
        for y in 0..h {
            assert_eq!(at(4, y), 1);
        }
        assert_eq!(at(5, 0), 255);
        // A channel past the data draws nothing; a zero-sized buffer neither.
        draw_trace(&mut [], 0, 0, x, &e, 0, 5.0, 1.0, 0.0, [0, 0, 0]);
    }
}
