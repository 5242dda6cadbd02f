#![expect(clippy::unwrap_used, reason = "tests")]
//! `neurosift inspect` and `cat` on NWB-Zarr stores written by hdmf-zarr,
//! a local directory and a URL: the tree and values zarr-python read.

mod common;

use common::*;
use range_server::{Config, RangeServer};
use serde_json::Value as Json;

fn server() -> RangeServer {
    RangeServer::start(Config {
        dir: fixtures().to_path_buf(),
        ..Config::default()
    })
    .unwrap()
}

fn expected() -> Json {
    read_json(&fixtures().join("nwb_zarr.nwb.zarr.expected.json"))
}

fn check(location: &str) {
    let expected = expected();
    let out = neurosift(&["inspect", location, "--json"]);
    let got = stdout_json(&out);
    let diffs = diff_objects(&got, &expected);
    assert!(diffs.is_empty(), "{location}:\n{}", diffs.join("\n"));
    let diffs = diff_samples(location, &expected);
    assert!(diffs.is_empty(), "{location}:\n{}", diffs.join("\n"));
}

#[test]
fn inspect_and_cat_a_local_zarr_directory() {
    check(fixtures().join("nwb_zarr.nwb.zarr").to_str().unwrap());
    // The text form shows the session like any NWB file.
    let out = neurosift(&[
        "inspect",
        fixtures().join("nwb_zarr.nwb.zarr").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("session: NWB-Zarr test session"), "{text}");
    assert!(text.contains("ElectricalSeries"), "{text}");
}

#[test]
fn inspect_and_cat_a_zarr_url() {
    let server = server();
    check(&server.url("nwb_zarr.nwb.zarr"));
    // `.zmetadata`, the scalars in one batch (31 here), the two 2-element
    // string arrays of the session (experimenter, publications).
    let out = neurosift(&["inspect", &server.url("nwb_zarr.nwb.zarr/"), "--stats"]);
    let (requests, bytes, _) = stats(&out);
    assert!(
        requests <= 34 && bytes < 300_000,
        "{requests} requests, {bytes} bytes"
    );
}

#[test]
fn pickled_arrays_and_missing_metadata_are_clear_errors() {
    let dir = fixtures().join("nwb_zarr_pickle.nwb.zarr");
    let out = neurosift(&[
        "cat",
        dir.to_str().unwrap(),
        "/general/extracellular_ephys/electrodes/group",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pickle") && err.contains("electrodes/group"),
        "{err}"
    );
    let server = server();
    let out = neurosift(&["inspect", &server.url("nwb_zarr_unconsolidated.nwb.zarr")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".zmetadata"), "{err}");
}
