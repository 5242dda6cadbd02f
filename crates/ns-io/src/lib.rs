//! Byte sources: positional reads over local files, memory and HTTP, and the
//! adapters every reader stacks on them.
//!
//! The [`ReadAt`] trait is the one thing the HDF5 layer needs. It has no
//! dependency on an async runtime or on `std::fs`, so the browser worker can
//! implement it too (synchronous Range XHR, `Blob` slices). Adapters wrap any
//! source: [`PageCache`] (block cache, coalescing of adjacent misses, head and
//! tail prefetch, de-duplication of in-flight pages, streaming of reads too
//! large for it) and [`Counted`] (requests and bytes). [`open_cached`] is
//! the one way a freshly opened source gets its cache and first bytes, and
//! [`check_range_response`] the one check of an HTTP Range answer.

mod cache;
mod counted;
mod error;
mod keys;
mod memory;
mod open;
mod par;
mod ranges;
mod response;

pub use cache::{PageCache, PageCacheConfig};
pub use counted::{Counted, Counters, Stats};
pub use error::{Error, Result};
pub use keys::{DynKeys, MemoryKeys, ReadKey, is_safe_key, too_large};
pub use memory::MemorySource;
pub use open::{CacheSetup, open_cached, warm_up};
pub use par::par_map;
pub use ranges::{coalesce_ranges, merge_parts};
pub use response::{
    ContentRange, Expected, RangeRequest, ResponseHead, check_range_response, parse_content_range,
};

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

    /// Whether reading `range` now would be served without a request (a
    /// cache holding all of it). Only a hint for planning which reads to
    /// batch together; `false` (the default) when unknown.
    fn is_cached(&self, range: Range<u64>) -> bool {
        let _ = range;
        false
    }
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
    fn is_cached(&self, range: Range<u64>) -> bool {
        (**self).is_cached(range)
    }
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
