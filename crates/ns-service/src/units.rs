//! Units: the table's summary, raster windows (spike times or per-bin
//! counts) and PSTHs. Spike times are read per unit as slices of the
//! ragged array (consecutive units in one read), kept in a byte-bounded
//! cache; a unit with very many spikes is read only around the window.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use ns_model::Value;
use ns_nwb::{NwbFile, Units};
use ns_protocol::{
    ErrorKind, GetPsth, GetRaster, Psth, Raster, TypedBuffer, UnitColumn, UnitsInfo, WorkerError,
};

use crate::Limits;
use crate::error::nwb_error;
use crate::values::value_text;

/// Units asked for at once at most.
const MAX_UNITS: usize = 10_000;
/// A unit with more spikes than this is read only around each window.
const WHOLE_UNIT_SPIKES: u64 = 1 << 20;
/// Spikes the summary reads to find the extent (more: the ends only).
const EXTENT_SPIKES: u64 = 1 << 22;
/// Bytes of spike times kept.
const CACHE_BYTES: usize = 64 << 20;
/// A column is categorical (colors) with at most this many values.
const MAX_CATEGORIES: usize = 20;
/// Fine bins per bin when smoothing, and the Gaussian's σ in fine bins.
const SMOOTH_FACTOR: u32 = 30;
const SMOOTH_SIGMA: f64 = 15.0;

/// Spike times of units, by table and row.
#[derive(Default)]
pub(crate) struct SpikeCache {
    inner: Mutex<CacheInner>,
}

type Entry = (Arc<Vec<f64>>, u64);

#[derive(Default)]
struct CacheInner {
    /// (table, row) → (times, last use).
    map: HashMap<(String, u64), Entry>,
    bytes: usize,
    clock: u64,
}

impl SpikeCache {
    fn get(&self, path: &str, unit: u64) -> Option<Arc<Vec<f64>>> {
        let mut c = self.inner.lock().ok()?;
        c.clock += 1;
        let clock = c.clock;
        let entry = c.map.get_mut(&(path.to_string(), unit))?;
        entry.1 = clock;
        Some(Arc::clone(&entry.0))
    }

    fn put(&self, path: &str, unit: u64, times: Arc<Vec<f64>>) {
        let Ok(mut c) = self.inner.lock() else { return };
        c.clock += 1;
        let clock = c.clock;
        c.bytes += times.len() * 8;
        if let Some((old, _)) = c.map.insert((path.to_string(), unit), (times, clock)) {
            c.bytes -= old.len() * 8;
        }
        while c.bytes > CACHE_BYTES {
            let Some(oldest) = c
                .map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((old, _)) = c.map.remove(&oldest) {
                c.bytes -= old.len() * 8;
            }
        }
    }
}

fn bad(nwb: &NwbFile, path: &str, kind: ErrorKind, message: String) -> WorkerError {
    WorkerError::new(kind, format!("{}: {path}: {message}", nwb.location()))
}

pub(crate) fn units_info(nwb: &NwbFile, path: &str) -> Result<UnitsInfo, WorkerError> {
    let err = |e: ns_nwb::Error| nwb_error(&e);
    let units = nwb.units(path).map_err(err)?;
    let table = units.table();
    let ids = table.ids().map_err(err)?;
    let counts = units.spike_counts().map_err(err)?;
    let total: u64 = counts.iter().sum();
    let mut warnings = Vec::new();
    let empty = counts.iter().filter(|c| **c == 0).count();
    if empty > 0 {
        warnings.push(format!("{empty} unit(s) have no spikes"));
    }
    // The extent: from every spike when there are not too many, else from
    // each end of the array (units are stored one after another).
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut unsorted = 0;
    let mut extend = |times: &[f64]| {
        for t in times.iter().filter(|t| t.is_finite()) {
            lo = lo.min(*t);
            hi = hi.max(*t);
        }
    };
    if total <= EXTENT_SPIKES {
        let all = units.all_spike_times().map_err(err)?;
        for u in &all {
            extend(u);
        }
        unsorted = all
            .iter()
            .filter(|u| u.windows(2).any(|w| w[1] < w[0]))
            .count();
    } else {
        extend(&units.spike_slice(0..4096).map_err(err)?);
        extend(&units.spike_slice(total - 4096..total).map_err(err)?);
    }
    if unsorted > 0 {
        warnings.push(format!(
            "{unsorted} unit(s) have spike times out of order; they are sorted for drawing"
        ));
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 0.0);
    }
    let mut columns = Vec::new();
    for column in table.columns() {
        if column.is_ragged() || column.shape.len() != 1 || column.name == units.spikes_column() {
            continue;
        }
        let Ok(values) = table.column(&column.name) else {
            continue;
        };
        let numeric = values.iter().all(|v| {
            matches!(
                v,
                Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Bool(_)
            )
        });
        let texts: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::Ref(Some(p)) => p.rsplit('/').next().unwrap_or(p).to_string(),
                other => value_text(other),
            })
            .collect();
        let mut distinct: Vec<String> = texts.clone();
        ns_sort::sort(&mut distinct);
        distinct.dedup();
        let categories = (distinct.len() <= MAX_CATEGORIES).then_some(distinct);
        columns.push(UnitColumn {
            name: column.name.clone(),
            numeric,
            categories,
            values: texts,
        });
    }
    Ok(UnitsInfo {
        path: table.path().to_string(),
        spikes_column: units.spikes_column().to_string(),
        ids,
        spike_counts: counts,
        columns,
        start_secs: lo,
        end_secs: hi,
        warnings,
    })
}

