use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::{ReadAt, Result};

/// Requests and bytes that went through a [`Counted`] source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub bytes: u64,
}

/// Shared counters; clone the `Arc` to read them while the source is in use.
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
}

impl Counters {
    pub fn stats(&self) -> Stats {
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Records one request that returned `bytes` bytes.
    pub fn record(&self, bytes: u64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Counts every range read from the inner source (one range = one request
/// for the HTTP backend) and the bytes it returned.
pub struct Counted<S> {
    inner: S,
    counters: Arc<Counters>,
}

impl<S: ReadAt> Counted<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            counters: Arc::default(),
        }
    }

    /// Counts into existing (shared) counters.
    pub fn with_counters(inner: S, counters: Arc<Counters>) -> Self {
        Self { inner, counters }
    }

    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }
}

impl<S: ReadAt> ReadAt for Counted<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        let bytes = self.inner.read_range(range)?;
        self.counters.record(bytes.len() as u64);
        Ok(bytes)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let parts = self.inner.read_ranges(ranges)?;
        for part in &parts {
            self.counters.record(part.len() as u64);
        }
        Ok(parts)
    }

    fn is_cached(&self, range: Range<u64>) -> bool {
        self.inner.is_cached(range)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
