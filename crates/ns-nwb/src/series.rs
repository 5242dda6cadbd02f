//! TimeSeries and ElectricalSeries.

use std::ops::Range;

use ns_model::{Array, DimSelection, Dtype, Node, Selection, Value};

use crate::Result;
use crate::file::{NwbFile, first_string, type_of};
use crate::util::as_u64;

/// The `data` dataset of a series and the attributes that scale it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    /// Path of the data dataset (soft links resolved).
    pub path: String,
    pub shape: Vec<u64>,
    pub dtype: Dtype,
    pub unit: Option<String>,
    /// Multiply stored values by this (default 1)...
    pub conversion: f64,
    /// ...then add this (default 0) to get values in `unit`.
    pub offset: f64,
    /// Smallest meaningful difference; `None` when missing or unknown
    /// (NWB stores -1 for unknown).
    pub resolution: Option<f64>,
    /// `false` for an events group that stores only `timestamps` (the
    /// ndx-events `Events` type): `path` and `shape` are then those of
    /// the timestamps, and reading data is an error.
    pub has_data: bool,
}

/// When the samples of a series were taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Timing {
    /// Regular sampling: sample `i` is at `starting_time + i / rate` seconds.
    Rate { rate: f64, starting_time: f64 },
    /// One stored time per sample, read on demand with
    /// [`TimeSeries::timestamps`].
    Timestamps {
        /// Path of the timestamps dataset (soft links resolved).
        path: String,
        count: u64,
    },
}

/// A TimeSeries (or subtype) group. Holds metadata only; data and
/// timestamps are read on demand.
pub struct TimeSeries<'a> {
    file: &'a NwbFile,
    path: String,
    neurodata_type: Option<String>,
    description: Option<String>,
    data: SeriesData,
    timing: Timing,
    search_window: u64,
    warnings: Vec<String>,
}

/// Most times computed in one call for a rate (1 GiB of f64), like the
/// read limit for stored ones.
const MAX_COMPUTED_TIMES: u64 = 1 << 27;

/// Timestamps searched by halving until this many remain, then read at once.
const SEARCH_WINDOW: u64 = 4096;

impl<'a> TimeSeries<'a> {
    /// Reads the series' metadata (one read, for `starting_time`).
    pub(crate) fn new(file: &'a NwbFile, node: &Node) -> Result<Self> {
        let path = node.path.clone();
        // An events group without data stands on its timestamps.
        let has_data = file.node(&format!("{path}/data")).is_some()
            || file.node(&format!("{path}/timestamps")).is_none();
        let data_name = if has_data { "data" } else { "timestamps" };
        let data_node = file.dataset(&format!("{path}/{data_name}"))?;
        let Some(info) = &data_node.dataset else {
            return Err(file.invalid(&data_node.path, "is not a dataset".into()));
        };
        let attr_f64 = |name: &str| data_node.attr(name).and_then(scalar_f64);
        let data = SeriesData {
            path: data_node.path.clone(),
            shape: info.shape.clone(),
            dtype: info.dtype,
            unit: data_node.attr("unit").and_then(first_string),
            conversion: attr_f64("conversion").unwrap_or(1.0),
            offset: attr_f64("offset").unwrap_or(0.0),
            resolution: attr_f64("resolution").filter(|r| *r >= 0.0),
            has_data,
        };
        let mut warnings = Vec::new();
        let timing = if let Some(start) = file.node(&format!("{path}/starting_time")) {
            let rate = start.attr("rate").and_then(scalar_f64);
            // As Neurosift reads it: a rate that is not a positive number
            // is taken as 1 Hz, and said so.
            let rate = match rate.filter(|r| r.is_finite() && *r > 0.0) {
                Some(rate) => rate,
                None => {
                    warnings.push(format!(
                        "starting_time has rate {}; samples are drawn 1 s apart",
                        rate.map_or_else(|| "missing".to_string(), |r| r.to_string())
                    ));
                    1.0
                }
            };
            let stored = file
                .read(&start.path, &Selection::all())?
                .to_f64()
                .first()
                .copied();
            let starting_time = match stored {
                Some(t) if t.is_finite() => t,
                other => {
                    warnings.push(format!(
                        "starting_time is {}; the first sample is drawn at 0 s",
                        other.map_or_else(|| "empty".to_string(), |t| t.to_string())
                    ));
                    0.0
                }
            };
            Timing::Rate {
                rate,
                starting_time,
            }
        } else if let Some(ts) = file.node(&format!("{path}/timestamps")) {
            let Some(info) = &ts.dataset else {
                return Err(file.invalid(&ts.path, "is not a dataset".into()));
            };
            Timing::Timestamps {
                path: ts.path.clone(),
                count: info.shape.first().copied().unwrap_or(0),
            }
        } else {
            return Err(file.invalid(&path, "has neither starting_time nor timestamps".into()));
        };
        Ok(Self {
            file,
            neurodata_type: type_of(node).map(str::to_string),
            description: node.attr("description").and_then(first_string),
            path,
            data,
            timing,
            search_window: SEARCH_WINDOW,
            warnings,
        })
    }