/// Spike times of `rows` in `start..end` (sorted), reading what is not
/// cached: runs of consecutive small units in one read each, large units
/// around the window only.
fn spikes_in(
    nwb: &NwbFile,
    cache: &SpikeCache,
    path: &str,
    units: &Units<'_>,
    counts: &[u64],
    rows: &[u64],
    window: (f64, f64),
) -> Result<Vec<Vec<f64>>, WorkerError> {
    let err = |e: ns_nwb::Error| nwb_error(&e);
    let count = |r: u64| usize::try_from(r).ok().and_then(|r| counts.get(r)).copied();
    for r in rows {
        if count(*r).is_none() {
            return Err(bad(
                nwb,
                path,
                ErrorKind::BadRequest,
                format!("has no unit row {r} (it has {})", counts.len()),
            ));
        }
    }
    // Load the small units that are not cached, consecutive rows together.
    let mut missing: Vec<u64> = rows
        .iter()
        .copied()
        .filter(|r| count(*r).is_some_and(|n| n <= WHOLE_UNIT_SPIKES))
        .filter(|r| cache.get(path, *r).is_none())
        .collect();
    ns_sort::sort(&mut missing);
    missing.dedup();
    let mut i = 0;
    while i < missing.len() {
        let mut j = i + 1;
        let mut spikes = count(missing[i]).unwrap_or(0);
        while j < missing.len()
            && missing[j] == missing[j - 1] + 1
            && spikes + count(missing[j]).unwrap_or(0) <= WHOLE_UNIT_SPIKES * 4
        {
            spikes += count(missing[j]).unwrap_or(0);
            j += 1;
        }
        let run = missing[i]..missing[j - 1] + 1;
        let times = units.spike_times_of(run.clone()).map_err(err)?;
        for (row, mut t) in run.zip(times) {
            if t.windows(2).any(|w| w[1] < w[0]) {
                t.sort_by(f64::total_cmp);
            }
            cache.put(path, row, Arc::new(t));
        }
        i = j;
    }
    rows.iter()
        .map(|r| {
            let all = match cache.get(path, *r) {
                Some(t) => t,
                // Evicted meanwhile, or too large to keep: read around the window.
                None => Arc::new(
                    units
                        .spike_times_between(*r, window.0, window.1)
                        .map_err(err)?,
                ),
            };
            let a = all.partition_point(|t| *t < window.0);
            let b = all.partition_point(|t| *t < window.1);
            Ok(all.get(a..b.max(a)).unwrap_or_default().to_vec())
        })
        .collect()
}

