//! One way to put a freshly opened source behind its page cache, used by
//! the native opener and by the browser worker alike.

use std::ops::Range;

use bytes::Bytes;

use crate::{PageCache, PageCacheConfig, ReadAt, Result};

/// How a freshly opened source gets its page cache and first bytes.
#[derive(Debug, Clone, Copy)]
pub struct CacheSetup {
    pub cache: PageCacheConfig,
    /// Bytes fetched from each end of the file when it is opened (pynwb
    /// puts metadata at both ends). 0: no warm-up.
    pub prefetch_bytes: u64,
    /// Files up to this size are fetched whole (in concurrent parts) right
    /// away: cheaper than walking their metadata one round trip at a time.
    pub whole_file_bytes: u64,
}

impl Default for CacheSetup {
    /// Native settings: a 512 MiB cache, 256 KiB from each end, files up to
    /// 8 MiB whole.
    fn default() -> Self {
        Self {
            cache: PageCacheConfig::default(),
            prefetch_bytes: 256 * 1024,
            whole_file_bytes: 8 * 1024 * 1024,
        }
    }
}

impl CacheSetup {
    /// The browser worker's settings: as natively, with a 128 MiB cache
    /// (three workers share the tab's memory). Reads larger than a quarter
    /// of it stream around it (see [`PageCache::stream_threshold_bytes`]).
    pub fn browser() -> Self {
        Self {
            cache: PageCacheConfig {
                capacity_bytes: 128 * 1024 * 1024,
                ..PageCacheConfig::default()
            },
            ..Self::default()
        }
    }
}

/// Puts `source` behind a page cache: first the bytes already fetched
/// (`seeds`: an opening probe's head and tail, or pages saved by an earlier
/// open of the same file), then [`warm_up`] fetches what they lack.
pub fn open_cached<S: ReadAt>(
    source: S,
    seeds: impl IntoIterator<Item = (u64, Bytes)>,
    setup: &CacheSetup,
) -> Result<PageCache<S>> {
    let cache = PageCache::new(source, setup.cache);
    for (offset, bytes) in seeds {
        cache.insert(offset, &bytes);
    }
    warm_up(&cache, setup.prefetch_bytes, setup.whole_file_bytes)?;
    Ok(cache)
}

/// Warms a freshly opened cache: fetches the head and the tail of the file
/// (`prefetch_bytes` each; pynwb puts metadata at both ends) in one batch,
/// or the whole file when it is at most `whole_file_bytes` (cheaper than
/// walking its metadata one round trip at a time). Pages already cached
/// (a probe made while opening) are not fetched again.
pub fn warm_up<S: ReadAt>(
    cache: &PageCache<S>,
    prefetch_bytes: u64,
    whole_file_bytes: u64,
) -> Result<()> {
    let len = cache.len();
    if len <= whole_file_bytes {
        // In parts, so that they can go out concurrently.
        let part = (len / 16).max(cache.config().page_size_bytes).max(1);
        let parts: Vec<Range<u64>> = (0..len.div_ceil(part))
            .map(|i| i * part..((i + 1) * part).min(len))
            .collect();
        return cache.prefetch(&parts);
    }
    if prefetch_bytes == 0 {
        return Ok(());
    }
    let head = 0..prefetch_bytes.min(len);
    // From a page boundary, so that a probe's tail (seeded in whole pages)
    // is not fetched again for one partial page.
    let page = cache.config().page_size_bytes.max(1);
    let tail = (len.saturating_sub(prefetch_bytes).div_ceil(page) * page).min(len)..len;
    cache.prefetch(&[head, tail])
}

#[cfg(test)]
#[expect(
    clippy::cast_possible_truncation,
    reason = "test data: small sizes and byte patterns"
)]
mod tests {
    use super::*;
    use crate::{Counted, MemorySource};

    fn source(n: usize) -> Counted<MemorySource> {
        let bytes: Vec<u8> = (0..n).map(|i| (i % 253) as u8).collect();
        Counted::new(MemorySource::new(bytes, "mem"))
    }

    #[test]
    fn seeds_then_head_and_tail() {
        let setup = CacheSetup {
            cache: PageCacheConfig {
                page_size_bytes: 1024,
                ..PageCacheConfig::default()
            },
            prefetch_bytes: 4096,
            whole_file_bytes: 0,
        };
        let seed = Bytes::from(vec![0u8; 4096]);
        let cache = open_cached(source(1 << 20), [(0, seed)], &setup).expect("open");
        let stats = cache.inner().counters().stats();
        assert_eq!(
            (stats.requests, stats.bytes),
            (1, 4096),
            "only the tail is fetched"
        );
        assert_eq!(cache.cached_bytes(), 8192);
    }

    #[test]
    fn small_files_whole_and_no_warm_up() {
        let setup = CacheSetup::default();
        let cache = open_cached(source(100_000), [], &setup).expect("open");
        assert_eq!(cache.inner().counters().stats().bytes, 100_000);
        let none = CacheSetup {
            prefetch_bytes: 0,
            whole_file_bytes: 0,
            ..setup
        };
        let cache = open_cached(source(100_000), [], &none).expect("open");
        assert_eq!(cache.inner().counters().stats().requests, 0);
    }

    #[test]
    fn the_browser_cache_is_smaller() {
        assert_eq!(
            CacheSetup::browser().cache.capacity_bytes,
            128 * 1024 * 1024
        );
    }
}
