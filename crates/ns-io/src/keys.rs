//! Key-value sources: whole objects by key (`group/.zattrs`, `array/0.1`),
//! as a Zarr store is read. A directory natively, HTTP GETs of
//! `<base>/<key>` natively and in the browser worker, memory in tests.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use crate::Result;

/// Whole values by key, from an immutable store. A key that does not exist
/// is `Ok(None)` (Zarr reads a missing chunk as its fill value); any other
/// failure is an error. Implementations must be safe to call from several
/// threads at once.
pub trait ReadKey: Send + Sync {
    /// The value of `key`. A value longer than `max_bytes` is an error
    /// (checked before it is read where the store tells the size first).
    fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>>;

    /// Several values. Stores that can overlap requests (HTTP) override
    /// this to fetch them concurrently; the default reads one by one.
    fn get_many(&self, keys: &[String], max_bytes: u64) -> Result<Vec<Option<Bytes>>> {
        keys.iter().map(|k| self.get(k, max_bytes)).collect()
    }

    /// Every key of the store, if it can list them (a local directory can;
    /// plain HTTP cannot).
    fn list(&self) -> Option<Result<Vec<String>>> {
        None
    }

    /// Where the values come from (a path or URL), for error messages.
    fn describe(&self) -> String;
}

/// A shared, type-erased key-value source.
pub type DynKeys = Arc<dyn ReadKey>;

/// Values held in memory (tests, and stores built from other stores).
pub struct MemoryKeys {
    values: HashMap<String, Bytes>,
    name: String,
}

impl MemoryKeys {
    pub fn new(values: impl IntoIterator<Item = (String, Bytes)>, name: impl Into<String>) -> Self {
        Self {
            values: values.into_iter().collect(),
            name: name.into(),
        }
    }
}

impl ReadKey for MemoryKeys {
    fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Bytes>> {
        match self.values.get(key) {
            Some(v) if v.len() as u64 > max_bytes => Err(too_large(
                &format!("{}/{key}", self.name),
                v.len() as u64,
                max_bytes,
            )),
            other => Ok(other.cloned()),
        }
    }

    fn list(&self) -> Option<Result<Vec<String>>> {
        let mut keys: Vec<String> = self.values.keys().cloned().collect();
        ns_sort::sort(&mut keys);
        Some(Ok(keys))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// The error of a value longer than a read may take.
pub fn too_large(location: &str, len_bytes: u64, max_bytes: u64) -> crate::Error {
    crate::Error::Invalid {
        location: location.to_string(),
        message: format!("{len_bytes} bytes, more than the {max_bytes}-byte read limit"),
    }
}

/// Whether `key` is a safe relative key: `/`-separated parts, none empty,
/// `.` or `..`, no backslash or NUL (so that a directory or URL store never
/// reads outside its root).
pub fn is_safe_key(key: &str) -> bool {
    !key.is_empty()
        && !key.contains(['\\', '\0'])
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_keys() {
        let keys = MemoryKeys::new([("a/.zarray".to_string(), Bytes::from_static(b"{}"))], "m");
        assert_eq!(
            keys.get("a/.zarray", 10).expect("reads"),
            Some(Bytes::from_static(b"{}"))
        );
        assert_eq!(keys.get("a/0", 10).expect("reads"), None);
        assert!(keys.get("a/.zarray", 1).is_err());
        assert_eq!(
            keys.get_many(&["a/0".into(), "a/.zarray".into()], 10)
                .expect("reads")
                .len(),
            2
        );
    }

    #[test]
    fn safe_keys() {
        for ok in ["a", ".zarray", "a/b/.zattrs", "x/0.1", "x/0/1"] {
            assert!(is_safe_key(ok), "{ok}");
        }
        for bad in [
            "",
            "/a",
            "a/",
            "a//b",
            "../x",
            "a/../../x",
            "a/./b",
            "a\\b",
            "a\0",
        ] {
            assert!(!is_safe_key(bad), "{bad}");
        }
    }
}
