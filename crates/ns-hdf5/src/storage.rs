//! The bridge from [`ns_io::ReadAt`] to `hdf5_reader::Storage`.

use std::sync::Arc;

use hdf5_reader::{Storage, StorageBuffer};
use ns_io::{DynSource, ReadAt};
use parking_lot::Mutex;

/// Serves hdf5-reader's reads from a byte source, remembering the last I/O
/// error so that a failed parse can report its real cause (a 404, a reset
/// connection) rather than a confusing format error.
pub(crate) struct SourceStorage {
    source: DynSource,
    last_error: Arc<Mutex<Option<ns_io::Error>>>,
}

impl SourceStorage {
    pub(crate) fn new(source: DynSource) -> (Self, Arc<Mutex<Option<ns_io::Error>>>) {
        let last_error = Arc::new(Mutex::new(None));
        (
            Self {
                source,
                last_error: Arc::clone(&last_error),
            },
            last_error,
        )
    }
}

impl Storage for SourceStorage {
    fn len(&self) -> u64 {
        self.source.len()
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<StorageBuffer> {
        let end = offset.checked_add(len as u64);
        let result = match end {
            Some(end) if end <= self.source.len() => self.source.read_range(offset..end),
            _ => {
                // Past the end of the file: a format problem, not an I/O one.
                return Err(hdf5_reader::error::Error::UnexpectedEof {
                    offset,
                    needed: len as u64,
                    available: self.source.len().saturating_sub(offset),
                });
            }
        };
        match result {
            Ok(bytes) => {
                let n = bytes.len();
                StorageBuffer::from_shared_owner(Arc::new(bytes), 0, n)
            }
            Err(err) => {
                let message = err.to_string();
                *self.last_error.lock() = Some(err);
                Err(hdf5_reader::error::Error::Io(std::io::Error::other(
                    message,
                )))
            }
        }
    }

    /// The ranges in one [`ReadAt::read_ranges`] call: the page cache
    /// fetches what it lacks in one round of concurrent requests (natively;
    /// in the worker, its misses merged into as few requests as it can) and
    /// keeps it for the reads that follow. At most [`MAX_PREFETCH_BYTES`]
    /// (the first ranges), so that a prefetch never streams around the
    /// cache. Errors are left to those reads.
    fn prefetch(&self, ranges: &[(u64, u64)]) {
        let len = self.source.len();
        let mut total = 0u64;
        let mut batch = Vec::with_capacity(ranges.len());
        for &(offset, n) in ranges {
            let Some(end) = offset.checked_add(n).filter(|&end| end <= len) else {
                continue;
            };
            total = total.saturating_add(n);
            if total > MAX_PREFETCH_BYTES {
                break;
            }
            batch.push(offset..end);
        }
        if !batch.is_empty() {
            let _ = self.source.read_ranges(&batch);
        }
    }
}

/// Most bytes one prefetch asks for: below a quarter of the worker's
/// 128 MiB page cache, past which a read streams around it.
pub(crate) const MAX_PREFETCH_BYTES: u64 = 24 << 20;
