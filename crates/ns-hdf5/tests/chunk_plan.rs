#![expect(clippy::unwrap_used, reason = "tests")]
#![allow(clippy::cast_precision_loss, reason = "kB in a printed table")]
//! Round trips and requests of a cold selection, per chunk index type
//! (`chunk_plan_*.h5`, written by h5py in `tests/fixtures/generate.py`:
//! a paged fixed array, an extensible array with secondary blocks, a v2
//! B-tree of depth >= 1, a single chunk, an implicit index, and the same
//! datasets as v1 B-trees in a version-0 file), with and without planning
//! (`OpenOptions::plan_reads`). Values are compared with what h5py read.
//!
//! The source under the page cache answers each call after a delay, like a
//! server far away, and counts round trips (the times it went from idle to
//! busy: calls made while another is in flight ride on its round, as
//! `HttpSource::read_ranges` and the native chunk pool overlap them) and
//! requests (ranges). Each selection is read with one thread (the browser
//! worker: chunks one after another) and with the native pool. The cache has
//! small pages and no read-ahead, so that every structure the walk reads
//! shows.

mod common;

use std::sync::Arc;

use common::Rounds;
use ns_hdf5::{H5File, OpenOptions, Selection};
use ns_io::{PageCache, PageCacheConfig};
use ns_test_support::{fixtures, manifest, read_json, same};
use serde_json::Value as Json;

struct Measured {
    rounds: u64,
    requests: u64,
    bytes: u64,
    chunks: u64,
    json: Json,
}

