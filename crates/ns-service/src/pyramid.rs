//! The min/max pyramid behind zoomed-out windows: per-bucket minimum and
//! maximum of every channel at levels of coarser and coarser buckets,
//! computed once from the raw data and kept in a byte-bounded cache, so that
//! a window of any length is answered from a few thousand summaries instead
//! of every sample.
//!
//! Level `j` has buckets of `16 · 4^j` samples ([`bucket_samples`]). A
//! segment holds [`SEGMENT_BUCKETS`] consecutive buckets of one level for
//! the channels of one group of [`GROUP`] columns: per bucket and channel
//! the f32 minimum and maximum (conversion and offset applied, NaN samples
//! skipped, NaN when all are NaN) and the f64 time of the bucket's first
//! sample (computed for a rate, read with the data for stored timestamps; a
//! NaN timestamp gives a NaN bucket time). Narrowing to f32 is monotone, so
//! the f32 minimum of minimums equals the f32 of the exact minimum: every
//! level is exact.
//!
//! Level 0 is computed from raw data read in blocks of about
//! `Limits::window_block_values` values (whole segments, whole chunks, the
//! columns of every group the request needs), every segment of a block
//! cached, so that no chunk is decoded twice in one sweep. Level `j > 0`
//! folds its four children at level `j - 1`, depth first: beyond the cache
//! at most one segment per level and group is held while building. A
//! request may read at most `Limits::window_read_values` raw values; when
//! they run out, the segments stay partial (a computed prefix of buckets,
//! cached too) and the next request continues where this one stopped.
//!
//! Progress across requests needs the window's own segments and the chain
//! of partial ones below them to survive in the cache until the next
//! request: a window re-caches its segments last ([`Build::keep`]) and is
//! drawn at a level whose segments fit in three quarters of the cache (a
//! coarser level, fewer buckets than asked, when they would not). A cache
//! too small to hold even that could make a window pending forever; the
//! default (32 MiB) holds the segments of windows up to about 3M bucket ×
//! channel cells at the level asked; larger ones are drawn coarser.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ns_nwb::{TimeSeries, Timing};
use ns_protocol::{ErrorKind, WorkerError};

use crate::error::nwb_error;

/// Samples per bucket at level 0.
pub(crate) const BASE: u64 = 16;
/// Buckets of one level per bucket of the next.
pub(crate) const FAN: u64 = 4;
/// Buckets per segment.
pub(crate) const SEGMENT_BUCKETS: u64 = 1024;
/// Columns per channel group.
pub(crate) const GROUP: u64 = 64;
/// The coarsest level (buckets of 2^52 samples).
pub(crate) const MAX_LEVEL: u32 = 24;
/// Bytes counted per cache entry besides its numbers (key, maps, vectors).
const ENTRY_OVERHEAD: u64 = 160;

/// Samples per bucket at `level`.
pub(crate) fn bucket_samples(level: u32) -> u64 {
    BASE << (2 * level.min(MAX_LEVEL))
}

/// Samples per segment at `level`.
pub(crate) fn segment_samples(level: u32) -> u64 {
    bucket_samples(level) * SEGMENT_BUCKETS
}

fn index(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Summaries of consecutive buckets of one level for one channel group.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// Channels of the group.
    pub width: usize,
    /// Buckets that hold samples (fewer than [`SEGMENT_BUCKETS`] at the
    /// end of the series).
    pub len: usize,
    /// Buckets computed so far: `0..done` (a prefix).
    pub done: usize,
    /// Per bucket, then per channel.
    pub min: Vec<f32>,
    pub max: Vec<f32>,
    /// Time of each bucket's first sample.
    pub times: Vec<f64>,
}

impl Segment {
    fn empty(width: usize, len: usize) -> Self {
        Self {
            width,
            len,
            done: 0,
            min: vec![f32::NAN; len * width],
            max: vec![f32::NAN; len * width],
            times: vec![f64::NAN; len],
        }
    }

    pub fn complete(&self) -> bool {
        self.done >= self.len
    }