pub(crate) fn raster(
    nwb: &NwbFile,
    cache: &SpikeCache,
    req: &GetRaster,
    limits: &Limits,
) -> Result<Raster, WorkerError> {
    if req.units.len() > MAX_UNITS {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::TooLarge,
            format!("{} units at once; at most {MAX_UNITS}", req.units.len()),
        ));
    }
    if !(req.start_secs.is_finite() && req.end_secs.is_finite()) || req.bins == 0 {
        return Err(bad(
            nwb,
            &req.path,
            ErrorKind::BadRequest,
            "the window must be finite and have bins".into(),
        ));
    }
    let units = nwb.units(&req.path).map_err(|e| nwb_error(&e))?;
    let counts = units.spike_counts().map_err(|e| nwb_error(&e))?;
    let spikes = spikes_in(
        nwb,
        cache,
        &req.path,
        &units,
        &counts,
        &req.units,
        (req.start_secs, req.end_secs),
    )?;
    let in_window: Vec<u64> = spikes.iter().map(|s| s.len() as u64).collect();
    let total: u64 = in_window.iter().sum();
    let (times, binned) = if total <= u64::from(req.max_spikes).min(limits.max_values) {
        let all: Vec<f64> = spikes.into_iter().flatten().collect();
        (Some(TypedBuffer::from_f64(&all)), None)
    } else {
        let bins = usize::try_from(req.bins).unwrap_or(1);
        if (bins as u64).saturating_mul(req.units.len() as u64) > limits.max_window_cells {
            return Err(bad(
                nwb,
                &req.path,
                ErrorKind::TooLarge,
                format!("{bins} bins × {} units; ask for fewer", req.units.len()),
            ));
        }
        let width = req.end_secs - req.start_secs;
        let mut out = vec![0u32; bins * req.units.len()];
        for (u, s) in spikes.iter().enumerate() {
            for t in s {
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss,
                    reason = "a bin index, clamped"
                )]
                let b = (((t - req.start_secs) / width * bins as f64) as usize).min(bins - 1);
                if let Some(c) = out.get_mut(u * bins + b) {
                    *c = c.saturating_add(1);
                }
            }
        }
        (None, Some(TypedBuffer::from_u32(&out)))
    };
    Ok(Raster {
        path: req.path.clone(),
        units: req.units.clone(),
        counts: in_window,
        times,
        binned,
        bins: req.bins,
    })
}

/// The rows' values of a table column as text (`None`: no such column).
fn column_texts(nwb: &NwbFile, path: &str, name: &str) -> Option<Vec<String>> {
    let table = nwb.dynamic_table(path).ok()?;
    table.column_info(name)?;
    let values = table.column(name).ok()?;
    Some(values.iter().map(value_text).collect())
}

