//! A time window of a TimeSeries, decimated to per-bucket minimum and
//! maximum of each channel: what a trace view draws, about one bucket per
//! pixel, whatever the window's length. This is the one place windows are
//! answered.
//!
//! A short window (at most `Limits::exact_window_values` samples ×
//! channels), or one whose buckets would be shorter than a level-0 bucket
//! of the pyramid, is read raw: buckets of `ceil(n / max_buckets)` samples
//! from the window's first sample. Any longer window is answered from the
//! min/max pyramid ([`crate::pyramid`]): buckets of `k` level-`j` buckets
//! (the coarsest level no coarser than the window needs), aligned to
//! multiples of their size from sample 0 so that they do not jitter while
//! panning; `sample_start..sample_end` is then the aligned span. Such a
//! window reads at most `Limits::window_read_values` raw values; when they
//! run out it is `pending` (missing buckets NaN) and asking again continues.
//! With stored timestamps a bucket's time is its first sample's, NaN while
//! the bucket is pending or when that timestamp is NaN.

use std::ops::Range;

use ns_nwb::{NwbFile, TimeSeries, Timing};
use ns_protocol::{ErrorKind, GetWindow, TypedBuffer, Window, WorkerError};

use crate::Limits;
use crate::error::nwb_error;
use crate::pyramid::{self, Build, BuildSetup, Pyramid};

/// Most buckets one window may have.
const MAX_BUCKETS: u32 = 100_000;

pub(crate) fn window(
    nwb: &NwbFile,
    req: &GetWindow,
    limits: &Limits,
    pyramid: &Pyramid,
) -> Result<Window, WorkerError> {
    let bad = |kind: ErrorKind, message: String| {
        WorkerError::new(kind, format!("{}: {}: {message}", nwb.location(), req.path))
    };
    if req.max_buckets == 0 || req.max_buckets > MAX_BUCKETS {
        return Err(bad(
            ErrorKind::BadRequest,
            format!(
                "max_buckets must be 1 to {MAX_BUCKETS}, not {}",
                req.max_buckets
            ),
        ));
    }
    if !(req.start_secs.is_finite() && req.end_secs.is_finite()) {
        return Err(bad(
            ErrorKind::BadRequest,
            "the window's times must be finite".into(),
        ));
    }
    let series = nwb.time_series(&req.path).map_err(|e| nwb_error(&e))?;
    let data = series.data();
    let total_channels = match data.shape.len() {
        1 => 1,
        2 => data.shape[1],
        n => {
            return Err(bad(
                ErrorKind::BadRequest,
                format!("data has {n} dimensions; windows are drawn from 1-D or 2-D data"),
            ));
        }
    };
    let channels: Range<u64> = match req.channels {
        Some((start, end)) => {
            start.min(total_channels)..end.min(total_channels).max(start.min(total_channels))
        }
        None => 0..total_channels,
    };
    let channel_count = channels.end - channels.start;
    let samples = series
        .sample_range_for_times(req.start_secs, req.end_secs)
        .map_err(|e| nwb_error(&e))?;
    let sample_count = samples.end - samples.start;
    let per_bucket = sample_count.div_ceil(u64::from(req.max_buckets)).max(1);
    let values = sample_count.saturating_mul(channel_count);
    let ask = Ask {
        nwb,
        req,
        limits,
        series: &series,
        total_channels,
        channels,
        samples,
        per_bucket,
    };
    if per_bucket < pyramid::BASE
        || values <= limits.exact_window_values.min(limits.max_window_values)
    {
        exact(&ask)
    } else {
        zoomed(&ask, pyramid)
    }
}

/// A checked request: its series, channels and samples.
struct Ask<'a, 'f> {
    nwb: &'a NwbFile,
    req: &'a GetWindow,
    limits: &'a Limits,
    series: &'a TimeSeries<'f>,
    /// Columns of `data` (1 for 1-D).
    total_channels: u64,
    channels: Range<u64>,
    samples: Range<u64>,
    /// Samples per bucket for at most `max_buckets` buckets.
    per_bucket: u64,
}

