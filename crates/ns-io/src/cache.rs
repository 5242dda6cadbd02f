use std::collections::{HashMap, HashSet};
use std::ops::Range;

use bytes::{Bytes, BytesMut};
use parking_lot::{Condvar, Mutex};

use crate::{ReadAt, Result, check_range, coalesce_ranges};

/// Settings of a [`PageCache`].
#[derive(Debug, Clone, Copy)]
pub struct PageCacheConfig {
    /// Size of one page; every fetch is whole pages.
    pub page_size_bytes: u64,
    /// Pages are evicted (least recently used first) above this total.
    pub capacity_bytes: u64,
    /// Adjacent missing pages are merged into requests of at most this size;
    /// longer runs are split so that their parts go out concurrently.
    pub max_request_bytes: u64,
    /// A single small read that misses fetches the whole aligned block of
    /// this size around it (0: off). HDF5 metadata clusters, so the parser's
    /// next reads are then usually hits instead of one round trip each.
    /// Batched reads ([`ReadAt::read_ranges`]) are planned and not extended.
    pub readahead_bytes: u64,
}

impl Default for PageCacheConfig {
    fn default() -> Self {
        Self {
            page_size_bytes: 64 * 1024,
            capacity_bytes: 512 * 1024 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            readahead_bytes: 256 * 1024,
        }
    }
}

enum Slot {
    Ready { data: Bytes, last_used: u64 },
    Loading,
}

#[derive(Default)]
struct State {
    pages: HashMap<u64, Slot>,
    ready_bytes: u64,
    tick: u64,
}

/// A page cache over any [`ReadAt`].
///
/// Reads are served in whole pages. All pages missing for one call (or for
/// all ranges of one [`ReadAt::read_ranges`] call) are fetched together, with
/// adjacent missing pages merged into one request. A page being fetched by
/// another thread is waited for, never fetched twice.
pub struct PageCache<S> {
    inner: S,
    config: PageCacheConfig,
    state: Mutex<State>,
    loaded: Condvar,
}

enum Plan {
    /// Every page is held by the caller.
    Ready,
    /// This caller must fetch these pages (now marked loading).
    Fetch(Vec<u64>),
    /// Other callers are fetching some pages: waited; plan again.
    Wait,
}

