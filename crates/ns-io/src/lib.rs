//! Byte sources: positional reads over local files, memory and HTTP, and the
//! adapters every reader stacks on them.
//!
//! The [`ReadAt`] trait is the one thing the HDF5 layer needs. It has no
//! dependency on an async runtime or on `std::fs`, so the browser worker can
//! implement it too (synchronous Range XHR, `Blob` slices). Adapters wrap any
//! source: [`PageCache`] (block cache, coalescing of adjacent misses, head and
//! tail prefetch, de-duplication of in-flight pages) and [`Counted`]
//! (requests and bytes).

mod cache;
mod counted;
mod error;
mod memory;
mod par;
mod ranges;

pub use cache::{PageCache, PageCacheConfig};
pub use counted::{Counted, Counters, Stats};
pub use error::{Error, Result};
pub use memory::MemorySource;
pub use par::par_map;
pub use ranges::{coalesce_ranges, merge_parts};

pub use bytes::Bytes;

use std::ops::Range;
use std::sync::Arc;

/// Stateless positional reads from an immutable byte sequence of known length.
///
/// Implementations must be safe to call from several threads at once.
pub trait ReadAt: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads exactly `range` (which must lie inside `0..len()`).
    fn read_range(&self, range: Range<u64>) -> Result<Bytes>;

    /// Reads several ranges. Backends that can overlap requests (HTTP) override
    /// this to fetch them concurrently; the default reads them one by one.
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        ranges.iter().map(|r| self.read_range(r.clone())).collect()
    }

    /// Where the bytes come from (a path or URL), for error messages.
    fn describe(&self) -> String;
}

/// A shared, type-erased byte source.
pub type DynSource = Arc<dyn ReadAt>;

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        (**self).read_range(range)
    }
    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        (**self).read_ranges(ranges)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
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
    let head = 0..prefetch_bytes.min(len);
    // From a page boundary, so that a probe's tail (seeded in whole pages)
    // is not fetched again for one partial page.
    let page = cache.config().page_size_bytes.max(1);
    let tail = (len.saturating_sub(prefetch_bytes).div_ceil(page) * page).min(len)..len;
    cache.prefetch(&[head, tail])
}

/// Checks that `range` is well formed and inside a source of `len` bytes.
pub fn check_range(range: &Range<u64>, len: u64, source: &dyn Fn() -> String) -> Result<()> {
    if range.start > range.end || range.end > len {
        return Err(Error::OutOfBounds {
            location: source(),
            start: range.start,
            end: range.end,
            len,
        });
    }
    Ok(())
}
