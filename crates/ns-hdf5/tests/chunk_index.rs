#![expect(clippy::unwrap_used, reason = "tests")]
//! Every chunk index type, with the current extent smaller than the maximum
//! one, resized datasets (grown, shrunk, shrunk and grown back), partial
//! edge chunks, 1-D to 4-D, with and without gzip and with non-zero fill
//! values: read whole and by hyperslabs (steps, chunk boundaries, edges),
//! compared with what h5py read (`chunk_grid_*.h5`, written by
//! `tests/fixtures/generate.py`). Also: a file whose chunk index disagrees
//! with its dataspace is an error naming the dataset, never fill values.

use std::collections::BTreeSet;
use std::sync::Arc;

use ns_hdf5::{H5File, OpenOptions, Selection};
use ns_test_support::{fixtures, manifest, read_json, same};
use serde_json::Value as Json;

fn open_bytes(bytes: Vec<u8>, name: &str) -> H5File {
    let source = Arc::new(ns_io::MemorySource::new(bytes, name.to_string()));
    H5File::open(source, OpenOptions::default()).unwrap()
}

fn open(name: &str) -> H5File {
    open_bytes(std::fs::read(fixtures().join(name)).unwrap(), name)
}

/// The `chunk_grid` entries of the manifest: (file, expected JSON, chunk
/// index of each chunked dataset as HDF5 reported it).
fn chunk_grid_files() -> Vec<(String, Json, Json)> {
    manifest()["chunk_grid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                read_json(&fixtures().join(f["expected"].as_str().unwrap())),
                f["chunk_indexes"].clone(),
            )
        })
        .collect()
}

#[test]
fn every_chunk_index_reads_like_h5py() {
    let mut failures = Vec::new();
    let mut samples = 0;
    let mut indexes = BTreeSet::new();
    for (name, expected, chunk_indexes) in chunk_grid_files() {
        let file = open(&name);
        for index in chunk_indexes.as_object().unwrap().values() {
            indexes.insert(index.as_str().unwrap().to_string());
        }
        for sample in expected["samples"].as_array().unwrap() {
            samples += 1;
            let path = sample["path"].as_str().unwrap();
            let slice = sample["slice"].as_str();
            let selection: Selection = slice.map_or_else(Selection::all, |s| s.parse().unwrap());
            let at = format!("{name}:{path} [{}]", slice.unwrap_or("all"));
            let array = match file.read(path, &selection) {
                Ok(array) => array,
                Err(e) => {
                    failures.push(format!("{at}: {e}"));
                    continue;
                }
            };
            let shape: Vec<u64> = serde_json::from_value(sample["shape"].clone()).unwrap();
            if array.shape != shape || sample["dtype"] != array.dtype.name() {
                failures.push(format!(
                    "{at}: shape/dtype {:?} {} (h5py {shape:?} {})",
                    array.shape,
                    array.dtype.name(),
                    sample["dtype"]
                ));
            }
            let rel = if sample["dtype"] == "float32" {
                1e-6
            } else {
                1e-9
            };
            let got = array.to_json();
            if !same(&got, &sample["data"], rel) {
                failures.push(format!("{at}:\n  h5py {}\n  read {got}", sample["data"]));
            }
        }
    }
    // Every chunk index type was written (HDF5 reported them) and read.
    let want: BTreeSet<String> = [
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
    assert!(samples > 3000, "only {samples} samples");
    assert!(
        failures.is_empty(),
        "{} of {samples} reads differ from h5py:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The dataset in the report: `arange(24).reshape(4, 6)`, chunks (2, 3),
/// maxshape (20, 10), fixed-array index.
const REPORTED: &str = "/fixed_array/2d";

/// `chunk_grid_latest.h5` with the maximum dimensions of [`REPORTED`] set to
/// its current ones (4, 6), the object header's checksum recomputed: the
/// file now says the chunk grid is 2 x 2 while its fixed array holds the
/// 10 x 4 chunks of a (20, 10) grid.
fn with_max_dims_cut() -> Vec<u8> {
    let name = "chunk_grid_latest.h5";
    let mut bytes = std::fs::read(fixtures().join(name)).unwrap();
    let address = open(name).node(REPORTED).unwrap().address.unwrap();
    let at = usize::try_from(address).unwrap();
    // Version 2 object header: "OHDR", version, flags, [times], [phase
    // change], size of chunk 0 (1 << (flags & 3) bytes), messages, checksum.
    assert_eq!(&bytes[at..at + 5], b"OHDR\x02");
    let flags = bytes[at + 5];
    let mut pos = at + 6;
    if flags & 0x20 != 0 {
        pos += 16;
    }
    if flags & 0x10 != 0 {
        pos += 4;
    }
    let width = 1usize << (flags & 3);
    let mut size = [0u8; 8];
    size[..width].copy_from_slice(&bytes[pos..pos + width]);
    let chunk_end = pos + width + usize::try_from(u64::from_le_bytes(size)).unwrap();
    // The dataspace message holds dims (4, 6) then maxdims (20, 10).
    let word = |v: u64| v.to_le_bytes();
    let pattern: Vec<u8> = [4u64, 6, 20, 10].into_iter().flat_map(word).collect();
    let header = &bytes[at..chunk_end];
    let found: Vec<usize> = (0..header.len() - pattern.len())
        .filter(|&i| header[i..].starts_with(&pattern))
        .collect();
    assert_eq!(found.len(), 1, "dims and maxdims in the object header");
    let max_at = at + found[0] + 16;
    bytes[max_at..max_at + 16].copy_from_slice(&[word(4), word(6)].concat());
    let checksum = hdf5_reader::checksum::jenkins_lookup3(&bytes[at..chunk_end]);
    bytes[chunk_end..chunk_end + 4].copy_from_slice(&checksum.to_le_bytes());
    bytes
}

#[test]
fn the_reported_dataset_reads_its_stored_chunks() {
    let file = open("chunk_grid_latest.h5");
    let array = file.read(REPORTED, &Selection::all()).unwrap();
    assert_eq!(array.shape, vec![4, 6]);
    let expected = read_json(&fixtures().join("chunk_grid_latest.expected.json"));
    let sample = expected["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == REPORTED && s["slice"].is_null())
        .unwrap();
    assert!(same(&array.to_json(), &sample["data"], 0.0));
    // Rows 2-3 live in the chunks of the fixed array's second row of 4.
    let rows = file.read(REPORTED, &"2:4".parse().unwrap()).unwrap();
    assert!(rows.to_f64().iter().all(|v| *v != 0.0), "{:?}", rows.data);
}

#[test]
fn a_chunk_index_inconsistent_with_the_dataspace_is_an_error_not_fill() {
    let file = open_bytes(with_max_dims_cut(), "cut_max_dims.h5");
    // The tree still lists the dataset with its (unchanged) shape.
    let node = file.node(REPORTED).unwrap();
    assert_eq!(node.dataset.unwrap().shape, vec![4, 6]);
    for spec in ["", "2:4", "0:4:2,1:6:2", "3"] {
        let selection: Selection = spec.parse().unwrap();
        match file.read(REPORTED, &selection) {
            Ok(array) => panic!("[{spec}] read {:?} from an inconsistent index", array.data),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains("cut_max_dims.h5") && message.contains(REPORTED),
                    "[{spec}] names the file and dataset: {message}"
                );
                assert!(
                    message.contains("fixed array") && message.contains("40"),
                    "[{spec}] says what is inconsistent: {message}"
                );
            }
        }
    }
    // The other datasets of the file still read.
    assert!(file.read("/fixed_array/2d_edge", &Selection::all()).is_ok());
}
