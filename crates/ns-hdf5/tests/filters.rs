#![expect(clippy::unwrap_used, reason = "tests")]
//! The compression plugins NWB writers use (issue 13, item 1): every
//! dataset of `filters.h5` (written by h5py + hdf5plugin: Blosc with each
//! codec and shuffle, Zstd, LZ4, Bitshuffle alone and with LZ4/Zstd, LZF,
//! BZip2, combined with HDF5's shuffle and fletcher32) reads as h5py reads
//! it; filters this reader cannot decode (lossy ones, unknown ids) are an
//! error naming the filter and the dataset, never values.

use std::collections::BTreeSet;
use std::sync::Arc;

use ns_hdf5::{H5File, NodeKind, OpenOptions, Selection};
use ns_test_support::{fixtures, manifest, read_json, same};

fn open(name: &str) -> H5File {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let source = Arc::new(ns_io::MemorySource::new(bytes, name.to_string()));
    H5File::open(source, OpenOptions::default()).unwrap()
}

#[test]
fn every_plugin_filter_reads_like_h5py() {
    let file = open("filters.h5");
    let expected = read_json(&fixtures().join("filters.expected.json"));
    let mut failures = Vec::new();
    let mut samples = 0;
    for sample in expected["samples"].as_array().unwrap() {
        samples += 1;
        let path = sample["path"].as_str().unwrap();
        let slice = sample["slice"].as_str();
        let selection: Selection = slice.map_or_else(Selection::all, |s| s.parse().unwrap());
        let at = format!("{path} [{}]", slice.unwrap_or("all"));
        match file.read(path, &selection) {
            Ok(array) => {
                let rel = if sample["dtype"] == "float32" {
                    1e-6
                } else {
                    1e-9
                };
                let got = array.to_json();
                if !same(&got, &sample["data"], rel) {
                    failures.push(format!("{at}: differs from h5py"));
                }
            }
            Err(e) => failures.push(format!("{at}: {e}")),
        }
    }
    // Every filter named in the file was listed by its name.
    let listed: BTreeSet<String> = file
        .walk()
        .unwrap()
        .into_iter()
        .filter_map(|n| n.dataset)
        .flat_map(|d| d.filters)
        .collect();
    let want: BTreeSet<String> = [
        "blosc",
        "zstd",
        "lz4",
        "bitshuffle",
        "lzf",
        "bzip2",
        "shuffle",
        "fletcher32",
    ]
    .map(String::from)
    .into();
    assert_eq!(listed, want);
    assert!(samples > 60, "only {samples} samples");
    assert!(
        failures.is_empty(),
        "{} of {samples} reads differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unsupported_filters_are_errors_naming_filter_and_dataset() {
    for entry in manifest()["unsupported_filters"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let file = open(name);
        let nodes = file.walk().unwrap();
        for (path, id) in entry["datasets"].as_object().unwrap() {
            let node = nodes.iter().find(|n| &n.path == path).unwrap();
            assert_eq!(node.kind, NodeKind::Dataset, "{path} is listed");
            for spec in ["", "0:2"] {
                let selection: Selection = spec.parse().unwrap();
                let e = file
                    .read(path, &selection)
                    .expect_err("an unsupported filter reads no values");
                let message = e.to_string();
                assert!(
                    message.contains(name)
                        && message.contains(path.as_str())
                        && message.contains(&format!("filter {id}")),
                    "{message}"
                );
                assert!(
                    matches!(
                        ns_model::Error::from(e),
                        ns_model::Error::Unsupported { .. }
                    ),
                    "{path}: an Unsupported error"
                );
            }
        }
        for path in entry["readable"].as_array().unwrap() {
            file.read(path.as_str().unwrap(), &Selection::all())
                .unwrap();
        }
    }
}

#[test]
fn a_hostile_plugin_chunk_is_an_error_not_an_allocation() {
    // Every chunk of filters.h5 with its first 16 bytes (the codecs'
    // headers: Blosc sizes, LZ4/Bitshuffle totals, Zstd frame header)
    // overwritten by 0xff: each read fails or reads, and never allocates
    // what the headers claim (4 GiB and more).
    let name = "filters.h5";
    let mut bytes = std::fs::read(fixtures().join(name)).unwrap();
    // [offset, size, filter mask] of every chunk, as h5py reported them.
    let chunks = read_json(&fixtures().join("filters.chunks.json"));
    let mut paths = Vec::new();
    for (path, entry) in chunks.as_object().unwrap() {
        for chunk in entry["chunks"].as_array().unwrap() {
            let at = usize::try_from(chunk[0].as_u64().unwrap()).unwrap();
            let len = usize::try_from(chunk[1].as_u64().unwrap()).unwrap().min(16);
            bytes[at..at + len].fill(0xff);
        }
        paths.push(path.clone());
    }
    let source = Arc::new(ns_io::MemorySource::new(bytes, "hostile.h5"));
    let file = H5File::open(source, OpenOptions::default()).unwrap();
    let mut errors = 0;
    for path in &paths {
        if let Err(e) = file.read(path, &Selection::all()) {
            assert!(e.to_string().contains(path.as_str()), "{e}");
            errors += 1;
        }
    }
    assert!(
        errors > paths.len() / 2,
        "{errors} of {} failed",
        paths.len()
    );
}