    pub fn bytes(&self) -> u64 {
        let numbers = (self.min.len() + self.max.len()) * 4 + self.times.len() * 8;
        u64::try_from(numbers).unwrap_or(u64::MAX)
    }

    /// Folds `kid` (the child segment one level down whose first bucket
    /// falls on bucket `offset` of this one) into its parent buckets,
    /// as far as `kid` is computed.
    fn fold(&mut self, offset: usize, kid: &Segment) {
        let fan = index(FAN);
        let whole = if kid.complete() {
            kid.len.div_ceil(fan)
        } else {
            kid.done / fan
        };
        let width = self.width.min(kid.width);
        for b in 0..whole {
            let p = offset + b;
            let kids = b * fan..(b * fan + fan).min(kid.len);
            if p >= self.len {
                break;
            }
            self.times[p] = kid.times[kids.start];
            for c in 0..width {
                let (mut lo, mut hi) = (f32::NAN, f32::NAN);
                for k in kids.clone() {
                    // `min`/`max` return the other operand for a NaN.
                    lo = lo.min(kid.min[k * kid.width + c]);
                    hi = hi.max(kid.max[k * kid.width + c]);
                }
                self.min[p * self.width + c] = lo;
                self.max[p * self.width + c] = hi;
            }
        }
        self.done = (offset + whole).min(self.len);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    series: Arc<str>,
    group: u64,
    level: u32,
    segment: u64,
}

struct Entry {
    segment: Arc<Segment>,
    used: u64,
    bytes: u64,
}

/// Least recently used segments, at most `budget` bytes.
#[derive(Default)]
struct Lru {
    budget: u64,
    bytes: u64,
    clock: u64,
    entries: HashMap<Key, Entry>,
    /// Entries by last use.
    order: BTreeMap<u64, Key>,
}

impl Lru {
    fn get(&mut self, key: &Key) -> Option<Arc<Segment>> {
        let entry = self.entries.get_mut(key)?;
        self.order.remove(&entry.used);
        self.clock += 1;
        entry.used = self.clock;
        self.order.insert(self.clock, key.clone());
        Some(Arc::clone(&entry.segment))
    }

    fn has_complete(&self, key: &Key) -> bool {
        self.entries.get(key).is_some_and(|e| e.segment.complete())
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.entries.remove(key) {
            self.order.remove(&old.used);
            self.bytes -= old.bytes;
        }
    }

