//! Images and imaging series (ImageSeries, TwoPhotonSeries,
//! OnePhotonSeries, Image datasets): their layout, frames turned as asked
//! (and downsampled when large, reading the frame once in blocks of rows),
//! and mean/max projections over frame ranges.
//!
//! Frames are drawn as numpy's `imshow(data[i])` draws them: the first
//! image dimension runs down, the second across; a volume's planes are its
//! last dimension; an RGB(A) ImageSeries has 3 or 4 there instead.

use std::ops::Range;

use ns_model::{Array, Data, DimSelection, Dtype, Selection, Value};
use ns_nwb::NwbFile;
use ns_protocol::{
    ErrorKind, Frame, FrameAt, GetFrame, GetProjection, ImageInfo, Orientation, Projection,
    TypedBuffer, WorkerError,
};

use crate::Limits;
use crate::error::{model_error, nwb_error};

/// Values sampled from a frame for its display range.
const STAT_SAMPLES: usize = 1 << 16;
/// Sides a request may ask frames to be shown at, at most and at least.
const SIZE_RANGE: (u32, u32) = (16, 16384);

/// Where an image's pixels are and how they are laid out.
pub(crate) struct Layout {
    pub path: String,
    /// The `data` dataset (the path itself for an Image).
    pub data: String,
    pub dtype: Dtype,
    pub shape: Vec<u64>,
    pub is_series: bool,
    pub frames: u64,
    pub rows: u64,
    pub cols: u64,
    pub planes: u64,
    pub channels: u64,
    pub neurodata_type: Option<String>,
    pub description: Option<String>,
    pub external: Vec<String>,
    pub warnings: Vec<String>,
}

pub(crate) fn error(nwb: &NwbFile, kind: ErrorKind, path: &str, message: &str) -> WorkerError {
    WorkerError::new(kind, format!("{}: {path}: {message}", nwb.location()))
}

fn text_attr(nwb: &NwbFile, path: &str, name: &str) -> Option<String> {
    match nwb.node(path)?.attr(name)? {
        Value::String(s) => Some(s.clone()),
        Value::List(items) => items.first().and_then(|v| v.as_str().map(str::to_string)),
        _ => None,
    }
}

fn shape_text(shape: &[u64]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("[{}]", dims.join(" × "))
}

