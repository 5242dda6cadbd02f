//! Native byte sources for [`ns_io::ReadAt`]: local files and HTTP(S).
//!
//! [`open`] turns a path or URL into a cached, counted source ready for the
//! HDF5 layer, fetching the head and the tail of the file in the first round
//! trip (pynwb files keep metadata at both ends).

mod file;
mod http;

use std::sync::Arc;

pub use file::FileSource;
#[cfg(feature = "fuzzing")]
pub use http::fuzzing;
pub use http::{HttpOptions, HttpSource};
use ns_io::{Bytes, Counted, Counters, DynSource, PageCache, PageCacheConfig, Result};

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
        Self {
            cache: PageCacheConfig::default(),
            prefetch_bytes: 256 * 1024,
            whole_file_bytes: 8 * 1024 * 1024,
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

/// Opens a local path or an http(s) URL behind a page cache, with the head and
/// tail of the file already fetched.
pub fn open(location: &str, options: &OpenOptions) -> Result<DynSource> {
    if is_url(location) {
        let (http, seeds) = HttpSource::open(
            location,
            options.prefetch_bytes,
            options.http.clone(),
            Arc::clone(&options.counters),
        )?;
        let cache = PageCache::new(http, options.cache);
        for (offset, bytes) in &seeds {
            cache.insert(*offset, bytes);
        }
        ns_io::warm_up(&cache, options.prefetch_bytes, options.whole_file_bytes)?;
        Ok(Arc::new(cache))
    } else {
        let file =
            Counted::with_counters(FileSource::open(location)?, Arc::clone(&options.counters));
        let cache = PageCache::new(file, options.cache);
        ns_io::warm_up(&cache, options.prefetch_bytes, options.whole_file_bytes)?;
        Ok(Arc::new(cache))
    }
}

/// Bytes of a source's head and tail, fetched together (used for probing).
pub type Seeds = Vec<(u64, Bytes)>;