    /// What was odd in its timing and how it is read anyway.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Sets how many timestamps the time search reads at once at its end
    /// (for tests of the search itself).
    #[doc(hidden)]
    pub fn set_search_window(&mut self, window: u64) {
        self.search_window = window.max(1);
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn neurodata_type(&self) -> Option<&str> {
        self.neurodata_type.as_deref()
    }

    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub fn data(&self) -> &SeriesData {
        &self.data
    }

    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    /// Samples along the first dimension of `data`.
    pub fn num_samples(&self) -> u64 {
        self.data.shape.first().copied().unwrap_or(0)
    }

    /// Times (seconds) of the samples in `range`, clipped to the series.
    /// Computed for a rate, read for stored timestamps.
    pub fn timestamps(&self, range: Range<u64>) -> Result<Vec<f64>> {
        self.timestamps_step(range, 1)
    }

    /// Like [`TimeSeries::timestamps`], of every `step`-th sample.
    pub fn timestamps_step(&self, range: Range<u64>, step: u64) -> Result<Vec<f64>> {
        let step = step.max(1);
        match &self.timing {
            Timing::Rate { .. } => {
                let end = range.end.min(self.num_samples());
                let start = range.start.min(end);
                if (end - start) / step > MAX_COMPUTED_TIMES {
                    return Err(self.file.invalid(
                        &self.path,
                        format!(
                            "{} times asked for at once; the limit is {MAX_COMPUTED_TIMES}",
                            end - start
                        ),
                    ));
                }
                Ok((start..end)
                    .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                    .map(|i| self.rate_time(i))
                    .collect())
            }
            Timing::Timestamps { path, count } => {
                let end = range.end.min(*count);
                let start = range.start.min(end);
                if start == end {
                    return Ok(Vec::new());
                }
                let rows = Selection(vec![DimSelection::Range {
                    start: Some(start),
                    stop: Some(end),
                    step,
                }]);
                Ok(self.file.read(path, &rows)?.to_f64())
            }
        }
    }

    /// The time (seconds) of sample `i`. For a rate this is defined past
    /// the end too; stored timestamps must exist.
    pub fn time_of_sample(&self, i: u64) -> Result<f64> {
        match &self.timing {
            Timing::Rate { .. } => Ok(self.rate_time(i)),
            Timing::Timestamps { path, count } => {
                if i >= *count {
                    return Err(self.file.invalid(
                        path,
                        format!("sample {i} is past the last of {count} timestamps"),
                    ));
                }
                self.timestamp(path, i)
            }
        }
    }

    /// The samples whose time `t` satisfies `t0 <= t < t1`. Timestamps must
    /// be ascending (as NWB requires); they are binary-searched, reading a
    /// few single values and one small window.
    pub fn sample_range_for_times(&self, t0: f64, t1: f64) -> Result<Range<u64>> {
        let n = self.num_samples();
        let start = self.first_at_or_after(t0, 0)?.min(n);
        let end = if t1 > t0 {
            self.first_at_or_after(t1, start)?.min(n)
        } else {
            start
        };
        Ok(start..end)
    }

    /// Reads `rows` of `data` (clipped), and `columns` of its second
    /// dimension if given (all otherwise).
    pub fn read_data(&self, rows: Range<u64>, columns: Option<Range<u64>>) -> Result<Array> {
        self.read_data_step(rows, 1, columns)
    }

    /// Like [`TimeSeries::read_data`], every `step`-th row.
    pub fn read_data_step(
        &self,
        rows: Range<u64>,
        step: u64,
        columns: Option<Range<u64>>,
    ) -> Result<Array> {
        if !self.data.has_data {
            return Err(self
                .file
                .invalid(&self.path, "stores only timestamps, no data".into()));
        }
        let mut dims = vec![DimSelection::Range {
            start: Some(rows.start),
            stop: Some(rows.end),
            step: step.max(1),
        }];
        if let Some(cols) = columns {
            if self.data.shape.len() < 2 {
                return Err(self.file.invalid(
                    &self.data.path,
                    "has no second dimension to select columns from".into(),
                ));
            }
            dims.push(DimSelection::Range {
                start: Some(cols.start),
                stop: Some(cols.end),
                step: 1,
            });
        }
        self.file.read(&self.data.path, &Selection(dims))
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "sample indices stay far below 2^53"
    )]
    fn rate_time(&self, i: u64) -> f64 {
        match self.timing {
            Timing::Rate {
                rate,
                starting_time,
            } => starting_time + i as f64 / rate,
            Timing::Timestamps { .. } => f64::NAN,
        }
    }

