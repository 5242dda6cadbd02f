//! Native byte sources for [`ns_io::ReadAt`]: local files and HTTP(S).
//!
//! [`open`] turns a path or URL into a cached, counted source ready for the
//! HDF5 layer, fetching the head and the tail of the file in the first round
//! trip (pynwb files keep metadata at both ends).

mod file;
mod http;
mod keys;

use std::sync::Arc;

pub use file::FileSource;
pub use http::{HttpOptions, HttpSource};
pub use keys::{DirKeys, HttpKeys};
use ns_io::{Bytes, CacheSetup, Counted, Counters, DynSource, PageCacheConfig, Result};

/// How to open a source.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub cache: PageCacheConfig,
    /// Bytes fetched from each end of the file when it is opened.
    pub prefetch_bytes: u64,
    /// Files up to this size are fetched whole (in concurrent parts) right
    /// after the first round trip: cheaper than walking their metadata one
    /// round trip at a time.
    pub whole_file_bytes: u64,
    pub http: HttpOptions,
    /// Where requests and bytes are counted (shared, so that a caller sees
    /// the cost even of an open that failed).
    pub counters: Arc<Counters>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        let setup = CacheSetup::default();
        Self {
            cache: setup.cache,
            prefetch_bytes: setup.prefetch_bytes,
            whole_file_bytes: setup.whole_file_bytes,
            http: HttpOptions::default(),
            counters: Arc::default(),
        }
    }
}

/// Whether `location` is an http(s) URL rather than a local path.
pub fn is_url(location: &str) -> bool {
    let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

impl OpenOptions {
    /// The page cache and warm-up these options ask for.
    pub fn cache_setup(&self) -> CacheSetup {
        CacheSetup {
            cache: self.cache,
            prefetch_bytes: self.prefetch_bytes,
            whole_file_bytes: self.whole_file_bytes,
        }
    }
}

/// Opens a local path or an http(s) URL behind a page cache, with the head and
/// tail of the file already fetched ([`ns_io::open_cached`]).
pub fn open(location: &str, options: &OpenOptions) -> Result<DynSource> {
    let setup = options.cache_setup();
    if is_url(location) {
        let (http, seeds) = HttpSource::open(
            location,
            options.prefetch_bytes,
            options.http.clone(),
            Arc::clone(&options.counters),
        )?;
        Ok(Arc::new(ns_io::open_cached(http, seeds, &setup)?))
    } else {
        let file =
            Counted::with_counters(FileSource::open(location)?, Arc::clone(&options.counters));
        Ok(Arc::new(ns_io::open_cached(file, [], &setup)?))
    }
}

/// Bytes of a source's head and tail, fetched together (used for probing).
pub type Seeds = Vec<(u64, Bytes)>;