impl Ask<'_, '_> {
    fn bad(&self, kind: ErrorKind, message: String) -> WorkerError {
        WorkerError::new(
            kind,
            format!("{}: {}: {message}", self.nwb.location(), self.req.path),
        )
    }

    /// Buckets × channels, checked against `max_window_cells`.
    fn cells(&self, buckets: u64) -> Result<(usize, usize), WorkerError> {
        let width = self.channels.end - self.channels.start;
        let too_large = || {
            self.bad(
                ErrorKind::TooLarge,
                format!(
                    "{buckets} buckets × {width} channels; at most {} at once (ask for fewer buckets or channels)",
                    self.limits.max_window_cells
                ),
            )
        };
        let cells = buckets
            .checked_mul(width)
            .filter(|c| *c <= self.limits.max_window_cells)
            .ok_or_else(too_large)?;
        let buckets = usize::try_from(buckets).map_err(|_| too_large())?;
        let width = usize::try_from(width).map_err(|_| too_large())?;
        usize::try_from(cells).map_err(|_| too_large())?;
        Ok((buckets, width))
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "drawn values: f32 is plenty"
)]
fn narrow(v: &[f64]) -> Vec<f32> {
    v.iter().map(|x| *x as f32).collect()
}

/// Every sample of the window read and summarized: buckets of
/// `per_bucket` samples from the window's first.
fn exact(ask: &Ask<'_, '_>) -> Result<Window, WorkerError> {
    let Ask {
        req,
        limits,
        series,
        ..
    } = ask;
    let bad = |kind, message| ask.bad(kind, message);
    let data = series.data();
    let (channels, samples, per_bucket) =
        (ask.channels.clone(), ask.samples.clone(), ask.per_bucket);
    let channel_count = channels.end - channels.start;
    let sample_count = samples.end - samples.start;
    let values = sample_count.saturating_mul(channel_count);
    if values > limits.max_window_values {
        return Err(bad(
            ErrorKind::TooLarge,
            format!(
                "{sample_count} samples × {channel_count} channels in this window; at most {} values at once",
                limits.max_window_values
            ),
        ));
    }
    let (buckets, width) = ask.cells(sample_count.div_ceil(per_bucket))?;
    let cells = buckets * width;
    let mut min = vec![f64::NAN; cells];
    let mut max = vec![f64::NAN; cells];
    let mut times = Vec::with_capacity(buckets);
    // Whole buckets per block, so that each block's first row starts one.
    let rows_per_block =
        (limits.window_block_values / channel_count.max(1) / per_bucket).max(1) * per_bucket;
    let columns = (data.shape.len() == 2).then(|| channels.clone());
    let scale = |v: f64| v * data.conversion + data.offset;
    let mut row = samples.start;
    while row < samples.end {
        let end = row.saturating_add(rows_per_block).min(samples.end);
        let block = series
            .read_data(row..end, columns.clone())
            .map_err(|e| nwb_error(&e))?
            .to_f64();
        let rows = usize::try_from(end - row).unwrap_or(usize::MAX);
        if block.len() != rows.saturating_mul(width) {
            return Err(bad(
                ErrorKind::Format,
                format!(
                    "read {} values for {rows} rows × {width} channels",
                    block.len()
                ),
            ));
        }
        // Stored times are read with their block; a rate's are computed
        // for the buckets' first samples only.
        let block_times = match series.timing() {
            Timing::Timestamps { .. } => {
                Some(series.timestamps(row..end).map_err(|e| nwb_error(&e))?)
            }
            Timing::Rate { .. } => None,
        };
        for (i, values) in block.chunks(width.max(1)).enumerate() {
            let index = row - samples.start + i as u64;
            let bucket = usize::try_from(index / per_bucket).unwrap_or(usize::MAX);
            if index.is_multiple_of(per_bucket) {
                let time = match &block_times {
                    Some(stored) => stored.get(i).copied().unwrap_or(f64::NAN),
                    None => series
                        .time_of_sample(samples.start + index)
                        .map_err(|e| nwb_error(&e))?,
                };
                times.push(time);
            }
            for (c, v) in values.iter().enumerate() {
                let v = scale(*v);
                let cell = bucket * width + c;
                if let (Some(lo), Some(hi)) = (min.get_mut(cell), max.get_mut(cell))
                    && !v.is_nan()
                {
                    *lo = if lo.is_nan() { v } else { lo.min(v) };
                    *hi = if hi.is_nan() { v } else { hi.max(v) };
                }
            }
        }
        row = end;
    }
    Ok(Window {
        path: req.path.clone(),
        sample_start: samples.start,
        sample_end: samples.end,
        channel_start: channels.start,
        channels: channel_count,
        samples_per_bucket: per_bucket,
        times: TypedBuffer::from_f64(&times),
        min: TypedBuffer::from_f32(&narrow(&min)),
        max: TypedBuffer::from_f32(&narrow(&max)),
        unit: data.unit.clone(),
        pending: false,
        progress: 1.0,
    })
}