impl<S: ReadAt> PageCache<S> {
    pub fn new(inner: S, config: PageCacheConfig) -> Self {
        let config = PageCacheConfig {
            page_size_bytes: config.page_size_bytes.max(512),
            ..config
        };
        Self {
            inner,
            config,
            state: Mutex::new(State::default()),
            loaded: Condvar::new(),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn config(&self) -> PageCacheConfig {
        self.config
    }

    /// Reads that miss more than this many bytes stream around the cache
    /// (a quarter of its capacity): one large read must neither evict its
    /// own pages before they are assembled nor flush the file's metadata.
    pub fn stream_threshold_bytes(&self) -> u64 {
        self.config.capacity_bytes / 4
    }

    /// Fetches the pages of `ranges` that are not cached yet, in one batch,
    /// and keeps them. At most half the capacity is fetched (the first
    /// pages, in the order given), so that prefetched pages never evict each
    /// other; pages other callers are fetching are not waited for.
    pub fn prefetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        let len = self.inner.len();
        for range in ranges {
            check_range(range, len, &|| self.describe())?;
        }
        let size = self.config.page_size_bytes;
        let budget_pages = (self.config.capacity_bytes / 2 / size).max(1);
        let mut seen = HashSet::new();
        let mut pages = Vec::new();
        for range in ranges.iter().filter(|r| r.start < r.end) {
            for page in range.start / size..range.end.div_ceil(size) {
                if pages.len() as u64 >= budget_pages {
                    break;
                }
                if seen.insert(page) {
                    pages.push(page);
                }
            }
        }
        let missing = {
            let mut state = self.state.lock();
            let missing: Vec<u64> = pages
                .into_iter()
                .filter(|page| !state.pages.contains_key(page))
                .collect();
            for &page in &missing {
                state.pages.insert(page, Slot::Loading);
            }
            missing
        };
        if missing.is_empty() {
            return Ok(());
        }
        self.fetch(&missing).map(drop)
    }

    /// Stores bytes already fetched for `offset..offset + bytes.len()` (for
    /// example a probe made while opening). Only whole pages (or the last,
    /// short page of the file) are kept.
    pub fn insert(&self, offset: u64, bytes: &Bytes) {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let end = offset.saturating_add(bytes.len() as u64);
        let first = offset.div_ceil(size);
        let mut state = self.state.lock();
        let mut page = first;
        while page.saturating_mul(size) < end {
            let range = self.page_range(page, len);
            if range.end > end || range.start >= range.end {
                break;
            }
            let (Ok(from), Ok(to)) = (
                usize::try_from(range.start - offset),
                usize::try_from(range.end - offset),
            ) else {
                break;
            };
            if !state.pages.contains_key(&page) {
                Self::store(&mut state, page, bytes.slice(from..to));
            }
            page += 1;
        }
        self.evict(&mut state);
    }

    /// The cached pages, in file order, up to `max_bytes` in all (the first
    /// ones). After opening a file these are its metadata: saved, they let
    /// a later open start with them (see [`PageCache::insert`]).
    pub fn export_pages(&self, max_bytes: u64) -> Vec<(u64, Bytes)> {
        let state = self.state.lock();
        let mut pages: Vec<(u64, Bytes)> = state
            .pages
            .iter()
            .filter_map(|(&page, slot)| match slot {
                Slot::Ready { data, .. } => {
                    Some((page * self.config.page_size_bytes, data.clone()))
                }
                Slot::Loading => None,
            })
            .collect();
        drop(state);
        ns_sort::sort_by_key(&mut pages, |(offset, _)| *offset);
        let mut total = 0u64;
        pages.retain(|(_, data)| {
            total += data.len() as u64;
            total <= max_bytes
        });
        pages
    }

    /// Number of bytes currently cached.
    pub fn cached_bytes(&self) -> u64 {
        self.state.lock().ready_bytes
    }

    fn page_range(&self, page: u64, len: u64) -> Range<u64> {
        let size = self.config.page_size_bytes;
        let start = page.saturating_mul(size).min(len);
        start..start.saturating_add(size).min(len)
    }

    /// The pages of `needed` (sorted, disjoint ranges; empty ones add
    /// nothing), ascending.
    fn pages_of(&self, needed: &[Range<u64>]) -> Vec<u64> {
        let size = self.config.page_size_bytes;
        let mut pages: Vec<u64> = Vec::new();
        for range in needed.iter().filter(|r| r.start < r.end) {
            let first = (range.start / size).max(pages.last().map_or(0, |&p| p + 1));
            pages.extend(first..range.end.div_ceil(size));
        }
        pages
    }

    /// Widens a read-ahead block `start..end` over a gap shorter than
    /// `block` to cached pages on either side: HDF5 metadata clusters, and a
    /// block that stops just short of bytes already cached (the tail fetched
    /// at open, the block read before) leaves a sliver the parser would
    /// fetch next, one more round trip for a few KiB.
    fn close_gaps(&self, start: u64, end: u64, block: u64) -> (u64, u64) {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let state = self.state.lock();
        let cached = |page: u64| state.pages.contains_key(&page);
        let first = start / size;
        let last = end.div_ceil(size);
        let reach = block / size;
        let after = (last..last.saturating_add(reach))
            .take_while(|&p| p.saturating_mul(size) < len)
            .find(|&p| cached(p));
        let before = (first.saturating_sub(reach)..first)
            .rev()
            .find(|&p| cached(p));
        let end = after.map_or(end, |p| p.saturating_mul(size).min(len));
        let start = before.map_or(start, |p| (p + 1).saturating_mul(size).min(start));
        (start, end)
    }

    /// Bytes of `pages` that are not cached (loading counts as missing).
    fn missing_bytes(&self, pages: &[u64]) -> u64 {
        let len = self.inner.len();
        let state = self.state.lock();
        pages
            .iter()
            .filter(|page| !matches!(state.pages.get(page), Some(Slot::Ready { .. })))
            .map(|&page| {
                let range = self.page_range(page, len);
                range.end - range.start
            })
            .sum()
    }

    /// Takes the ready pages of `pages` that the caller does not hold yet
    /// into `held` (where eviction cannot take them away), and claims the
    /// missing ones for fetching.
    fn plan(&self, pages: &[u64], held: &mut HashMap<u64, Bytes>) -> Plan {
        let mut state = self.state.lock();
        state.tick += 1;
        let tick = state.tick;
        let mut missing = Vec::new();
        let mut waiting = false;
        for &page in pages {
            if held.contains_key(&page) {
                continue;
            }
            match state.pages.get_mut(&page) {
                Some(Slot::Ready { data, last_used }) => {
                    *last_used = tick;
                    held.insert(page, data.clone());
                }
                Some(Slot::Loading) => waiting = true,
                None => missing.push(page),
            }
        }
        if !missing.is_empty() {
            for &page in &missing {
                state.pages.insert(page, Slot::Loading);
            }
            return Plan::Fetch(missing);
        }
        if waiting {
            self.loaded.wait(&mut state);
            return Plan::Wait;
        }
        Plan::Ready
    }

    /// Splits `range` into parts of at most `max_request_bytes` (whole
    /// pages), so that they can go out concurrently.
    fn split(&self, range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
        let size = self.config.page_size_bytes;
        let step = (self.config.max_request_bytes / size).max(1) * size;
        let mut start = range.start;
        std::iter::from_fn(move || {
            (start < range.end).then(|| {
                let end = start.saturating_add(step).min(range.end);
                let part = start..end;
                start = end;
                part
            })
        })
    }

    /// Fetches `pages` (claimed as loading by the caller), stores them, and
    /// returns them: the caller assembles its read from these, whatever
    /// eviction does to the cache meanwhile.
    fn fetch(&self, pages: &[u64]) -> Result<HashMap<u64, Bytes>> {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let runs: Vec<Range<u64>> = coalesce_ranges(
            &pages
                .iter()
                .map(|&p| self.page_range(p, len))
                .collect::<Vec<_>>(),
            0,
        )
        .into_iter()
        .flat_map(|r| self.split(r))
        .collect();
        let fetched = self.inner.read_ranges(&runs);
        let mut got = HashMap::with_capacity(pages.len());
        let mut state = self.state.lock();
        let result = match fetched {
            Ok(parts) => {
                for (run, data) in runs.iter().zip(parts) {
                    let mut page = run.start / size;
                    while page.saturating_mul(size) < run.end {
                        let range = self.page_range(page, len);
                        let (Ok(from), Ok(to)) = (
                            usize::try_from(range.start - run.start),
                            usize::try_from(range.end - run.start),
                        ) else {
                            break;
                        };
                        if data.len() >= to {
                            let slice = data.slice(from..to);
                            got.insert(page, slice.clone());
                            Self::store(&mut state, page, slice);
                        }
                        page += 1;
                    }
                }
                match pages.iter().find(|page| !got.contains_key(page)) {
                    None => Ok(got),
                    Some(&page) => Err(self.short_read(self.page_range(page, len))),
                }
            }
            Err(err) => Err(err),
        };
        // Anything still marked loading by this call (an error, or a short
        // answer) is released so that waiters fetch it themselves.
        for page in pages {
            if matches!(state.pages.get(page), Some(Slot::Loading)) {
                state.pages.remove(page);
            }
        }
        self.evict(&mut state);
        drop(state);
        self.loaded.notify_all();
        result
    }

    fn short_read(&self, range: Range<u64>) -> crate::Error {
        crate::Error::Invalid {
            location: self.describe(),
            message: format!(
                "short read: bytes {}..{} not returned by the source",
                range.start, range.end
            ),
        }
    }

    fn store(state: &mut State, page: u64, data: Bytes) {
        state.tick += 1;
        state.ready_bytes += data.len() as u64;
        let previous = state.pages.insert(
            page,
            Slot::Ready {
                data,
                last_used: state.tick,
            },
        );
        if let Some(Slot::Ready { data, .. }) = previous {
            state.ready_bytes -= data.len() as u64;
        }
    }

    fn evict(&self, state: &mut State) {
        if state.ready_bytes <= self.config.capacity_bytes {
            return;
        }
        let mut ready: Vec<(u64, u64)> = state
            .pages
            .iter()
            .filter_map(|(&page, slot)| match slot {
                Slot::Ready { last_used, .. } => Some((*last_used, page)),
                Slot::Loading => None,
            })
            .collect();
        ns_sort::sort(&mut ready);
        let target = self.config.capacity_bytes / 10 * 9;
        for (_, page) in ready {
            if state.ready_bytes <= target {
                break;
            }
            if let Some(Slot::Ready { data, .. }) = state.pages.remove(&page) {
                state.ready_bytes -= data.len() as u64;
            }
        }
    }

    /// Cuts `range` out of the held pages.
    fn assemble(&self, pages: &HashMap<u64, Bytes>, range: &Range<u64>) -> Option<Bytes> {
        let size = self.config.page_size_bytes;
        let first = range.start / size;
        let last = range.end.div_ceil(size);
        let offset_in = |page_start: u64, pos: u64| usize::try_from(pos - page_start).ok();
        if range.start == range.end {
            return Some(Bytes::new());
        }
        if last == first + 1 {
            let data = pages.get(&first)?;
            let from = offset_in(first * size, range.start)?;
            let to = offset_in(first * size, range.end)?;
            return data.get(from..to).map(|_| data.slice(from..to));
        }
        let mut out = BytesMut::with_capacity(usize::try_from(range.end - range.start).ok()?);
        for page in first..last {
            let data = pages.get(&page)?;
            let start = (page * size).max(range.start);
            let end = ((page + 1) * size).min(range.end);
            let from = offset_in(page * size, start)?;
            let to = offset_in(page * size, end)?;
            out.extend_from_slice(data.get(from..to)?);
        }
        Some(out.freeze())
    }

    /// A read too large for the cache: the pages already cached are used
    /// (held by this call), everything else is fetched byte-exact, in
    /// batches, straight into the outputs, and not kept. Bytes fetched are
    /// the bytes needed that were not cached; memory beyond the outputs is
    /// one batch.
    fn read_streaming(
        &self,
        ranges: &[Range<u64>],
        needed: &[Range<u64>],
        pages: &[u64],
    ) -> Result<Vec<Bytes>> {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let hits: HashMap<u64, Bytes> = {
            let mut state = self.state.lock();
            state.tick += 1;
            let tick = state.tick;
            pages
                .iter()
                .filter_map(|&page| match state.pages.get_mut(&page) {
                    Some(Slot::Ready { data, last_used }) => {
                        *last_used = tick;
                        Some((page, data.clone()))
                    }
                    _ => None,
                })
                .collect()
        };
        let mut out = Outputs::new(ranges).ok_or_else(|| self.too_large(ranges))?;
        for (&page, data) in &hits {
            out.copy(page.saturating_mul(size), data);
        }
        // The needed bytes outside the cached pages, as runs split into
        // request-sized parts.
        let mut pieces: Vec<Range<u64>> = Vec::new();
        for range in needed {
            let mut run: Option<Range<u64>> = None;
            for page in range.start / size..range.end.div_ceil(size) {
                let part = self.page_range(page, len);
                let part = part.start.max(range.start)..part.end.min(range.end);
                if hits.contains_key(&page) {
                    pieces.extend(run.take().into_iter().flat_map(|r| self.split(r)));
                } else {
                    run = Some(match run {
                        Some(r) => r.start..part.end,
                        None => part,
                    });
                }
            }
            pieces.extend(run.take().into_iter().flat_map(|r| self.split(r)));
        }
        drop(hits);
        let batch_bytes = self.config.max_request_bytes.max(size).saturating_mul(16);
        let mut batch: Vec<Range<u64>> = Vec::new();
        let mut batch_total = 0u64;
        let mut pieces = pieces.into_iter().peekable();
        while let Some(piece) = pieces.next() {
            batch_total = batch_total.saturating_add(piece.end - piece.start);
            batch.push(piece);
            if batch_total < batch_bytes && pieces.peek().is_some() {
                continue;
            }
            let parts = self.inner.read_ranges(&batch)?;
            if parts.len() != batch.len() {
                let start = batch.first().map_or(0, |r| r.start);
                return Err(self.short_read(start..batch.last().map_or(start, |r| r.end)));
            }
            for (piece, data) in batch.iter().zip(&parts) {
                if data.len() as u64 != piece.end - piece.start {
                    return Err(self.short_read(piece.clone()));
                }
                out.copy(piece.start, data);
            }
            batch.clear();
            batch_total = 0;
        }
        out.finish().map_err(|range| self.short_read(range))
    }

    fn too_large(&self, ranges: &[Range<u64>]) -> crate::Error {
        let total: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        crate::Error::Invalid {
            location: self.describe(),
            message: format!("a read of {total} bytes does not fit in memory"),
        }
    }
}

/// The output buffers of a streamed read, filled from pieces in any order.
struct Outputs {
    ranges: Vec<Range<u64>>,
    buffers: Vec<Vec<u8>>,
    /// Bytes copied into each buffer (pieces never overlap, so a buffer is
    /// complete when this equals its length).
    filled: Vec<u64>,
    /// Indices of `ranges` by start.
    order: Vec<usize>,
    /// Largest end among `order[..=k]`.
    max_end: Vec<u64>,
}

impl Outputs {
    fn new(ranges: &[Range<u64>]) -> Option<Self> {
        let mut buffers = Vec::with_capacity(ranges.len());
        for range in ranges {
            buffers.push(vec![0u8; usize::try_from(range.end - range.start).ok()?]);
        }
        let mut order: Vec<usize> = (0..ranges.len()).collect();
        ns_sort::sort_by_key(&mut order, |&i| ranges[i].start);
        let mut max_end = Vec::with_capacity(order.len());
        let mut end = 0;
        for &i in &order {
            end = ranges[i].end.max(end);
            max_end.push(end);
        }
        Some(Self {
            ranges: ranges.to_vec(),
            buffers,
            filled: vec![0; ranges.len()],
            order,
            max_end,
        })
    }

