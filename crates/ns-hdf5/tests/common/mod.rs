//! What the round-trip tests share: a source that answers after a delay and
//! counts round trips, requests and bytes.
#![allow(dead_code, reason = "each test uses part of it")]

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use ns_io::{Bytes, MemorySource, ReadAt};

/// How long each call to the source takes.
pub const DELAY: std::time::Duration = std::time::Duration::from_millis(3);

/// Counts the round trips (idle to busy), ranges (requests) and bytes of
/// the calls made to `inner`.
pub struct Rounds {
    inner: MemorySource,
    in_flight: AtomicU64,
    pub calls: AtomicU64,
    pub ranges: AtomicU64,
    pub bytes: AtomicU64,
}

impl Rounds {
    pub fn new(bytes: &[u8], name: &str) -> Self {
        Rounds {
            inner: MemorySource::new(bytes.to_vec(), name.to_string()),
            in_flight: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            ranges: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.calls.load(Ordering::SeqCst),
            self.ranges.load(Ordering::SeqCst),
            self.bytes.load(Ordering::SeqCst),
        )
    }
}

impl ReadAt for Rounds {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_range(&self, range: Range<u64>) -> ns_io::Result<Bytes> {
        self.read_ranges(std::slice::from_ref(&range))
            .map(|mut parts| parts.pop().unwrap_or_default())
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> ns_io::Result<Vec<Bytes>> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.calls.fetch_add(1, Ordering::SeqCst);
        }
        self.ranges.fetch_add(ranges.len() as u64, Ordering::SeqCst);
        std::thread::sleep(DELAY);
        let parts = self.inner.read_ranges(ranges);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let parts = parts?;
        let n: usize = parts.iter().map(Bytes::len).sum();
        self.bytes.fetch_add(n as u64, Ordering::SeqCst);
        Ok(parts)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