/// The layout of the image or series at `path`.
pub(crate) fn layout(nwb: &NwbFile, path: &str) -> Result<Layout, WorkerError> {
    let node = nwb
        .node(path)
        .ok_or_else(|| error(nwb, ErrorKind::NotFound, path, "no such object"))?;
    let neurodata_type = nwb.neurodata_type(path).map(str::to_string);
    let description = text_attr(nwb, path, "description");
    if let Some(dataset) = &node.dataset {
        // One image: rows × columns, or rows × columns × 1, 3 or 4.
        let shape = dataset.shape.clone();
        let (rows, cols, channels) = match shape.as_slice() {
            [r, c] => (*r, *c, 1),
            [r, c, k @ (1 | 3 | 4)] => (*r, *c, *k),
            _ => {
                return Err(error(
                    nwb,
                    ErrorKind::Format,
                    path,
                    &format!(
                        "an image of shape {} (expected rows × columns, with 3 or 4 color channels last if any)",
                        shape_text(&shape)
                    ),
                ));
            }
        };
        return Ok(Layout {
            path: node.path.clone(),
            data: node.path.clone(),
            dtype: dataset.dtype,
            shape,
            is_series: false,
            frames: 1,
            rows,
            cols,
            planes: 1,
            channels,
            neurodata_type,
            description,
            external: Vec::new(),
            warnings: Vec::new(),
        });
    }
    let mut warnings = Vec::new();
    let external: Vec<String> = match nwb.node(&format!("{path}/external_file")) {
        Some(n) if n.dataset.is_some() => nwb
            .store()
            .read(&n.path, &Selection::all())
            .map_err(|e| model_error(&e))?
            .to_strings(),
        _ => Vec::new(),
    };
    let data = nwb
        .node(&format!("{path}/data"))
        .filter(|n| n.dataset.is_some());
    let Some(data) = data else {
        if external.is_empty() {
            return Err(error(
                nwb,
                ErrorKind::Format,
                path,
                "has no data dataset (and no external_file)",
            ));
        }
        return Ok(Layout {
            path: node.path.clone(),
            data: String::new(),
            dtype: Dtype::UInt8,
            shape: Vec::new(),
            is_series: true,
            frames: 0,
            rows: 0,
            cols: 0,
            planes: 1,
            channels: 1,
            neurodata_type,
            description,
            external,
            warnings,
        });
    };
    let Some(info) = &data.dataset else {
        return Err(error(nwb, ErrorKind::Format, path, "data is not a dataset"));
    };
    let shape = info.shape.clone();
    let photon = nwb.is_a(path, "TwoPhotonSeries") || nwb.is_a(path, "OnePhotonSeries");
    let (frames, rows, cols, planes, channels) = match shape.as_slice() {
        [n, r, c] => (*n, *r, *c, 1, 1),
        [n, r, c, k @ (3 | 4)] if !photon && info.dtype == Dtype::UInt8 => (*n, *r, *c, 1, *k),
        [n, r, c, z] => (*n, *r, *c, *z, 1),
        _ if !external.is_empty() => (0, 0, 0, 1, 1),
        _ => {
            return Err(error(
                nwb,
                ErrorKind::Format,
                path,
                &format!(
                    "data of shape {} is not frames (frames × rows × columns, and planes last for a volume)",
                    shape_text(&shape)
                ),
            ));
        }
    };
    if !external.is_empty() {
        warnings.push(format!(
            "the frames are in {} outside this file ({}); this file holds none of them",
            if external.len() == 1 {
                "a file"
            } else {
                "files"
            },
            external.join(", ")
        ));
    } else if frames == 0 || rows == 0 || cols == 0 || planes == 0 {
        warnings.push(format!(
            "data of shape {} holds no pixels",
            shape_text(&shape)
        ));
    }
    if planes > 1 {
        warnings.push(format!(
            "a volume of {planes} planes (the last dimension of data); one plane is shown at a time"
        ));
    }
    Ok(Layout {
        path: node.path.clone(),
        data: data.path.clone(),
        dtype: info.dtype,
        shape,
        is_series: true,
        frames: if external.is_empty() { frames } else { 0 },
        rows,
        cols,
        planes,
        channels,
        neurodata_type,
        description,
        external,
        warnings,
    })
}

pub(crate) fn info(nwb: &NwbFile, path: &str) -> Result<ImageInfo, WorkerError> {
    let l = layout(nwb, path)?;
    let mut warnings = l.warnings.clone();
    let (mut start_secs, mut end_secs, mut rate) = (0.0, 0.0, None);
    if l.is_series && l.frames > 0 {
        let series = nwb.time_series(path).map_err(|e| nwb_error(&e))?;
        warnings.extend(series.warnings().iter().cloned());
        let (a, b, r) = crate::series::extent(&series, &mut warnings).map_err(|e| nwb_error(&e))?;
        (start_secs, end_secs, rate) = (a, b, r);
    }
    Ok(ImageInfo {
        path: l.path,
        neurodata_type: l.neurodata_type,
        description: l.description,
        is_series: l.is_series,
        shape: l.shape,
        dtype: l.dtype.name().to_string(),
        num_frames: l.frames,
        rows: l.rows,
        cols: l.cols,
        planes: l.planes,
        channels: l.channels,
        start_secs,
        end_secs,
        rate,
        external_files: l.external,
        warnings,
    })
}

/// Checks that frames can be read from `l` at all.
fn readable(nwb: &NwbFile, l: &Layout) -> Result<(), WorkerError> {
    if !l.external.is_empty() {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!(
                "the frames are in {} outside this file; it holds none of them",
                l.external.join(", ")
            ),
        ));
    }
    if !l.dtype.is_numeric() {
        return Err(error(
            nwb,
            ErrorKind::Format,
            &l.path,
            &format!("pixels of type {} are not numbers", l.dtype.name()),
        ));
    }
    if l.frames == 0 || l.rows == 0 || l.cols == 0 || l.planes == 0 {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!("data of shape {} holds no pixels", shape_text(&l.shape)),
        ));
    }
    Ok(())
}

fn range(r: Range<u64>) -> DimSelection {
    DimSelection::Range {
        start: Some(r.start),
        stop: Some(r.end),
        step: 1,
    }
}