pub(crate) fn psth(
    nwb: &NwbFile,
    cache: &SpikeCache,
    req: &GetPsth,
    limits: &Limits,
) -> Result<Psth, WorkerError> {
    let trials_path = req.trials_path.as_str();
    let b = |kind, m: String| bad(nwb, trials_path, kind, m);
    if !(req.window_start.is_finite() && req.window_end.is_finite())
        || req.window_end <= req.window_start
    {
        return Err(b(
            ErrorKind::BadRequest,
            format!(
                "the window {}..{} s is empty",
                req.window_start, req.window_end
            ),
        ));
    }
    if !(1..=1000).contains(&req.num_bins) {
        return Err(b(
            ErrorKind::BadRequest,
            format!("numBins must be 1 to 1000, not {}", req.num_bins),
        ));
    }
    if req.units.len() > 1000 {
        return Err(b(
            ErrorKind::TooLarge,
            format!("{} units at once; at most 1000", req.units.len()),
        ));
    }
    let mut warnings = Vec::new();
    // Alignment times: a table column, or an events series' timestamps.
    let table = nwb.dynamic_table(trials_path).ok();
    let (align, align_candidates, group_candidates, n) = match &table {
        Some(table) => {
            let names: Vec<String> = table.colnames().iter().map(|s| (*s).to_string()).collect();
            let align_candidates: Vec<String> = names
                .iter()
                .filter(|c| c.ends_with("_time") || c.ends_with("_times"))
                .cloned()
                .collect();
            let n = table.num_rows();
            if n > limits.max_values {
                return Err(b(
                    ErrorKind::TooLarge,
                    format!("{n} trials; at most {}", limits.max_values),
                ));
            }
            let align = table.column_f64(&req.align_to).map_err(|e| nwb_error(&e))?;
            let half = usize::try_from(n / 2).unwrap_or(usize::MAX);
            let group_candidates = names
                .iter()
                .filter(|c| !c.ends_with("_time") && !c.ends_with("_times") && c.as_str() != "id")
                .filter(|c| {
                    table
                        .column_info(c)
                        .is_some_and(|i| !i.is_ragged() && i.shape.len() == 1)
                })
                .filter(|c| {
                    column_texts(nwb, trials_path, c).is_some_and(|t| {
                        let mut d = t;
                        ns_sort::sort(&mut d);
                        d.dedup();
                        d.len() >= 2 && d.len() <= half.max(2)
                    })
                })
                .cloned()
                .collect();
            if table.column_info("stop_time").is_some() && table.column_info("start_time").is_some()
            {
                let (start, stop) = (
                    table.column_f64("start_time").map_err(|e| nwb_error(&e))?,
                    table.column_f64("stop_time").map_err(|e| nwb_error(&e))?,
                );
                let backwards = start.iter().zip(&stop).filter(|(a, b)| b < a).count();
                if backwards > 0 {
                    warnings.push(format!("{backwards} trial(s) stop before they start"));
                }
            }
            (align, align_candidates, group_candidates, n)
        }
        None => {
            let series = nwb.time_series(trials_path).map_err(|e| nwb_error(&e))?;
            let n = series.num_samples();
            if n > limits.max_values {
                return Err(b(
                    ErrorKind::TooLarge,
                    format!("{n} events; at most {}", limits.max_values),
                ));
            }
            let times = series.timestamps(0..n).map_err(|e| nwb_error(&e))?;
            (times, Vec::new(), Vec::new(), n)
        }
    };
    let n = usize::try_from(n).unwrap_or(0);
    let nan = align.iter().filter(|t| !t.is_finite()).count();
    if nan > 0 {
        warnings.push(format!(
            "{nan} trial(s) have no {} (NaN) and are left out",
            req.align_to
        ));
    }
    // Trials kept: finite alignment, the filter, the categories.
    let filter_columns: Vec<(String, Vec<String>)> = req
        .trial_filter
        .iter()
        .map(|c| {
            column_texts(nwb, trials_path, &c.column)
                .map(|t| (c.column.clone(), t))
                .ok_or_else(|| {
                    b(
                        ErrorKind::NotFound,
                        format!("no column {:?} to filter trials by", c.column),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    let cols: Vec<(&str, &[String])> = filter_columns
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let kept = ns_protocol::filter::select(&req.trial_filter, &cols, n)
        .map_err(|m| b(ErrorKind::BadRequest, m))?;
    let group_texts = match &req.group_by {
        Some(g) => Some(column_texts(nwb, trials_path, g).ok_or_else(|| {
            b(
                ErrorKind::NotFound,
                format!("no column {g:?} to group trials by"),
            )
        })?),
        None => None,
    };
    // Groups in sorted order (numbers as numbers).
    let mut groups: Vec<String> = match &group_texts {
        Some(t) => {
            let mut d: Vec<String> = kept.iter().filter_map(|i| t.get(*i).cloned()).collect();
            ns_sort::sort_by(&mut d, |a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.total_cmp(&y),
                _ => a.cmp(b),
            });
            d.dedup();
            d
        }
        None => vec![String::new()],
    };
    if !req.categories.is_empty() {
        groups.retain(|g| req.categories.contains(g));
    }
    let group_index: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.as_str(), i))
        .collect();
    // (trial, group, align time) of the rows, ordered by group.
    let mut rows: Vec<(usize, usize, f64)> = kept
        .iter()
        .filter_map(|&i| {
            let t = *align.get(i)?;
            if !t.is_finite() {
                return None;
            }
            let g = match &group_texts {
                Some(texts) => *group_index.get(texts.get(i)?.as_str())?,
                None => 0,
            };
            Some((i, g, t))
        })
        .collect();
    ns_sort::sort_by_key(&mut rows, |(i, g, _)| (*g, *i));
    let mut trials_per_group = vec![0u64; groups.len()];
    for (_, g, _) in &rows {
        trials_per_group[*g] += 1;
    }
    let bins = if req.smoothed {
        req.num_bins * SMOOTH_FACTOR
    } else {
        req.num_bins
    };
    let nb = usize::try_from(bins).unwrap_or(1);
    let cells = req.units.len() * groups.len() * nb;
    if cells as u64 > limits.max_window_cells {
        return Err(b(
            ErrorKind::TooLarge,
            format!("{cells} histogram cells; ask for fewer units or bins"),
        ));
    }
    let (ws, we) = (req.window_start, req.window_end);
    #[expect(clippy::cast_precision_loss, reason = "bin counts")]
    let bw = (we - ws) / nb as f64;
    let units = nwb.units(&req.units_path).map_err(|e| nwb_error(&e))?;
    let counts = units.spike_counts().map_err(|e| nwb_error(&e))?;
    // The spikes of the whole span the trials cover, per unit.
    let span = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, z), (_, _, t)| {
            (a.min(t + ws), z.max(t + we))
        });
    let spikes = if rows.is_empty() {
        vec![Vec::new(); req.units.len()]
    } else {
        spikes_in(
            nwb,
            cache,
            &req.units_path,
            &units,
            &counts,
            &req.units,
            span,
        )?
    };
    let mut rates = vec![0.0f64; cells];
    let mut sem = (!req.smoothed).then(|| vec![0.0f64; cells]);
    let mut raster_times: Vec<f32> = Vec::new();
    let mut raster_ends: Vec<u32> = Vec::with_capacity(req.units.len() * rows.len());
    let mut per_trial = vec![0u32; nb];
    for (u, s) in spikes.iter().enumerate() {
        let mut sum = vec![0.0f64; groups.len() * nb];
        let mut sum_sq = vec![0.0f64; groups.len() * nb];
        for (_, g, t) in &rows {
            let a = s.partition_point(|x| *x < t + ws);
            let z = s.partition_point(|x| *x < t + we);
            per_trial.iter_mut().for_each(|c| *c = 0);
            for x in s.get(a..z.max(a)).unwrap_or_default() {
                let rel = x - t;
                #[expect(clippy::cast_possible_truncation, reason = "raster drawing")]
                raster_times.push(rel as f32);
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a bin index, clamped"
                )]
                let bin = (((rel - ws) / bw) as usize).min(nb - 1);
                per_trial[bin] += 1;
            }
            if raster_times.len() > 4_000_000 {
                return Err(b(
                    ErrorKind::TooLarge,
                    "more than 4 million spikes in the trial rasters; ask for fewer units".into(),
                ));
            }
            raster_ends.push(u32::try_from(raster_times.len()).unwrap_or(u32::MAX));
            for (k, c) in per_trial.iter().enumerate() {
                let r = f64::from(*c) / bw;
                sum[g * nb + k] += r;
                sum_sq[g * nb + k] += r * r;
            }
        }
        for g in 0..groups.len() {
            #[expect(clippy::cast_precision_loss, reason = "trial counts")]
            let nt = trials_per_group[g] as f64;
            let fine: Vec<f64> = (0..nb)
                .map(|k| if nt > 0.0 { sum[g * nb + k] / nt } else { 0.0 })
                .collect();
            let shown = if req.smoothed {
                gaussian(&fine, SMOOTH_SIGMA)
            } else {
                fine
            };
            let base = (u * groups.len() + g) * nb;
            rates[base..base + nb].copy_from_slice(&shown);
            if let Some(sem) = sem.as_mut() {
                for k in 0..nb {
                    let mean = shown[k];
                    let var = if nt > 1.0 {
                        (sum_sq[g * nb + k] - nt * mean * mean).max(0.0) / (nt - 1.0)
                    } else {
                        0.0
                    };
                    sem[base + k] = if nt > 0.0 { (var / nt).sqrt() } else { 0.0 };
                }
            }
        }
    }
    let row_group: Vec<u32> = rows
        .iter()
        .map(|(_, g, _)| u32::try_from(*g).unwrap_or(u32::MAX))
        .collect();
    Ok(Psth {
        align_to: req.align_to.clone(),
        groups,
        trials_per_group,
        bins,
        rates: TypedBuffer::from_f64(&rates),
        sem: sem.map(|s| TypedBuffer::from_f64(&s)),
        row_group: TypedBuffer::from_u32(&row_group),
        raster_times: TypedBuffer::from_f32(&raster_times),
        raster_ends: TypedBuffer::from_u32(&raster_ends),
        align_candidates,
        group_candidates,
        warnings,
    })
}

/// `values` smoothed with a Gaussian of `sigma` bins (truncated at 3σ,
/// normalized where the kernel leaves the ends).
fn gaussian(values: &[f64], sigma: f64) -> Vec<f64> {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a small radius"
    )]
    let radius = (3.0 * sigma).ceil() as usize;
    let kernel: Vec<f64> = (0..=2 * radius)
        .map(|i| {
            #[expect(clippy::cast_precision_loss, reason = "small offsets")]
            let d = i as f64 - radius as f64;
            (-0.5 * (d / sigma).powi(2)).exp()
        })
        .collect();
    (0..values.len())
        .map(|i| {
            let (mut acc, mut w) = (0.0, 0.0);
            for (k, kv) in kernel.iter().enumerate() {
                let Some(j) = (i + k).checked_sub(radius) else {
                    continue;
                };
                if let Some(v) = values.get(j) {
                    acc += v * kv;
                    w += kv;
                }
            }
            if w > 0.0 { acc / w } else { 0.0 }
        })
        .collect()
}