    /// Copies `data` (the file's bytes from `at`) into every output it overlaps.
    fn copy(&mut self, at: u64, data: &[u8]) {
        let end = at + data.len() as u64;
        let ranges = &self.ranges;
        let mut k = self.order.partition_point(|&i| ranges[i].start < end);
        while k > 0 {
            k -= 1;
            if self.max_end[k] <= at {
                break;
            }
            let i = self.order[k];
            let range = &ranges[i];
            let (from, to) = (range.start.max(at), range.end.min(end));
            if from >= to {
                continue;
            }
            let (Ok(src_from), Ok(src_to), Ok(dst_from), Ok(dst_to)) = (
                usize::try_from(from - at),
                usize::try_from(to - at),
                usize::try_from(from - range.start),
                usize::try_from(to - range.start),
            ) else {
                continue;
            };
            if let (Some(dst), Some(src)) = (
                self.buffers[i].get_mut(dst_from..dst_to),
                data.get(src_from..src_to),
            ) {
                dst.copy_from_slice(src);
                self.filled[i] += to - from;
            }
        }
    }

    /// The outputs, or the first range not completely filled.
    fn finish(self) -> std::result::Result<Vec<Bytes>, Range<u64>> {
        let mut out = Vec::with_capacity(self.buffers.len());
        for ((buffer, range), filled) in self.buffers.into_iter().zip(self.ranges).zip(self.filled)
        {
            if filled != range.end - range.start {
                return Err(range);
            }
            out.push(Bytes::from(buffer));
        }
        Ok(out)
    }
}

impl<S: ReadAt> ReadAt for PageCache<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        let block = self.config.readahead_bytes;
        if block > 0 && range.end - range.start < block && range.end <= self.inner.len() {
            let pages = self.pages_of(std::slice::from_ref(&range));
            let missing = {
                let state = self.state.lock();
                pages.iter().any(|p| !state.pages.contains_key(p))
            };
            if missing {
                let start = range.start / block * block;
                let end = (start + block).min(self.inner.len()).max(range.end);
                let (start, end) = self.close_gaps(start, end, block);
                self.prefetch(std::slice::from_ref(&(start..end)))?;
            }
        }
        let mut parts = self.read_ranges(std::slice::from_ref(&range))?;
        Ok(parts.pop().unwrap_or_default())
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let len = self.inner.len();
        for range in ranges {
            check_range(range, len, &|| self.describe())?;
        }
        let needed = coalesce_ranges(ranges, 0);
        let pages = self.pages_of(&needed);
        if self.missing_bytes(&pages) > self.stream_threshold_bytes() {
            return self.read_streaming(ranges, &needed, &pages);
        }
        // Pages are held here as they become ready or arrive, so a read
        // finishes even when the cache evicts them meanwhile.
        let mut held: HashMap<u64, Bytes> = HashMap::with_capacity(pages.len());
        loop {
            match self.plan(&pages, &mut held) {
                Plan::Ready => break,
                Plan::Fetch(missing) => held.extend(self.fetch(&missing)?),
                Plan::Wait => {}
            }
        }
        ranges
            .iter()
            .map(|range| {
                self.assemble(&held, range)
                    .ok_or_else(|| self.short_read(range.clone()))
            })
            .collect()
    }

    /// All pages of `range` ready (none missing or still being fetched).
    fn is_cached(&self, range: Range<u64>) -> bool {
        if range.start >= range.end || range.end > self.inner.len() {
            return range.start == range.end;
        }
        let pages = self.pages_of(std::slice::from_ref(&range));
        let state = self.state.lock();
        pages
            .iter()
            .all(|p| matches!(state.pages.get(p), Some(Slot::Ready { .. })))
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
#[expect(
    clippy::cast_possible_truncation,
    reason = "test data: small sizes and byte patterns"
)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Counted, MemorySource};

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn cache(n: usize, page: u64, cap: u64) -> (PageCache<Counted<MemorySource>>, Vec<u8>) {
        let bytes = data(n);
        let src = Counted::new(MemorySource::new(bytes.clone(), "mem"));
        (
            PageCache::new(
                src,
                PageCacheConfig {
                    page_size_bytes: page,
                    capacity_bytes: cap,
                    max_request_bytes: 1 << 30,
                    readahead_bytes: 0,
                },
            ),
            bytes,
        )
    }

    #[test]
    fn reads_match_source_and_hit_cache() {
        let (c, bytes) = cache(10_000, 1024, 1 << 20);
        let got = c.read_range(1000..5000).expect("read");
        assert_eq!(&got[..], &bytes[1000..5000]);
        let before = c.inner().counters().stats();
        assert_eq!(
            before.requests, 1,
            "adjacent pages coalesced into one request"
        );
        let again = c.read_range(1500..4000).expect("read");
        assert_eq!(&again[..], &bytes[1500..4000]);
        assert_eq!(c.inner().counters().stats(), before);
        let tail = c.read_range(9990..10_000).expect("tail");
        assert_eq!(&tail[..], &bytes[9990..]);
        assert!(c.read_range(9990..10_001).is_err());
        assert_eq!(c.read_range(5..5).expect("empty").len(), 0);
    }

    #[test]
    fn read_ranges_fetches_all_misses_in_one_call() {
        let (c, bytes) = cache(100_000, 1024, 1 << 20);
        let ranges = [0..10, 50_000..50_100, 99_000..100_000, 10..2000];
        let got = c.read_ranges(&ranges).expect("read");
        for (r, g) in ranges.iter().zip(&got) {
            assert_eq!(&g[..], &bytes[r.start as usize..r.end as usize]);
        }
        assert_eq!(c.inner().counters().stats().requests, 3);
    }

    #[test]
    fn small_misses_read_ahead_the_aligned_block() {
        let bytes = data(100_000);
        let src = Counted::new(MemorySource::new(bytes.clone(), "mem"));
        let c = PageCache::new(
            src,
            PageCacheConfig {
                page_size_bytes: 1000,
                capacity_bytes: 1 << 20,
                max_request_bytes: 1 << 20,
                readahead_bytes: 8000,
            },
        );
        assert_eq!(
            &c.read_range(8100..8200).expect("read")[..],
            &bytes[8100..8200]
        );
        assert_eq!(
            &c.read_range(15_900..16_000).expect("read")[..],
            &bytes[15_900..16_000]
        );
        let stats = c.inner().counters().stats();
        assert_eq!((stats.requests, stats.bytes), (1, 8000));
        // Batched reads are not extended.
        let got = c
            .read_ranges(std::slice::from_ref(&(50_000..50_010)))
            .expect("read");
        assert_eq!(&got[0][..], &bytes[50_000..50_010]);
        assert_eq!(c.inner().counters().stats().bytes, 9000);
    }

    #[test]
    fn read_ahead_closes_short_gaps_to_cached_pages() {
        let bytes = data(100_000);
        let src = Counted::new(MemorySource::new(bytes.clone(), "mem"));
        let c = PageCache::new(
            src,
            PageCacheConfig {
                page_size_bytes: 1000,
                capacity_bytes: 1 << 20,
                max_request_bytes: 1 << 20,
                readahead_bytes: 8000,
            },
        );
        // The tail, as an open fetches it.
        c.read_ranges(std::slice::from_ref(&(94_000..100_000)))
            .expect("tail");
        // A miss in the block 80_000..88_000: the 6_000-byte gap to the tail
        // comes along, so the parser's next read there is a hit.
        assert_eq!(
            &c.read_range(87_500..87_600).expect("read")[..],
            &bytes[87_500..87_600]
        );
        assert_eq!(c.inner().counters().stats().requests, 2);
        assert_eq!(
            &c.read_range(88_000..94_500).expect("read")[..],
            &bytes[88_000..94_500]
        );
        let stats = c.inner().counters().stats();
        assert_eq!((stats.requests, stats.bytes), (2, 6_000 + 14_000));
        // Cached pages a block away or more are not reached for: 64_000..72_000
        // stops 8_000 bytes short of the block above.
        c.read_range(70_100..70_200).expect("read");
        let stats = c.inner().counters().stats();
        assert_eq!((stats.requests, stats.bytes), (3, 20_000 + 8_000));
        // A block right next to cached pages is not widened.
        c.read_range(60_000..60_100).expect("read");
        assert_eq!(c.inner().counters().stats().bytes, 28_000 + 8_000);
        c.read_range(68_000..70_000).expect("read");
        assert_eq!(c.inner().counters().stats().requests, 4);
    }

    #[test]
    fn exported_pages_seed_a_new_cache() {
        let (c, bytes) = cache(10_000, 1024, 1 << 20);
        c.read_range(100..200).expect("read");
        c.read_range(9_000..9_500).expect("read");
        let pages = c.export_pages(u64::MAX);
        assert_eq!(
            pages.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![0, 8192, 9216]
        );
        let (fresh, _) = cache(10_000, 1024, 1 << 20);
        for (offset, data) in &pages {
            fresh.insert(*offset, data);
        }
        assert_eq!(
            &fresh.read_range(9_100..9_400).expect("read")[..],
            &bytes[9_100..9_400]
        );
        assert_eq!(fresh.inner().counters().stats().requests, 0);
        assert_eq!(c.export_pages(1500).len(), 1);
    }

    #[test]
    fn long_runs_are_split_into_concurrent_requests() {
        let bytes = data(100_000);
        let src = Counted::new(MemorySource::new(bytes.clone(), "mem"));
        let c = PageCache::new(
            src,
            PageCacheConfig {
                page_size_bytes: 1000,
                capacity_bytes: 1 << 20,
                max_request_bytes: 10_000,
                readahead_bytes: 0,
            },
        );
        let got = c.read_range(0..95_500).expect("read");
        assert_eq!(&got[..], &bytes[..95_500]);
        assert_eq!(c.inner().counters().stats().requests, 10);
    }

    #[test]
    fn eviction_keeps_within_capacity() {
        let (c, bytes) = cache(64 * 1024, 1024, 8 * 1024);
        for i in 0..60u64 {
            let r = i * 1024..i * 1024 + 100;
            let got = c.read_range(r.clone()).expect("read");
            assert_eq!(&got[..], &bytes[r.start as usize..r.end as usize]);
        }
        assert!(c.cached_bytes() <= 8 * 1024);
    }

    #[test]
    fn insert_seeds_pages() {
        let (c, bytes) = cache(10_000, 1024, 1 << 20);
        c.insert(0, &Bytes::from(bytes[..3000].to_vec()));
        c.insert(9000, &Bytes::from(bytes[9000..].to_vec()));
        let got = c.read_range(0..2048).expect("read");
        assert_eq!(&got[..], &bytes[..2048]);
        let got = c.read_range(9216..10_000).expect("read");
        assert_eq!(&got[..], &bytes[9216..]);
        assert_eq!(c.inner().counters().stats().requests, 0);
    }

    #[test]
    fn concurrent_readers_share_fetches() {
        let (c, bytes) = cache(1 << 20, 4096, 1 << 24);
        let c = Arc::new(c);
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let c = Arc::clone(&c);
                let bytes = &bytes;
                s.spawn(move || {
                    for i in 0..50u64 {
                        let start = (i * 9973 + t * 31) % ((1 << 20) - 5000);
                        let got = c.read_range(start..start + 5000).expect("read");
                        assert_eq!(&got[..], &bytes[start as usize..start as usize + 5000]);
                    }
                });
            }
        });
        assert!(c.inner().counters().stats().bytes <= 2 << 20);
    }

    /// Runs `f` on a thread and fails if it does not finish in time (a
    /// livelocked read would otherwise hang the test run).
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(secs))
            .expect("the read finishes")
    }

    fn config(page: u64, cap: u64, max_request: u64) -> PageCacheConfig {
        PageCacheConfig {
            page_size_bytes: page,
            capacity_bytes: cap,
            max_request_bytes: max_request,
            readahead_bytes: 0,
        }
    }

    #[test]
    fn a_read_three_times_the_cache_finishes_with_the_bytes_it_needs() {
        let bytes = data(4 << 20);
        let cap = 256 * 1024;
        let c = Arc::new(PageCache::new(
            Counted::new(MemorySource::new(bytes.clone(), "mem")),
            config(4096, cap, 64 * 1024),
        ));
        // Metadata read first: it must survive the large read.
        c.read_range(100..200).expect("small read");
        let before = c.inner().counters().stats();
        let range = 5000..5000 + 3 * cap;
        let got = {
            let c = Arc::clone(&c);
            let range = range.clone();
            within(30, move || c.read_range(range))
        }
        .expect("large read");
        assert!(got[..] == bytes[range.start as usize..range.end as usize]);
        let fetched = c.inner().counters().stats().bytes - before.bytes;
        let needed = range.end - range.start;
        assert!(
            fetched <= needed + 4096,
            "fetched {fetched} bytes for {needed}"
        );
        assert!(c.cached_bytes() <= cap);
        let before = c.inner().counters().stats();
        c.read_range(0..300).expect("metadata again");
        assert_eq!(
            c.inner().counters().stats(),
            before,
            "the large read streamed around the cache"
        );
        // Twice as large as the cache, in many ranges (a chunked selection),
        // overlapping and unsorted, partly cached.
        let mut ranges: Vec<Range<u64>> = (0..200u64)
            .map(|i| (199 - i) * 2600 + 1000..(199 - i) * 2600 + 1000 + 2700)
            .collect();
        ranges.push(10..20);
        ranges.push(0..0);
        let got = {
            let c = Arc::clone(&c);
            let ranges = ranges.clone();
            within(30, move || c.read_ranges(&ranges))
        }
        .expect("many ranges");
        for (r, g) in ranges.iter().zip(&got) {
            assert!(g[..] == bytes[r.start as usize..r.end as usize], "{r:?}");
        }
    }

    #[test]
    fn a_read_almost_as_large_as_the_cache_finishes() {
        for fraction in [50u64, 90, 95, 100, 110] {
            let (c, bytes) = cache(1 << 20, 1024, 100 * 1024);
            let c = Arc::new(c);
            let n = 1024 * fraction;
            let got = {
                let c = Arc::clone(&c);
                within(30, move || c.read_range(512..512 + n))
            }
            .expect("read");
            assert!(got[..] == bytes[512..512 + n as usize]);
            let fetched = c.inner().counters().stats().bytes;
            assert!(
                fetched <= n + 1024,
                "{fraction}%: fetched {fetched} for {n}"
            );
        }
    }

    #[test]
    fn pages_a_read_holds_are_not_fetched_twice_when_evicted() {
        // 16 pages of capacity, all cached; a read of 12 of them and 4 new
        // ones evicts some of its own hits while storing the new pages.
        let (c, bytes) = cache(1 << 16, 1024, 16 * 1024);
        for i in 0..4 {
            c.read_range(i * 4096..(i + 1) * 4096).expect("fill");
        }
        assert_eq!(c.cached_bytes(), 16 * 1024);
        let before = c.inner().counters().stats().bytes;
        let got = c.read_range(4 * 1024..20 * 1024).expect("read");
        assert!(got[..] == bytes[4 * 1024..20 * 1024]);
        assert_eq!(c.inner().counters().stats().bytes - before, 4 * 1024);
    }

    #[test]
    fn small_reads_go_on_while_a_large_one_streams() {
        let bytes = data(8 << 20);
        let c = Arc::new(PageCache::new(
            Counted::new(MemorySource::new(bytes.clone(), "mem")),
            config(4096, 512 * 1024, 64 * 1024),
        ));
        let bytes = Arc::new(bytes);
        let done = {
            let c = Arc::clone(&c);
            let bytes = Arc::clone(&bytes);
            within(60, move || {
                std::thread::scope(|s| {
                    for t in 0..4u64 {
                        let c = &c;
                        let bytes = &bytes;
                        s.spawn(move || {
                            let start = t * (2 << 20);
                            let got = c.read_range(start..start + (2 << 20)).expect("large");
                            assert!(got[..] == bytes[start as usize..start as usize + (2 << 20)]);
                        });
                    }
                    for t in 0..4u64 {
                        let c = &c;
                        let bytes = &bytes;
                        s.spawn(move || {
                            for i in 0..200u64 {
                                let start = (i * 7919 + t * 104_729) % ((8 << 20) - 3000);
                                let got = c.read_range(start..start + 3000).expect("small");
                                assert!(got[..] == bytes[start as usize..start as usize + 3000]);
                            }
                        });
                    }
                });
                true
            })
        };
        assert!(done);
        assert!(c.cached_bytes() <= 512 * 1024);
    }

    /// A source that answers every request with one byte less than asked.
    struct Short(MemorySource);

    impl ReadAt for Short {
        fn len(&self) -> u64 {
            self.0.len()
        }
        fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
            let end = range.end.saturating_sub(1).max(range.start);
            self.0.read_range(range.start..end)
        }
        fn describe(&self) -> String {
            self.0.describe()
        }
    }

    #[test]
    fn a_short_source_is_an_error_not_a_hang() {
        for n in [10_000u64, 300_000] {
            let c = Arc::new(PageCache::new(
                Short(MemorySource::new(data(1 << 20), "short")),
                config(1024, 256 * 1024, 64 * 1024),
            ));
            let got = within(30, move || c.read_range(0..n));
            let message = got.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains("short read"), "{message}");
        }
    }

    #[test]
    fn prefetch_keeps_to_half_the_capacity() {
        let (c, _) = cache(1 << 20, 1024, 64 * 1024);
        let c = Arc::new(c);
        {
            let c = Arc::clone(&c);
            within(30, move || {
                c.prefetch(std::slice::from_ref(&(0..(1 << 20))))
            })
        }
        .expect("prefetch");
        assert_eq!(c.inner().counters().stats().bytes, 32 * 1024);
        assert_eq!(c.cached_bytes(), 32 * 1024);
    }
}
