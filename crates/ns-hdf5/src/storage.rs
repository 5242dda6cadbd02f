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
}