    fn timestamp(&self, path: &str, i: u64) -> Result<f64> {
        let values = self.file.read(path, &Selection::rows(i, i + 1))?.to_f64();
        values
            .first()
            .copied()
            .ok_or_else(|| self.file.invalid(path, format!("no timestamp {i}")))
    }

    /// The first sample at or after `lo` whose time is `>= t` (the number
    /// of samples if none).
    fn first_at_or_after(&self, t: f64, lo: u64) -> Result<u64> {
        let n = self.num_samples();
        match &self.timing {
            Timing::Rate {
                rate,
                starting_time,
            } => {
                let guess = ((t - starting_time) * rate).ceil();
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "saturating, then clamped"
                )]
                let mut i = (guess.max(0.0) as u64).clamp(lo.min(n), n);
                // Settle rounding so that the answer agrees with rate_time.
                while i > lo && self.rate_time(i - 1) >= t {
                    i -= 1;
                }
                while i < n && self.rate_time(i) < t {
                    i += 1;
                }
                Ok(i)
            }
            Timing::Timestamps { path, count } => {
                // Invariant: times before `lo` are < t, times from `hi` on are >= t.
                let (mut lo, mut hi) = (lo.min(*count), *count);
                while hi - lo > self.search_window {
                    let mid = lo + (hi - lo) / 2;
                    if self.timestamp(path, mid)? < t {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if lo == hi {
                    return Ok(lo);
                }
                let window = self.file.read(path, &Selection::rows(lo, hi))?.to_f64();
                let pos = window.iter().position(|v| *v >= t).unwrap_or(window.len());
                Ok(lo + pos as u64)
            }
        }
    }
}

/// One row of an electrodes table, as an ElectricalSeries refers to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Electrode {
    /// Row index in the electrodes table.
    pub row: u64,
    pub id: Option<i64>,
    pub location: Option<String>,
    /// The `group_name` column, or else the name of the `group` reference.
    pub group_name: Option<String>,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub z: Option<f64>,
}

/// An ElectricalSeries (or subtype): a TimeSeries whose channels are rows of
/// an electrodes table.
pub struct ElectricalSeries<'a> {
    series: TimeSeries<'a>,
    /// The `electrodes` DynamicTableRegion dataset.
    region: Option<String>,
    /// The electrodes table it points into.
    table: Option<String>,
}

/// Where the electrodes table lives when a region does not say.
const DEFAULT_ELECTRODES: &str = "/general/extracellular_ephys/electrodes";