/// Frames `frames`, rows `rows` of them (all columns and channels), of
/// plane `plane`.
fn selection(l: &Layout, frames: Range<u64>, rows: Range<u64>, plane: u64) -> Selection {
    let mut dims = Vec::new();
    if l.is_series {
        dims.push(range(frames));
    }
    dims.push(range(rows));
    if l.planes > 1 {
        dims.push(range(0..l.cols));
        dims.push(DimSelection::Index(plane));
    }
    Selection(dims)
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// How a frame of `l` is shown at most `max_size` on a side: the
/// downsampling step and the shown height and width (before orientation).
fn fit(l: &Layout, max_size: u32) -> (u64, u64, u64) {
    let max = u64::from(max_size.clamp(SIZE_RANGE.0, SIZE_RANGE.1));
    let step = l.rows.div_ceil(max).max(l.cols.div_ceil(max)).max(1);
    (step, l.rows.div_ceil(step), l.cols.div_ceil(step))
}

/// The last frame at or before `t` (the first if none is).
fn index_at(nwb: &NwbFile, l: &Layout, t: f64) -> Result<u64, WorkerError> {
    if !l.is_series {
        return Ok(0);
    }
    let series = nwb.time_series(&l.path).map_err(|e| nwb_error(&e))?;
    let n = l.frames;
    if !t.is_finite() {
        return Ok(if t > 0.0 { n.saturating_sub(1) } else { 0 });
    }
    let i = series
        .sample_range_for_times(t, t)
        .map_err(|e| nwb_error(&e))?
        .start;
    let exact = i < n && series.time_of_sample(i).map_err(|e| nwb_error(&e))? <= t;
    Ok(if exact { i } else { i.saturating_sub(1) }.min(n - 1))
}

/// Times of frames `frames` (NaN where unknown).
fn frame_times(nwb: &NwbFile, l: &Layout, frames: Range<u64>) -> Result<Vec<f64>, WorkerError> {
    let want = usize_of(frames.end - frames.start);
    if !l.is_series {
        return Ok(vec![f64::NAN; want]);
    }
    let series = nwb.time_series(&l.path).map_err(|e| nwb_error(&e))?;
    let mut times = series.timestamps(frames).map_err(|e| nwb_error(&e))?;
    times.resize(want, f64::NAN);
    Ok(times)
}

/// Least, greatest, 0.5th and 99.5th percentile of the finite values of
/// `values` (sampled evenly when many).
fn stats(values: &[f64]) -> (f64, f64, f64, f64) {
    let stride = values.len().div_ceil(STAT_SAMPLES).max(1);
    let mut sample: Vec<f64> = values
        .iter()
        .step_by(stride)
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let (min, max) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    if sample.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let mut at = |p: f64| {
        let last = sample.len() - 1;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into the sample"
        )]
        let i = (last as f64 * p).round() as usize;
        *sample.select_nth_unstable_by(i.min(last), f64::total_cmp).1
    };
    let low = at(0.005);
    let high = at(0.995);
    (min, max, low, high)
}

/// Frames of a read `array` (`frames × rows × cols × channels`), each
/// turned as `o` says, in the stored type.
fn oriented(
    array: &Array,
    rows: usize,
    cols: usize,
    channels: usize,
    o: Orientation,
) -> Option<TypedBuffer> {
    let per = rows * cols * channels;
    if per == 0 || !array.len().is_multiple_of(per) {
        return None;
    }
    macro_rules! turn {
        ($v:expr, $make:path) => {{
            let mut out = Vec::with_capacity($v.len());
            for frame in $v.chunks_exact(per) {
                out.extend(o.apply(rows, cols, channels, frame));
            }
            $make(&out)
        }};
    }
    Some(match &array.data {
        Data::Int8(v) => turn!(v, TypedBuffer::from_i8),
        Data::Int16(v) => turn!(v, TypedBuffer::from_i16),
        Data::Int32(v) => turn!(v, TypedBuffer::from_i32),
        Data::Int64(v) => turn!(v, TypedBuffer::from_i64),
        Data::UInt8(v) => turn!(v, TypedBuffer::from_u8),
        Data::UInt16(v) => turn!(v, TypedBuffer::from_u16),
        Data::UInt32(v) => turn!(v, TypedBuffer::from_u32),
        Data::UInt64(v) => turn!(v, TypedBuffer::from_u64),
        Data::Float32(v) => turn!(v, TypedBuffer::from_f32),
        Data::Float64(v) => turn!(v, TypedBuffer::from_f64),
        Data::Values(_) => return None,
    })
}

