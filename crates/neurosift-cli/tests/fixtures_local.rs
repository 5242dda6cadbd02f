#![expect(clippy::unwrap_used, reason = "tests")]
//! `neurosift inspect --json` and `cat --json` agree with h5py on every
//! generated fixture, read from local files.

mod common;

use common::*;

#[test]
fn inspect_matches_h5py_on_every_fixture() {
    let mut failures = Vec::new();
    for (name, expected) in fixture_files() {
        let path = fixtures().join(&name);
        let out = neurosift(&["inspect", path.to_str().unwrap(), "--json"]);
        if !out.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let got = stdout_json(&out);
        for d in diff_objects(&got, &read_json(&expected)) {
            failures.push(format!("{name}: {d}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn cat_matches_h5py_samples() {
    let mut failures = Vec::new();
    for (name, expected) in fixture_files() {
        let path = fixtures().join(&name);
        for d in diff_samples(path.to_str().unwrap(), &read_json(&expected)) {
            failures.push(format!("{name}: {d}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn inspect_text_shows_types_and_shapes() {
    let path = fixtures().join("nwb_ecephys.nwb");
    let out = neurosift(&["inspect", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ElectricalSeries"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("data") && l.contains("int16") && l.contains("deflate")),
        "{text}"
    );
    assert!(
        text.contains("-> /general/devices/"),
        "soft links shown with target: {text}"
    );
}

/// Issue 6, item 0: `neurosift cat` of chunked datasets whose shape is
/// smaller than their maximum shape (fixed-array and implicit indexes are
/// laid out over the maximum one) read their stored chunks, not fill
/// values. ns-hdf5's `tests/chunk_index.rs` reads every dataset of these
/// files; here the CLI reads the ones of the report.
#[test]
fn cat_reads_chunks_beyond_the_first_when_shape_is_below_maxshape() {
    let reported = [
        "/fixed_array/2d",
        "/fixed_array/2d_gzip",
        "/fixed_array/2d_grown",
        "/implicit/2d",
    ];
    let mut failures = Vec::new();
    for name in ["chunk_grid_latest.h5", "chunk_grid_v0.h5"] {
        let mut expected = read_json(&fixtures().join(name.replace(".h5", ".expected.json")));
        let samples = expected["samples"].as_array_mut().unwrap();
        samples.retain(|s| reported.contains(&s["path"].as_str().unwrap()));
        assert!(
            samples.len() >= 4 * reported.len(),
            "{name}: samples of {reported:?}"
        );
        let path = fixtures().join(name);
        for d in diff_samples(path.to_str().unwrap(), &expected) {
            failures.push(format!("{name}: {d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
