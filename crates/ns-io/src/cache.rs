use std::collections::HashMap;
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
    /// Every page is ready: here they are.
    Ready(HashMap<u64, Bytes>),
    /// This caller must fetch these pages (now marked loading).
    Fetch(Vec<u64>),
    /// Other callers are fetching some pages: wait.
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

    /// Fetches `ranges` into the cache (all missing pages at once).
    pub fn prefetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        self.read_ranges(ranges).map(drop)
    }

    /// Stores bytes already fetched for `offset..offset + bytes.len()` (for
    /// example a probe made while opening). Only whole pages (or the last,
    /// short page of the file) are kept.
    pub fn insert(&self, offset: u64, bytes: &Bytes) {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let end = offset + bytes.len() as u64;
        let first = offset.div_ceil(size);
        let mut state = self.state.lock();
        let mut page = first;
        while page * size < end {
            let range = self.page_range(page, len);
            if range.end > end {
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
        pages.sort_by_key(|(offset, _)| *offset);
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
        let start = page * size;
        start..(start + size).min(len)
    }

    fn pages_of(&self, ranges: &[Range<u64>]) -> Vec<u64> {
        let size = self.config.page_size_bytes;
        let mut pages: Vec<u64> = Vec::new();
        for range in coalesce_ranges(ranges, 0) {
            pages.extend(range.start / size..range.end.div_ceil(size));
        }
        pages
    }

    fn plan(&self, pages: &[u64]) -> Plan {
        let mut state = self.state.lock();
        state.tick += 1;
        let tick = state.tick;
        let mut ready = HashMap::with_capacity(pages.len());
        let mut missing = Vec::new();
        let mut waiting = false;
        for &page in pages {
            match state.pages.get_mut(&page) {
                Some(Slot::Ready { data, last_used }) => {
                    *last_used = tick;
                    ready.insert(page, data.clone());
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
        Plan::Ready(ready)
    }

    fn fetch(&self, pages: &[u64]) -> Result<()> {
        let size = self.config.page_size_bytes;
        let len = self.inner.len();
        let runs: Vec<Range<u64>> = coalesce_ranges(
            &pages
                .iter()
                .map(|&p| p * size..(p + 1) * size)
                .collect::<Vec<_>>(),
            0,
        )
        .into_iter()
        .flat_map(|r| {
            let step = (self.config.max_request_bytes / size).max(1) * size;
            let mut parts = Vec::new();
            let mut start = r.start;
            while start < r.end {
                parts.push(start..(start + step).min(r.end).min(len));
                start += step;
            }
            parts
        })
        .collect();
        let fetched = self.inner.read_ranges(&runs);
        let mut state = self.state.lock();
        let result = match fetched {
            Ok(parts) => {
                for (run, data) in runs.iter().zip(parts) {
                    let mut page = run.start / size;
                    while page * size < run.end {
                        let range = self.page_range(page, len);
                        let (Ok(from), Ok(to)) = (
                            usize::try_from(range.start - run.start),
                            usize::try_from(range.end - run.start),
                        ) else {
                            break;
                        };
                        if let Some(slice) = data.get(from..to).map(|_| data.slice(from..to)) {
                            Self::store(&mut state, page, slice);
                        }
                        page += 1;
                    }
                }
                Ok(())
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
        ready.sort_unstable();
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
        let pages = self.pages_of(ranges);
        loop {
            match self.plan(&pages) {
                Plan::Ready(ready) => {
                    let mut out = Vec::with_capacity(ranges.len());
                    for range in ranges {
                        let Some(bytes) = self.assemble(&ready, range) else {
                            return Err(crate::Error::Invalid {
                                location: self.describe(),
                                message: format!(
                                    "short read: bytes {}..{} not returned by the source",
                                    range.start, range.end
                                ),
                            });
                        };
                        out.push(bytes);
                    }
                    return Ok(out);
                }
                Plan::Fetch(missing) => self.fetch(&missing)?,
                Plan::Wait => {}
            }
        }
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
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
}