/// The first `n` values of `array` as floats.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_lossless,
    reason = "as numpy's astype(float)"
)]
fn head_f64(array: &Array, n: usize) -> Vec<f64> {
    macro_rules! head {
        ($v:expr) => {
            $v.iter().take(n).map(|x| *x as f64).collect()
        };
    }
    match &array.data {
        Data::Int8(v) => head!(v),
        Data::Int16(v) => head!(v),
        Data::Int32(v) => head!(v),
        Data::Int64(v) => head!(v),
        Data::UInt8(v) => head!(v),
        Data::UInt16(v) => head!(v),
        Data::UInt32(v) => head!(v),
        Data::UInt64(v) => head!(v),
        Data::Float32(v) => head!(v),
        Data::Float64(v) => head!(v),
        Data::Values(v) => v
            .iter()
            .take(n)
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect(),
    }
}

fn read(nwb: &NwbFile, l: &Layout, selection: &Selection) -> Result<Array, WorkerError> {
    nwb.store()
        .read(&l.data, selection)
        .map_err(|e| model_error(&e))
}

/// Frame `frame` (plane `plane`) of `l`, each shown pixel the mean of a
/// `step × step` block (`h × w × channels`, as stored), read in blocks of
/// rows of at most about `block_values` values.
fn downsampled(
    nwb: &NwbFile,
    l: &Layout,
    frame: u64,
    plane: u64,
    (step, h, w): (u64, u64, u64),
    block_values: u64,
) -> Result<Vec<f64>, WorkerError> {
    let ch = usize_of(l.channels);
    let (cols, w_out) = (usize_of(l.cols), usize_of(w));
    let stride = usize_of(step);
    let row_values = (l.cols * l.channels).max(1);
    let block_rows = (block_values / row_values / step).max(1) * step;
    let mut sums = vec![0.0f64; usize_of(h) * w_out * ch];
    let mut counts = vec![0u32; usize_of(h) * w_out];
    let mut r0 = 0;
    while r0 < l.rows {
        let r1 = (r0 + block_rows).min(l.rows);
        let values = read(nwb, l, &selection(l, frame..frame + 1, r0..r1, plane))?.to_f64();
        for (i, row) in values.chunks_exact(cols * ch).enumerate() {
            let oy = (usize_of(r0) + i) / stride;
            for (c, px) in row.chunks_exact(ch).enumerate() {
                let o = oy * w_out + c / stride;
                counts[o] += 1;
                for (k, v) in px.iter().enumerate() {
                    sums[o * ch + k] += v;
                }
            }
        }
        r0 = r1;
    }
    for (o, n) in counts.iter().enumerate() {
        for k in 0..ch {
            sums[o * ch + k] /= f64::from((*n).max(1));
        }
    }
    Ok(sums)
}

fn to_f32(values: &[f64]) -> Vec<f32> {
    #[expect(clippy::cast_possible_truncation, reason = "f32 pixels for display")]
    values.iter().map(|v| *v as f32).collect()
}