/// The window from the pyramid: buckets of `size` samples (a multiple of
/// the level's bucket), aligned to multiples of `size`.
fn zoomed(ask: &Ask<'_, '_>, pyramid: &Pyramid) -> Result<Window, WorkerError> {
    let series = ask.series;
    let total = series.num_samples();
    let p = ask.per_bucket;
    // The coarsest level whose buckets are at most `p`; one finer when
    // rounding `p` up to its buckets would lose more than a fifth of the
    // buckets asked for (then `p / unit >= 4`: the rounding adds < 1/4).
    let mut level = (0..=pyramid::MAX_LEVEL)
        .rev()
        .find(|j| pyramid::bucket_samples(*j) <= p)
        .unwrap_or(0);
    if level > 0
        && p.div_ceil(pyramid::bucket_samples(level)) * pyramid::bucket_samples(level) > p + p / 4
    {
        level -= 1;
    }
    // Coarser while the window's own segments would not fit in the part of
    // the cache a window keeps: a pending window must find them again.
    let channels = ask.channels.clone();
    let groups: Vec<u64> = (channels.start / pyramid::GROUP
        ..=(channels.end.saturating_sub(1)) / pyramid::GROUP)
        .collect();
    let bucket_bytes: u64 = groups
        .iter()
        .map(|g| {
            let start = g * pyramid::GROUP;
            let width =
                (start + pyramid::GROUP).min(ask.total_channels) - start.min(ask.total_channels);
            width * 8 + 8
        })
        .sum();
    let keep_bytes = pyramid.budget() / 4 * 3;
    let fits = |level: u32| {
        let buckets = (ask.samples.end - ask.samples.start) / pyramid::bucket_samples(level)
            + 2 * pyramid::SEGMENT_BUCKETS;
        buckets.saturating_mul(bucket_bytes) <= keep_bytes
    };
    while level < pyramid::MAX_LEVEL && !fits(level) {
        level += 1;
    }
    let unit = pyramid::bucket_samples(level);
    let (s0, s1) = (ask.samples.start, ask.samples.end);
    let max_buckets = u64::from(ask.req.max_buckets);
    // Aligned span and bucket count for buckets of `size` samples.
    let plan = |size: u64| {
        let a0 = s0 / size * size;
        let a1 = s1.div_ceil(size).saturating_mul(size).min(total);
        (a0, a1, (a1 - a0).div_ceil(size))
    };
    let mut size = p.div_ceil(unit) * unit;
    if plan(size).2 > max_buckets && max_buckets > 1 {
        // Alignment adds at most one bucket: `n / (max_buckets - 1)`
        // samples per bucket always fit.
        size = (s1 - s0)
            .div_ceil(max_buckets - 1)
            .div_ceil(unit)
            .saturating_mul(unit);
    }
    while plan(size).2 > max_buckets {
        size = size.saturating_mul(2);
    }
    let (a0, a1, count) = plan(size);
    let (buckets, width) = ask.cells(count)?;
    let chunk = ask
        .nwb
        .node(&series.data().path)
        .and_then(|n| n.dataset.as_ref())
        .and_then(|d| d.chunks.clone())
        .unwrap_or_default();
    let mut build = Build::new(BuildSetup {
        pyramid,
        series,
        location: ask.nwb.location(),
        chunk: (
            chunk.first().copied().unwrap_or(1),
            chunk.get(1).copied().unwrap_or(1),
        ),
        block_values: ask.limits.window_block_values,
        budget: ask.limits.window_read_values,
    });
    let mut min = vec![f32::NAN; buckets * width];
    let mut max = vec![f32::NAN; buckets * width];
    let mut times = vec![f64::NAN; buckets];
    // Per output bucket and group: every source bucket computed.
    let mut complete = vec![true; buckets * groups.len()];
    let seg_samples = pyramid::segment_samples(level);
    // Level buckets of the span.
    let wanted = a0 / unit..a1.div_ceil(unit);
    let per_output = size / unit;
    // The window's own segments, cached again at the end (as many as fit in
    // three quarters of the cache), so that building the later ones cannot
    // evict the earlier ones before a pending window's next request.
    let mut kept = Vec::new();
    let mut kept_bytes = 0u64;
    for segment in a0 / seg_samples..a1.div_ceil(seg_samples) {
        let segments = build.segments(level, segment, &groups)?;
        let bytes: u64 = segments.iter().map(|s| s.bytes()).sum();
        if kept_bytes + bytes <= keep_bytes {
            kept_bytes += bytes;
            kept.push((segment, segments.clone()));
        }
        let first = segment * pyramid::SEGMENT_BUCKETS;
        for (gi, (g, seg)) in groups.iter().zip(&segments).enumerate() {
            let cols = build.group_columns(*g);
            let overlap = cols.start.max(channels.start)..cols.end.min(channels.end);
            let from = first.max(wanted.start);
            let to = (first + seg.len as u64).min(wanted.end);
            for i in from..to {
                let local = index(i - first);
                let out = index((i - wanted.start) / per_output);
                if local >= seg.done {
                    complete[out * groups.len() + gi] = false;
                    continue;
                }
                if (i - wanted.start).is_multiple_of(per_output) && times[out].is_nan() {
                    times[out] = seg.times[local];
                }
                for c in overlap.clone() {
                    let src = local * seg.width + index(c - cols.start);
                    let dst = out * width + index(c - channels.start);
                    min[dst] = min[dst].min(seg.min[src]);
                    max[dst] = max[dst].max(seg.max[src]);
                }
            }
        }
    }
    for (segment, segments) in kept {
        build.keep(level, segment, &groups, &segments);
    }
    if let Timing::Rate { .. } = series.timing() {
        // Computed, so known for pending buckets too.
        for (o, t) in times.iter_mut().enumerate() {
            *t = series
                .time_of_sample(a0 + o as u64 * size)
                .map_err(|e| nwb_error(&e))?;
        }
    }
    // Pending buckets are NaN; progress weighs buckets by samples × channels.
    let (mut done, mut all) = (0u64, 0u64);
    for (o, row) in complete.chunks(groups.len().max(1)).enumerate() {
        let start = a0 + o as u64 * size;
        let samples = (start + size).min(a1) - start;
        for (gi, ok) in row.iter().enumerate() {
            let cols = build.group_columns(groups[gi]);
            let overlap = cols.start.max(channels.start)..cols.end.min(channels.end);
            let weight = samples * (overlap.end - overlap.start);
            all += weight;
            if *ok {
                done += weight;
            } else {
                for c in overlap {
                    let dst = o * width + index(c - channels.start);
                    min[dst] = f32::NAN;
                    max[dst] = f32::NAN;
                }
            }
        }
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "a fraction: rounding is harmless"
    )]
    let progress = if all == 0 {
        1.0
    } else {
        done as f64 / all as f64
    };
    Ok(Window {
        path: ask.req.path.clone(),
        sample_start: a0,
        sample_end: a1,
        channel_start: channels.start,
        channels: channels.end - channels.start,
        samples_per_bucket: size,
        times: TypedBuffer::from_f64(&times),
        min: TypedBuffer::from_f32(&min),
        max: TypedBuffer::from_f32(&max),
        unit: series.data().unit.clone(),
        pending: done < all,
        progress,
    })
}

fn index(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}