    fn insert(&mut self, key: Key, segment: Arc<Segment>) {
        self.remove(&key);
        let bytes =
            segment.bytes() + u64::try_from(key.series.len()).unwrap_or(u64::MAX) + ENTRY_OVERHEAD;
        if bytes > self.budget {
            return;
        }
        while self.bytes + bytes > self.budget {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(old) = self.entries.remove(&oldest) {
                self.bytes -= old.bytes;
            }
        }
        self.clock += 1;
        self.order.insert(self.clock, key.clone());
        self.entries.insert(
            key,
            Entry {
                segment,
                used: self.clock,
                bytes,
            },
        );
        self.bytes += bytes;
    }
}

/// The cache of pyramid segments of every series of one file (owned by the
/// [`crate::Service`]; shared by its requests).
pub(crate) struct Pyramid {
    lru: Mutex<Lru>,
}

impl Pyramid {
    pub fn new(budget_bytes: u64) -> Self {
        Self {
            lru: Mutex::new(Lru {
                budget: budget_bytes,
                ..Lru::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Lru> {
        // A panic while holding the lock cannot leave the map inconsistent
        // in a way that matters: at worst a byte count is off.
        self.lru.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes held (numbers and per-entry overhead).
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// Bytes it may hold.
    pub fn budget(&self) -> u64 {
        self.lock().budget
    }

    /// Segments held.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

/// One request's work on the pyramid of one series: finds segments in the
/// cache or computes them, within the request's read budget.
pub(crate) struct Build<'a, 'f> {
    pyramid: &'a Pyramid,
    series: &'a TimeSeries<'f>,
    location: &'a str,
    key: Arc<str>,
    samples: u64,
    /// Columns of `data` (1 for 1-D).
    columns: u64,
    two_d: bool,
    /// Rows and columns of one chunk of `data` (1 when not chunked).
    chunk: (u64, u64),
    block_values: u64,
    budget: u64,
    spent: u64,
    exhausted: bool,
    conversion: f64,
    offset: f64,
}

/// Where a [`Build`] reads and how much it may.
pub(crate) struct BuildSetup<'a, 'f> {
    pub pyramid: &'a Pyramid,
    pub series: &'a TimeSeries<'f>,
    pub location: &'a str,
    /// Rows and columns of one chunk of `data`.
    pub chunk: (u64, u64),
    /// Values read at once.
    pub block_values: u64,
    /// Values this request may read.
    pub budget: u64,
}

impl<'a, 'f> Build<'a, 'f> {
    pub fn new(setup: BuildSetup<'a, 'f>) -> Self {
        let data = setup.series.data();
        Self {
            pyramid: setup.pyramid,
            series: setup.series,
            location: setup.location,
            key: Arc::from(setup.series.path()),
            samples: setup.series.num_samples(),
            columns: data.shape.get(1).copied().unwrap_or(1),
            two_d: data.shape.len() == 2,
            chunk: (setup.chunk.0.max(1), setup.chunk.1.max(1)),
            block_values: setup.block_values.max(1),
            budget: setup.budget,
            spent: 0,
            exhausted: false,
            conversion: data.conversion,
            offset: data.offset,
        }
    }

    /// Columns of group `g`.
    pub fn group_columns(&self, g: u64) -> Range<u64> {
        let start = (g * GROUP).min(self.columns);
        start..(start + GROUP).min(self.columns)
    }

    fn key(&self, group: u64, level: u32, segment: u64) -> Key {
        Key {
            series: Arc::clone(&self.key),
            group,
            level,
            segment,
        }
    }

    /// Buckets of segment `segment` of `level` that hold samples.
    fn segment_len(&self, level: u32, segment: u64) -> usize {
        let start = segment.saturating_mul(segment_samples(level));
        let rows = self
            .samples
            .saturating_sub(start)
            .min(segment_samples(level));
        index(rows.div_ceil(bucket_samples(level)))
    }

    fn error(&self, message: String) -> WorkerError {
        WorkerError::new(
            ErrorKind::Format,
            format!("{}: {}: {message}", self.location, self.series.data().path),
        )
    }

    /// Segment `segment` of `level` for each of `groups` (in that order):
    /// from the cache, else computed (partial, `done < len`, when the read
    /// budget ran out).
    ///
    /// # Errors
    /// When the data or timestamps cannot be read.
    pub fn segments(
        &mut self,
        level: u32,
        segment: u64,
        groups: &[u64],
    ) -> Result<Vec<Arc<Segment>>, WorkerError> {
        if level == 0 {
            return self.level0(segment, groups);
        }
        let len = self.segment_len(level, segment);
        let mut out: Vec<Option<Arc<Segment>>> = vec![None; groups.len()];
        // (position in `groups`, segment being built, done before, stalled)
        let mut work: Vec<(usize, Segment, usize, bool)> = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let cached = self.pyramid.lock().get(&self.key(*g, level, segment));
            match cached {
                Some(s) if s.complete() => out[i] = Some(s),
                Some(s) => {
                    let s = Arc::unwrap_or_clone(s);
                    let done = s.done;
                    work.push((i, s, done, false));
                }
                None => {
                    let cols = self.group_columns(*g);
                    let width = index(cols.end - cols.start);
                    work.push((i, Segment::empty(width, len), 0, false));
                }
            }
        }
        let per_child = index(SEGMENT_BUCKETS / FAN);
        for c in 0..FAN {
            let first = index(c) * per_child;
            if first >= len {
                break;
            }
            let upto = (first + per_child).min(len);
            let need: Vec<usize> = (0..work.len())
                .filter(|j| !work[*j].3 && work[*j].1.done < upto)
                .collect();
            if need.is_empty() {
                continue;
            }
            let need_groups: Vec<u64> = need.iter().map(|j| groups[work[*j].0]).collect();
            let kids = self.segments(level - 1, segment * FAN + c, &need_groups)?;
            for (j, kid) in need.into_iter().zip(kids) {
                let entry = &mut work[j];
                entry.1.fold(first, &kid);
                entry.3 = !kid.complete();
            }
        }
        for (i, s, before, _) in work {
            let s = Arc::new(s);
            if s.done > before {
                self.pyramid
                    .lock()
                    .insert(self.key(groups[i], level, segment), Arc::clone(&s));
            }
            out[i] = Some(s);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Makes `segments` (segment `segment` of `level` for each of `groups`,
    /// as [`Build::segments`] gave them) the most recently used, cached
    /// again if building later ones evicted them: a pending window's next
    /// request then finds what this one computed.
    pub fn keep(&self, level: u32, segment: u64, groups: &[u64], segments: &[Arc<Segment>]) {
        let mut lru = self.pyramid.lock();
        for (g, s) in groups.iter().zip(segments) {
            if s.done > 0 {
                lru.insert(self.key(*g, level, segment), Arc::clone(s));
            }
        }
    }

    /// Level-0 segment `segment` of `groups`: cached, else read with the
    /// block it starts (every segment of the block cached).
    fn level0(&mut self, segment: u64, groups: &[u64]) -> Result<Vec<Arc<Segment>>, WorkerError> {
        let cached: Vec<Option<Arc<Segment>>> = {
            let mut lru = self.pyramid.lock();
            groups
                .iter()
                .map(|g| lru.get(&self.key(*g, 0, segment)).filter(|s| s.complete()))
                .collect()
        };
        let missing: Vec<u64> = groups
            .iter()
            .zip(&cached)
            .filter(|(_, c)| c.is_none())
            .map(|(g, _)| *g)
            .collect();
        let (Some(first), Some(last)) = (missing.iter().min(), missing.iter().max()) else {
            return Ok(cached.into_iter().flatten().collect());
        };
        let len = self.segment_len(0, segment);
        let mut fresh = self.read_block(segment, *first..*last + 1)?;
        Ok(groups
            .iter()
            .zip(cached)
            .map(|(g, c)| {
                c.or_else(|| fresh.remove(g)).unwrap_or_else(|| {
                    let cols = self.group_columns(*g);
                    let width = index(cols.end - cols.start);
                    Arc::new(Segment::empty(width, len))
                })
            })
            .collect())
    }

    /// Reads the block of rows starting at level-0 segment `segment` for the
    /// columns of `groups` (widened to whole chunks), caches every segment
    /// of it, and returns those of `segment` by group. Empty when the read
    /// budget is spent.
    fn read_block(
        &mut self,
        segment: u64,
        groups: Range<u64>,
    ) -> Result<HashMap<u64, Arc<Segment>>, WorkerError> {
        let mut columns = self.group_columns(groups.start).start
            ..self.group_columns(groups.end.saturating_sub(1)).end;
        if self.two_d {
            // Whole chunks across, and so whole groups.
            let (_, cc) = self.chunk;
            let lo = columns.start / cc * cc;
            let hi = columns
                .end
                .div_ceil(cc)
                .saturating_mul(cc)
                .min(self.columns);
            columns =
                lo / GROUP * GROUP..hi.div_ceil(GROUP).saturating_mul(GROUP).min(self.columns);
        }
        let width = (columns.end - columns.start).max(1);
        let seg_rows = segment_samples(0);
        let per_segment = width.saturating_mul(seg_rows);
        // Whole segments, about one block of values, at least one chunk.
        let mut count = (self.block_values / per_segment)
            .max(1)
            .max(self.chunk.0.div_ceil(seg_rows));
        if self.exhausted {
            return Ok(HashMap::new());
        }
        if self.spent > 0 {
            count = count.min(self.budget.saturating_sub(self.spent) / per_segment);
            if count == 0 {
                self.exhausted = true;
                return Ok(HashMap::new());
            }
        }
        // Stop before segments already cached.
        let first_group = columns.start / GROUP;
        let last_group = columns.end.saturating_sub(1) / GROUP;
        {
            let lru = self.pyramid.lock();
            for k in 1..count {
                let s = segment + k;
                if s.saturating_mul(seg_rows) >= self.samples
                    || (first_group..=last_group).all(|g| lru.has_complete(&self.key(g, 0, s)))
                {
                    count = k;
                    break;
                }
            }
        }
        let rows = segment.saturating_mul(seg_rows)
            ..segment
                .saturating_add(count)
                .saturating_mul(seg_rows)
                .min(self.samples);
        let row_count = rows.end.saturating_sub(rows.start);
        let block = self
            .series
            .read_data(rows.clone(), self.two_d.then(|| columns.clone()))
            .map_err(|e| nwb_error(&e))?
            .to_f64();
        let w = index(width);
        if block.len() != index(row_count).saturating_mul(w) {
            return Err(self.error(format!(
                "read {} values for {row_count} rows × {width} columns",
                block.len()
            )));
        }
        self.spent = self.spent.saturating_add(row_count.saturating_mul(width));
        if self.spent >= self.budget {
            self.exhausted = true;
        }
        let times = match self.series.timing() {
            Timing::Timestamps { .. } => Some(
                self.series
                    .timestamps(rows.clone())
                    .map_err(|e| nwb_error(&e))?,
            ),
            Timing::Rate { .. } => None,
        };
        let mut out = HashMap::new();
        for k in 0..count {
            let s = segment + k;
            let seg_range = s * seg_rows..((s + 1) * seg_rows).min(rows.end);
            if seg_range.is_empty() {
                break;
            }
            for g in first_group..=last_group {
                let cols = self.group_columns(g);
                let local = index(cols.start - columns.start)..index(cols.end - columns.start);
                let summary = Arc::new(self.summarize(
                    &block,
                    w,
                    local,
                    seg_range.clone(),
                    rows.start,
                    times.as_deref(),
                )?);
                self.pyramid
                    .lock()
                    .insert(self.key(g, 0, s), Arc::clone(&summary));
                if k == 0 {
                    out.insert(g, summary);
                }
            }
        }
        Ok(out)
    }

    /// The level-0 segment of rows `rows` and block columns `cols` of
    /// `block` (rows from `block_start`, `width` values each).
    fn summarize(
        &self,
        block: &[f64],
        width: usize,
        cols: Range<usize>,
        rows: Range<u64>,
        block_start: u64,
        times: Option<&[f64]>,
    ) -> Result<Segment, WorkerError> {
        let len = index((rows.end - rows.start).div_ceil(BASE));
        let gw = cols.len();
        let mut s = Segment::empty(gw, len);
        let (conversion, offset) = (self.conversion, self.offset);
        for b in 0..len {
            let r0 = rows.start + b as u64 * BASE;
            let r1 = (r0 + BASE).min(rows.end);
            let lo = &mut s.min[b * gw..(b + 1) * gw];
            let hi = &mut s.max[b * gw..(b + 1) * gw];
            for r in r0..r1 {
                let at = index(r - block_start) * width;
                for (c, v) in block[at + cols.start..at + cols.end].iter().enumerate() {
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "drawn values: f32 is plenty (narrowing is monotone, so min/max stay exact)"
                    )]
                    let v = (v * conversion + offset) as f32;
                    // `min`/`max` return the other operand for a NaN.
                    lo[c] = lo[c].min(v);
                    hi[c] = hi[c].max(v);
                }
            }
            s.times[b] = match times {
                Some(stored) => stored
                    .get(index(r0 - block_start))
                    .copied()
                    .unwrap_or(f64::NAN),
                None => self.series.time_of_sample(r0).map_err(|e| nwb_error(&e))?,
            };
        }
        s.done = len;
        Ok(s)
    }
}
