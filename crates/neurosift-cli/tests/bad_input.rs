#![expect(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "tests: small known numbers"
)]
//! Malformed files: a clear one-line error naming the file, never a panic,
//! never an unbounded allocation. Plus a mutation fuzz of real fixtures.

mod common;

use std::sync::Arc;

use common::*;
use ns_hdf5::{H5File, NodeKind, Selection};

#[test]
fn every_bad_fixture_fails_cleanly() {
    for bad in manifest()["bad"].as_array().unwrap() {
        let name = bad["name"].as_str().unwrap();
        let path = fixtures().join("bad").join(name);
        let path = path.to_str().unwrap();
        let out = neurosift(&["inspect", path]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        if name == "hostile_dims.h5" {
            // The tree is fine; the dataset claims 2^60 elements.
            assert!(out.status.success(), "{name}: {stderr}");
            let out = neurosift(&["cat", path, "/big"]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success());
            assert!(
                stderr.contains("/big") && stderr.contains("limit"),
                "{stderr}"
            );
            continue;
        }
        assert!(!out.status.success(), "{name} should fail");
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(name),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn missing_file_and_bad_arguments() {
    let out = neurosift(&["inspect", "/nonexistent/file.nwb"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("/nonexistent/file.nwb"),
        "{stderr}"
    );
    let f = fixtures().join("nwb_ecephys.nwb");
    let f = f.to_str().unwrap();
    let out = neurosift(&["cat", f, "/no/such/dataset"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("/no/such/dataset"),
        "{stderr}"
    );
    let out = neurosift(&["cat", f, "/units/spike_times", "--slice", "5:2:0"]);
    assert!(!out.status.success());
    let out = neurosift(&["cat", f, "/units/spike_times", "--slice", "0,0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("dimensions"),
        "{stderr}"
    );
    let out = neurosift(&["cat", f, "/acquisition"]);
    assert!(!out.status.success());
}

/// Flips random bytes of real files and reads everything: errors are fine,
/// panics are not.
#[test]
fn mutated_files_never_panic() {
    let files = [
        "nwb_ecephys.nwb",
        "links_latest.h5",
        "types_v0.h5",
        "layouts_latest.h5",
        // Older and rarer encodings (issue 13): layouts v1/v2, old and
        // unknown messages, committed types, region references, virtual
        // datasets.
        "old_layouts.h5",
        "old_messages.h5",
        "committed_types_latest.h5",
        "region_refs_v0.h5",
        "vds.h5",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut outcomes = (0, 0);
    for name in files {
        let original = std::fs::read(fixtures().join(name)).unwrap();
        // Mutate mostly the metadata-heavy head and tail.
        let len = original.len() as u64;
        for round in 0..40 {
            let mut bytes = original.clone();
            for _ in 0..(1 + next() % 8) {
                let pos = if next() % 2 == 0 {
                    next() % len.min(8192)
                } else {
                    len - 1 - next() % len.min(8192)
                };
                bytes[pos as usize] = (next() & 0xff) as u8;
            }
            let source = Arc::new(ns_io::MemorySource::new(bytes, format!("{name}#{round}")));
            let result = std::panic::catch_unwind(|| {
                let Ok(file) = H5File::open(
                    source,
                    ns_hdf5::OpenOptions {
                        max_read_bytes: 64 << 20,
                        ..Default::default()
                    },
                ) else {
                    return false;
                };
                let Ok(nodes) = file.walk() else { return false };
                for node in nodes.iter().filter(|n| n.kind == NodeKind::Dataset) {
                    let _ = file.read(
                        &node.path,
                        &"0:50".parse().unwrap_or_else(|_| Selection::all()),
                    );
                }
                true
            });
            match result {
                Ok(true) => outcomes.0 += 1,
                Ok(false) => outcomes.1 += 1,
                Err(_) => panic!("{name} round {round}: panicked"),
            }
        }
    }
    eprintln!(
        "mutations: {} read through, {} rejected",
        outcomes.0, outcomes.1
    );
}
