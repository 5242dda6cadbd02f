//! The page cache with the browser worker's own settings
//! ([`CacheSetup::browser`], what `ns-worker` opens every file with), inside
//! a real dedicated worker (wasm-bindgen-test, Chromium): a read as large as
//! the worker allows (twice its cache) finishes, fetching what it needs.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p ns-io --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]
#![expect(clippy::unwrap_used, reason = "tests")]

use ns_io::{CacheSetup, Counted, MemorySource, ReadAt, open_cached};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Bytes whose every 4 KiB block starts with its index (cheap to write and
/// to check in a debug build).
fn marked(len: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; usize::try_from(len).unwrap()];
    for (i, block) in bytes.chunks_mut(4096).enumerate() {
        let mark = (i as u64).to_le_bytes();
        let n = block.len().min(8);
        block[..n].copy_from_slice(&mark[..n]);
    }
    bytes
}

#[wasm_bindgen_test]
fn a_read_twice_the_worker_cache_finishes() {
    let setup = CacheSetup::browser();
    let capacity = setup.cache.capacity_bytes;
    let page = setup.cache.page_size_bytes;
    // The worker's largest read (`MAX_READ_BYTES`, 256 MiB) is twice its cache.
    let read_bytes = 2 * capacity;
    let start = 3 * page + 123;
    let len = start + read_bytes + 5 * page;
    let cache = open_cached(
        Counted::new(MemorySource::new(marked(len), "mem")),
        [],
        &setup,
    )
    .unwrap();
    let counters = cache.inner().counters();
    let opened = counters.stats();
    let got = cache.read_range(start..start + read_bytes).unwrap();
    assert_eq!(got.len() as u64, read_bytes);
    let first_block = start.div_ceil(4096);
    for block in first_block..(start + read_bytes) / 4096 {
        let at = usize::try_from(block * 4096 - start).unwrap();
        let Some(mark) = got.get(at..at + 8) else {
            continue;
        };
        assert_eq!(mark, &block.to_le_bytes(), "block {block}");
    }
    let fetched = counters.stats().bytes - opened.bytes;
    assert!(
        fetched <= read_bytes + page,
        "fetched {fetched} bytes for {read_bytes}"
    );
    assert!(cache.cached_bytes() <= capacity);
    // The head fetched when opening is still cached.
    let before = counters.stats();
    let head = cache.read_range(0..4096).unwrap();
    assert_eq!(&head[..8], &0u64.to_le_bytes());
    assert_eq!(counters.stats(), before);
}