fn u32_of(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) fn frame(nwb: &NwbFile, req: &GetFrame, limits: &Limits) -> Result<Frame, WorkerError> {
    let l = layout(nwb, &req.path)?;
    readable(nwb, &l)?;
    if req.plane >= l.planes {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!("plane {} asked for; it has {}", req.plane, l.planes),
        ));
    }
    let index = match req.at {
        FrameAt::Index(i) => i,
        FrameAt::Time(t) => index_at(nwb, &l, t)?,
    };
    if index >= l.frames {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!("frame {index} asked for; it has {}", l.frames),
        ));
    }
    let (step, h, w) = fit(&l, req.max_size);
    let frame_values = h * w * l.channels;
    let count = if l.is_series {
        u64::from(req.count.max(1))
            .min(l.frames - index)
            .min((limits.max_frame_values / frame_values.max(1)).max(1))
    } else {
        1
    };
    let o = req.orientation;
    let (hs, ws, ch) = (usize_of(h), usize_of(w), usize_of(l.channels));
    let per = hs * ws * ch;
    let (pixels, first) = if step == 1 {
        let array = read(
            nwb,
            &l,
            &selection(&l, index..index + count, 0..l.rows, req.plane),
        )?;
        let first = head_f64(&array, per);
        let pixels = oriented(&array, hs, ws, ch, o).ok_or_else(|| {
            error(
                nwb,
                ErrorKind::Format,
                &l.path,
                &format!(
                    "read {} values for {count} frames of {h} × {w} × {ch}",
                    array.len()
                ),
            )
        })?;
        (pixels, first)
    } else {
        let mut all = Vec::with_capacity(per * usize_of(count));
        let mut first = Vec::new();
        for f in index..index + count {
            let frame = downsampled(
                nwb,
                &l,
                f,
                req.plane,
                (step, h, w),
                limits.frame_block_values,
            )?;
            all.extend(o.apply(hs, ws, ch, &to_f32(&frame)));
            if f == index {
                first = frame;
            }
        }
        (TypedBuffer::from_f32(&all), first)
    };
    let (min, max, low, high) = stats(&first);
    let (height, width) = o.dims(hs, ws);
    Ok(Frame {
        path: l.path.clone(),
        index,
        count: u32_of(count),
        plane: req.plane,
        times: TypedBuffer::from_f64(&frame_times(nwb, &l, index..index + count)?),
        width: u32_of(width as u64),
        height: u32_of(height as u64),
        channels: u32_of(l.channels),
        step: u32_of(step),
        orientation: o,
        pixels,
        dtype: l.dtype.name().to_string(),
        min,
        max,
        low,
        high,
    })
}

pub(crate) fn projection(
    nwb: &NwbFile,
    req: &GetProjection,
    limits: &Limits,
) -> Result<Projection, WorkerError> {
    let l = layout(nwb, &req.path)?;
    readable(nwb, &l)?;
    if !l.is_series {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            "is one image, not a series to project",
        ));
    }
    if req.plane >= l.planes {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!("plane {} asked for; it has {}", req.plane, l.planes),
        ));
    }
    let (a, b) = (req.frames.0, req.frames.1.min(l.frames));
    if a >= b {
        return Err(error(
            nwb,
            ErrorKind::BadRequest,
            &l.path,
            &format!(
                "frames {}..{} asked for; it has {}",
                req.frames.0, req.frames.1, l.frames
            ),
        ));
    }
    let (step, h, w) = fit(&l, req.max_size);
    let (hs, ws, ch) = (usize_of(h), usize_of(w), usize_of(l.channels));
    let per = hs * ws * ch;
    let mut sum = vec![0.0f64; per];
    let mut max = vec![f64::NEG_INFINITY; per];
    let mut add = |frame: &[f64]| {
        for ((s, m), v) in sum.iter_mut().zip(max.iter_mut()).zip(frame) {
            *s += v;
            // NaN wins, as in numpy.
            if v.is_nan() || m.is_nan() {
                *m = f64::NAN;
            } else if v > m {
                *m = *v;
            }
        }
    };
    if step == 1 {
        let k = (limits.frame_block_values / (per as u64).max(1)).max(1);
        let mut f0 = a;
        while f0 < b {
            let f1 = (f0 + k).min(b);
            let values = read(nwb, &l, &selection(&l, f0..f1, 0..l.rows, req.plane))?.to_f64();
            for frame in values.chunks_exact(per) {
                add(frame);
            }
            f0 = f1;
        }
    } else {
        for f in a..b {
            add(&downsampled(
                nwb,
                &l,
                f,
                req.plane,
                (step, h, w),
                limits.frame_block_values,
            )?);
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "frame counts below 2^53")]
    let n = (b - a) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let o = req.orientation;
    let (height, width) = o.dims(hs, ws);
    Ok(Projection {
        path: l.path.clone(),
        frames: (a, b),
        width: u32_of(width as u64),
        height: u32_of(height as u64),
        channels: u32_of(l.channels),
        step: u32_of(step),
        mean: TypedBuffer::from_f32(&o.apply(hs, ws, ch, &to_f32(&mean))),
        max: TypedBuffer::from_f32(&o.apply(hs, ws, ch, &to_f32(&max))),
    })
}