impl<'a> ElectricalSeries<'a> {
    pub(crate) fn new(file: &'a NwbFile, node: &Node) -> Result<Self> {
        let series = TimeSeries::new(file, node)?;
        let region = file
            .node(&format!("{}/electrodes", node.path))
            .filter(|n| n.dataset.is_some());
        let table = match region
            .and_then(|r| r.attr("table"))
            .map(crate::file::single)
        {
            Some(Value::Ref(Some(p))) if p.starts_with('/') => Some(p.clone()),
            _ if region.is_some() => file.node(DEFAULT_ELECTRODES).map(|n| n.path.clone()),
            _ => None,
        };
        Ok(Self {
            series,
            region: region.map(|r| r.path.clone()),
            table,
        })
    }

    /// The series itself (timing, data).
    pub fn series(&self) -> &TimeSeries<'a> {
        &self.series
    }

    /// Channels: the second dimension of `data` (1 for 1-D data).
    pub fn num_channels(&self) -> u64 {
        match self.series.data.shape.as_slice() {
            [_, channels, ..] => *channels,
            _ => 1,
        }
    }

    /// Path of the electrodes table the channels refer to.
    pub fn electrodes_table(&self) -> Option<&str> {
        self.table.as_deref()
    }

    /// The electrodes-table row of each channel (empty without an
    /// `electrodes` region).
    pub fn electrode_rows(&self) -> Result<Vec<u64>> {
        let Some(region) = &self.region else {
            return Ok(Vec::new());
        };
        let file = self.series.file;
        file.read(region, &Selection::all())?
            .to_values()
            .iter()
            .map(|v| {
                as_u64(v)
                    .ok_or_else(|| file.invalid(region, format!("row {v:?} is not a row index")))
            })
            .collect()
    }

    /// The electrodes-table rows of the channels, in channel order.
    pub fn electrodes(&self) -> Result<Vec<Electrode>> {
        let rows = self.electrode_rows()?;
        let file = self.series.file;
        let Some(table_path) = &self.table else {
            return Ok(rows.into_iter().map(Electrode::empty).collect());
        };
        let table = file.dynamic_table(table_path)?;
        let column = |name: &str| -> Result<Option<Vec<Value>>> {
            if table.column_info(name).is_some() {
                table.column(name).map(Some)
            } else {
                Ok(None)
            }
        };
        let ids = table.ids()?;
        let location = column("location")?;
        let group_name = match column("group_name")? {
            Some(names) => Some(names),
            None => column("group")?,
        };
        let [x, y, z] = [column("x")?, column("y")?, column("z")?];
        let text = |col: &Option<Vec<Value>>, i: usize| {
            col.as_ref().and_then(|c| c.get(i)).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Ref(Some(p)) => p.rsplit('/').next().map(str::to_string),
                _ => None,
            })
        };
        let number = |col: &Option<Vec<Value>>, i: usize| {
            col.as_ref().and_then(|c| c.get(i)).and_then(Value::as_f64)
        };
        rows.into_iter()
            .map(|row| {
                let i = Some(row)
                    .filter(|r| *r < table.num_rows())
                    .and_then(|r| usize::try_from(r).ok())
                    .ok_or_else(|| {
                        file.invalid(
                            table_path,
                            format!("has no row {row} (it has {})", table.num_rows()),
                        )
                    })?;
                Ok(Electrode {
                    row,
                    id: ids.get(i).copied(),
                    location: text(&location, i),
                    group_name: text(&group_name, i),
                    x: number(&x, i),
                    y: number(&y, i),
                    z: number(&z, i),
                })
            })
            .collect()
    }
}

impl Electrode {
    fn empty(row: u64) -> Self {
        Self {
            row,
            id: None,
            location: None,
            group_name: None,
            x: None,
            y: None,
            z: None,
        }
    }
}

/// A number attribute (or the first of a list).
fn scalar_f64(value: &Value) -> Option<f64> {
    match value {
        Value::List(items) => items.first().and_then(scalar_f64),
        other => other.as_f64(),
    }
}
