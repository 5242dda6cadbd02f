//! What the fuzz targets share: limits small enough for libFuzzer's memory
//! budget, and one walk-and-read pass over any object store.

use std::sync::Arc;

use ns_hdf5::{DimSelection, NodeKind, ObjectStore, OpenOptions, Selection};
use ns_io::{DynSource, MemorySource, PageCache, PageCacheConfig, ReadAt};

/// The largest read a fuzzed file may make (16 MiB), one thread: a file
/// that makes the reader allocate more than this is a bug the fuzzer reports
/// (libFuzzer's own limit is 2 GiB).
pub fn options() -> OpenOptions {
    OpenOptions {
        max_read_bytes: 16 << 20,
        threads: 1,
        // The chunk planner reads untrusted index nodes too.
        plan_reads: true,
    }
}

/// `data` as a byte source.
pub fn source(data: &[u8], name: &str) -> DynSource {
    Arc::new(MemorySource::new(data.to_vec(), name))
}

/// `data` behind a page cache of small pages with only its start read, as
/// a remote file is after its probe: the path read-ahead (ns-hdf5's
/// `walk.rs`) then meets untrusted addresses that are not cached, and walks
/// from the cache only while it speculates.
pub fn cached_source(data: &[u8], name: &str) -> DynSource {
    let cache = PageCache::new(
        Arc::new(MemorySource::new(data.to_vec(), name)),
        PageCacheConfig {
            page_size_bytes: 512,
            capacity_bytes: 64 << 20,
            max_request_bytes: 1 << 20,
            readahead_bytes: 0,
        },
    );
    let _ = cache.read_range(0..cache.len().min(2048));
    Arc::new(cache)
}

/// Walks the tree, looks every node up by path, and reads a small
/// selection (the first two elements of each dimension, then one element)
/// of every dataset. Errors are fine; panics, hangs and huge allocations
/// are what the fuzzer looks for.
pub fn exercise(store: &dyn ObjectStore) {
    let _ = store.location();
    let _ = store.size_bytes();
    let Ok(nodes) = store.walk() else {
        return;
    };
    for node in nodes.iter().take(64) {
        for (_, value) in &node.attrs {
            let _ = value.to_json();
        }
        if store.node(&node.path).is_err() || node.kind != NodeKind::Dataset {
            continue;
        }
        let rank = node.dataset.as_ref().map_or(0, |d| d.shape.len());
        let head = Selection(vec![
            DimSelection::Range {
                start: Some(0),
                stop: Some(2),
                step: 1,
            };
            rank
        ]);
        let one = Selection(vec![DimSelection::Index(1); rank.min(1)]);
        for selection in [head, one] {
            if let Ok(array) = store.read(&node.path, &selection) {
                let _ = array.to_json();
                let _ = array.to_strings();
            }
        }
    }
}
