#![expect(clippy::unwrap_used, reason = "tests")]
//! Round trips of a cold read of a file extended after it was written
//! (`extended_later.h5`, written by h5py in `tests/fixtures/generate.py`):
//! the root's names and some of its symbol table nodes moved near the end,
//! outside the head and tail that opening a remote file probes. Reading a
//! dataset's last chunks then needs, after the probe: the root's names;
//! the dataset's B-tree leaf (its root is in the head); the chunks. The
//! path read-ahead (`walk.rs`) fetches the leaf with the names, walking the
//! path under each entry it already has: two rounds instead of three (one
//! instead of two for the first chunks, which are in the head).
//! Values are compared with what h5py read.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::Rounds;
use ns_hdf5::{H5File, OpenOptions, Selection};
use ns_io::{PageCache, PageCacheConfig, ReadAt};
use ns_test_support::{fixtures, manifest, read_json, same};

/// What a remote open probes: the first and last 256 KiB.
const PROBE: u64 = 256 * 1024;

/// Round trips of reading `slice` of `path` cold, after the probe.
fn cold_read(bytes: &[u8], path: &str, slice: &str, plan: bool) -> (u64, serde_json::Value) {
    let rounds = Arc::new(Rounds::new(bytes, "extended_later.h5"));
    let len = rounds.len();
    // Small pages and no read-ahead, so that a chunk never comes along
    // with the B-tree leaf beside it (in the benchmark's 850 MB file they
    // lie megabytes apart).
    let cache = PageCache::new(
        Arc::clone(&rounds),
        PageCacheConfig {
            page_size_bytes: 4096,
            readahead_bytes: 0,
            ..PageCacheConfig::default()
        },
    );
    // The probe, as a remote open makes it (one round).
    cache
        .read_ranges(&[0..PROBE.min(len), len.saturating_sub(PROBE)..len])
        .unwrap();
    let file = H5File::open(
        Arc::new(cache),
        OpenOptions {
            plan_reads: plan,
            threads: 1,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let before = rounds.calls.load(Ordering::SeqCst);
    let selection: Selection = slice.parse().unwrap();
    let array = file.read(path, &selection).unwrap();
    (
        rounds.calls.load(Ordering::SeqCst) - before,
        array.to_json(),
    )
}

#[test]
fn a_path_whose_names_moved_to_the_end_costs_one_round_before_its_chunks() {
    let f = manifest()["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "extended_later.h5")
        .unwrap()
        .clone();
    let bytes = std::fs::read(fixtures().join("extended_later.h5")).unwrap();
    let expected = read_json(&fixtures().join(f["expected"].as_str().unwrap()));
    let path = "/acquisition/ts/data";
    let mut table = Vec::new();
    // The first chunks are in the probed head; the last are not.
    for (slice, want) in [("0:3000", 1), ("0:3000,2", 1), ("398000:400000", 2)] {
        let sample = expected["samples"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"] == path && s["slice"] == slice)
            .unwrap_or_else(|| panic!("{slice}: no h5py sample"));
        let (unplanned, json) = cold_read(&bytes, path, slice, false);
        assert!(
            same(&json, &sample["data"], 0.0),
            "{slice} unplanned: values differ from h5py"
        );
        let (planned, json) = cold_read(&bytes, path, slice, true);
        assert!(
            same(&json, &sample["data"], 0.0),
            "{slice} planned: values differ from h5py"
        );
        table.push(format!(
            "{slice}: {unplanned} rounds unplanned, {planned} planned"
        ));
        assert!(
            planned <= want,
            "{slice}: {planned} round trips after the probe, expected {want} (the names with the leaf, then the chunks not in the head)"
        );
    }
    eprintln!("{}", table.join("\n"));
}