/// Opens `name` cold, learns the dataset's header, then reads `slice` of
/// it: what the read alone cost.
fn measure(
    bytes: &[u8],
    name: &str,
    path: &str,
    slice: &str,
    plan: bool,
    threads: usize,
) -> Measured {
    let rounds = Arc::new(Rounds::new(bytes, name));
    let cache = PageCache::new(
        Arc::clone(&rounds),
        PageCacheConfig {
            page_size_bytes: 512,
            capacity_bytes: 256 << 20,
            max_request_bytes: 4 << 20,
            readahead_bytes: 0,
        },
    );
    let file = H5File::open(
        Arc::new(cache),
        OpenOptions {
            plan_reads: plan,
            threads,
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let node = file.node(path).unwrap();
    let chunks = node
        .dataset
        .as_ref()
        .and_then(|d| d.chunks.clone())
        .unwrap();
    let selection: Selection = slice.parse().unwrap();
    let shape = node.dataset.as_ref().unwrap().shape.clone();
    let resolved = selection.resolve(&shape).unwrap();
    // Chunks the selection touches, by chunk index per dimension.
    let chunk_count = resolved
        .iter()
        .zip(&chunks)
        .map(|(r, &c)| {
            let mut seen: Vec<u64> = (0..r.count).map(|i| (r.start + i * r.step) / c).collect();
            seen.dedup();
            seen.len() as u64
        })
        .product();
    let before = rounds.snapshot();
    let array = file.read(path, &selection).unwrap();
    let after = rounds.snapshot();
    Measured {
        rounds: after.0 - before.0,
        requests: after.1 - before.1,
        bytes: after.2 - before.2,
        chunks: chunk_count,
        json: array.to_json(),
    }
}

#[test]
fn every_chunk_index_is_planned_in_few_round_trips() {
    let mut table = vec![
        "| file | dataset | index | dataset chunks | selection | chunks selected | worker: rounds before / after | worker: requests before / after | native: rounds before / after | native: requests before / after | KB after |".to_string(),
        "|---|---|---|---|---|---|---|---|---|---|---|".to_string(),
    ];
    let mut failures = Vec::new();
    let mut indexes = std::collections::BTreeSet::new();
    for f in manifest()["chunk_plan"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap();
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        let expected = read_json(&fixtures().join(f["expected"].as_str().unwrap()));
        for (path, slices) in f["selections"].as_object().unwrap() {
            let index = f["chunk_indexes"][path].as_str().unwrap();
            indexes.insert(index.to_string());
            for slice in slices.as_array().unwrap() {
                let slice = slice.as_str().unwrap();
                let at = format!("{name}:{path} [{slice}] ({index})");
                let sample = expected["samples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["path"] == path.as_str() && s["slice"] == slice)
                    .unwrap_or_else(|| panic!("{at}: no h5py sample"));
                // What each index needs at most, planned: the reads that
                // depend on each other, then one round for every chunk.
                let limit = match index {
                    // The chunk address is in the layout message / computed.
                    "single_chunk" | "implicit" => 1,
                    // Header; data block prefix, page bitmap (and unpaged,
                    // the entries); paged, the entries; chunks.
                    "fixed_array" => 4,
                    // Header; index block; secondary blocks with direct
                    // data blocks; data blocks; chunks.
                    "extensible_array" => 5,
                    // Header; root; leaves (depth 1); chunks.
                    "btree_v2" => 4,
                    // Root; leaves (depth 1); chunks.
                    "btree_v1" => 3,
                    other => panic!("unexpected index {other}"),
                };
                let mut runs = Vec::new();
                for threads in [1, 16] {
                    let before = measure(&bytes, name, path, slice, false, threads);
                    let after = measure(&bytes, name, path, slice, true, threads);
                    let at = format!("{at} ({threads} threads)");
                    for (m, how) in [(&before, "unplanned"), (&after, "planned")] {
                        if !same(&m.json, &sample["data"], 1e-9) {
                            failures.push(format!("{at} {how}: values differ from h5py"));
                        }
                    }
                    if after.rounds > limit {
                        failures.push(format!(
                            "{at}: {} round trips planned, expected at most {limit}",
                            after.rounds
                        ));
                    }
                    // One thread reads chunks one by one: planning must save
                    // round trips wherever more than one chunk is read.
                    if threads == 1 && after.chunks > 1 && after.rounds >= before.rounds {
                        failures.push(format!(
                            "{at}: planning saved nothing ({} rounds before, {} after)",
                            before.rounds, after.rounds
                        ));
                    }
                    runs.push((before, after));
                }
                let dataset_chunks = sample_chunk_total(&expected, path);
                let (w0, w1) = &runs[0];
                let (n0, n1) = &runs[1];
                table.push(format!(
                    "| {name} | `{path}` | {index} | {dataset_chunks} | `{slice}` | {} | {} / {} | {} / {} | {} / {} | {} / {} | {:.1} |",
                    w1.chunks,
                    w0.rounds,
                    w1.rounds,
                    w0.requests,
                    w1.requests,
                    n0.rounds,
                    n1.rounds,
                    n0.requests,
                    n1.requests,
                    n1.bytes as f64 / 1000.0
                ));
            }
        }
    }
    eprintln!("{}", table.join("\n"));
    let want: std::collections::BTreeSet<String> = [
        "btree_v1",
        "single_chunk",
        "implicit",
        "fixed_array",
        "extensible_array",
        "btree_v2",
    ]
    .map(String::from)
    .into();
    assert_eq!(indexes, want, "chunk index types in the fixtures");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The number of chunks of the dataset at `path`, from the h5py walk.
fn sample_chunk_total(expected: &Json, path: &str) -> u64 {
    expected["objects"]
        .as_array()
        .and_then(|objects| objects.iter().find(|o| o["path"] == path))
        .and_then(|o| {
            let shape = o["shape"].as_array()?;
            let chunks = o["chunks"].as_array()?;
            Some(
                shape
                    .iter()
                    .zip(chunks)
                    .map(|(s, c)| {
                        s.as_u64()
                            .unwrap_or(0)
                            .div_ceil(c.as_u64().unwrap_or(1).max(1))
                    })
                    .product(),
            )
        })
        .unwrap_or(0)
}
