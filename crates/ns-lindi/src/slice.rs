//! A byte range of another source, read as a source of its own (an HDF5
//! file stored as a member of a `.lindi.tar`).

use std::ops::Range;

use ns_io::{Bytes, DynSource, ReadAt, Result, check_range};

pub(crate) struct SliceSource {
    inner: DynSource,
    start: u64,
    len: u64,
    name: String,
}

impl SliceSource {
    pub(crate) fn new(inner: DynSource, start: u64, len: u64, member: &str) -> Self {
        let name = format!("{}:{member}", inner.describe());
        Self {
            inner,
            start,
            len,
            name,
        }
    }
}

impl ReadAt for SliceSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&self, range: Range<u64>) -> Result<Bytes> {
        check_range(&range, self.len, &|| self.describe())?;
        self.inner
            .read_range(self.start + range.start..self.start + range.end)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        for r in ranges {
            check_range(r, self.len, &|| self.describe())?;
        }
        let shifted: Vec<Range<u64>> = ranges
            .iter()
            .map(|r| self.start + r.start..self.start + r.end)
            .collect();
        self.inner.read_ranges(&shifted)
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn reads_inside_its_range() {
        let inner: DynSource = Arc::new(ns_io::MemorySource::new(b"0123456789".to_vec(), "t"));
        let s = SliceSource::new(inner, 2, 5, "m");
        assert_eq!(s.len(), 5);
        assert_eq!(s.read_range(1..3).expect("reads").as_ref(), b"34");
        assert_eq!(
            s.read_ranges(&[0..1, 4..5]).expect("reads"),
            vec![Bytes::from_static(b"2"), Bytes::from_static(b"6")]
        );
        assert!(s.read_range(4..6).is_err());
        assert_eq!(s.describe(), "t:m");
    }
}
