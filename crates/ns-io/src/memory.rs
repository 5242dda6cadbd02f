use std::ops::Range;

use bytes::Bytes;

use crate::{ReadAt, Result, check_range};

/// Bytes held in memory.
pub struct MemorySource {
    bytes: Bytes,
    name: String,
}

impl MemorySource {
    pub fn new(bytes: impl Into<Bytes>, name: impl Into<String>) -> Self {
        Self {
            bytes: bytes.into(),
            name: name.into(),
        }
    }
}

impl ReadAt for MemorySource {
    fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len(), &|| self.describe())?;
        // Both ends are <= len, which is a usize.
        #[expect(clippy::cast_possible_truncation, reason = "bounded by len")]
        Ok(self.bytes.slice(range.start as usize..range.end as usize))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
