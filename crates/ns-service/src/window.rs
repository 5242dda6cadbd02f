//! A time window of a TimeSeries, decimated to per-bucket minimum and
//! maximum of each channel: what a trace view draws, about one bucket per
//! pixel, whatever the window's length.

use std::ops::Range;

use ns_nwb::{NwbFile, Timing};
use ns_protocol::{ErrorKind, GetWindow, TypedBuffer, Window, WorkerError};

use crate::Limits;
use crate::error::nwb_error;

/// Most buckets one window may have.
const MAX_BUCKETS: u32 = 100_000;

pub(crate) fn window(
    nwb: &NwbFile,
    req: &GetWindow,
    limits: &Limits,
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
    let per_bucket = sample_count.div_ceil(u64::from(req.max_buckets)).max(1);
    let buckets = usize::try_from(sample_count.div_ceil(per_bucket))
        .map_err(|_| bad(ErrorKind::TooLarge, "too many buckets".into()))?;
    let width = usize::try_from(channel_count)
        .map_err(|_| bad(ErrorKind::TooLarge, "too many channels".into()))?;
    let cells = buckets
        .checked_mul(width)
        .filter(|c| u64::try_from(*c).is_ok_and(|c| c <= limits.max_window_cells))
        .ok_or_else(|| {
            bad(
                ErrorKind::TooLarge,
                format!(
                    "{buckets} buckets × {width} channels; at most {} at once (ask for fewer buckets or channels)",
                    limits.max_window_cells
                ),
            )
        })?;
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
    #[expect(
        clippy::cast_possible_truncation,
        reason = "drawn values: f32 is plenty"
    )]
    let narrow = |v: &[f64]| v.iter().map(|x| *x as f32).collect::<Vec<f32>>();
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
