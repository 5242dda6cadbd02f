#![expect(clippy::unwrap_used, reason = "tests")]
//! `neurosift inspect` and `cat` on LINDI files (`.lindi.json`,
//! `.lindi.tar`), local and over HTTP: the same tree and values as the HDF5
//! file they describe.

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

/// The expected objects without `chunks` and `filters`, which LINDI
/// changes for the data it re-encodes (ns-lindi's tests check them).
fn without_storage(doc: &Json) -> Json {
    let mut doc = doc.clone();
    for o in doc["objects"].as_array_mut().unwrap() {
        let o = o.as_object_mut().unwrap();
        o.remove("chunks");
        o.remove("filters");
    }
    doc
}

fn check_inspect_json(location: &str, expected: &Json) -> Vec<String> {
    let out = neurosift(&["inspect", location, "--json"]);
    let got = without_storage(&stdout_json(&out));
    let mut want = without_storage(expected);
    want.as_object_mut().unwrap().remove("samples");
    diff_objects(&got, &want)
        .into_iter()
        .filter(|d| !d.contains(": chunks:") && !d.contains(": filters:"))
        .collect()
}

#[test]
fn inspect_and_cat_a_local_lindi_json() {
    let expected = read_json(&fixtures().join("nwb_ecephys.expected.json"));
    let path = fixtures().join("nwb_ecephys.nwb.lindi.json");
    let path = path.to_str().unwrap();
    let diffs = check_inspect_json(path, &expected);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let diffs = diff_samples(path, &expected);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn inspect_and_cat_lindi_json_and_tar_over_http() {
    let server = server();
    let expected = read_json(&fixtures().join("nwb_ecephys.expected.json"));
    for name in ["nwb_ecephys.nwb.lindi.json", "nwb_ecephys.nwb.lindi.tar"] {
        let url = server.url(name);
        let diffs = check_inspect_json(&url, &expected);
        assert!(diffs.is_empty(), "{name}: {}", diffs.join("\n"));
        let diffs = diff_samples(&url, &expected);
        assert!(diffs.is_empty(), "{name}: {}", diffs.join("\n"));
    }
}

#[test]
fn inspect_text_shows_the_session_and_tree() {
    let server = server();
    let url = server.url("nwb_ecephys.nwb.lindi.json");
    let local = fixtures().join("nwb_ecephys.nwb.lindi.json");
    for location in [url.as_str(), local.to_str().unwrap()] {
        let out = neurosift(&["inspect", location]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("identifier:"), "{text}");
        assert!(text.contains("NWB version:"), "{text}");
        assert!(text.contains("ElectricalSeries"), "{text}");
        assert!(text.contains("-> /general/devices/probe_device"), "{text}");
        // The header names the document and its size.
        assert!(text.contains("nwb_ecephys.nwb.lindi.json  ("), "{text}");
    }
}

#[test]
fn listing_a_remote_lindi_file_costs_the_document_only() {
    let server = server();
    let out = neurosift(&[
        "inspect",
        &server.url("nwb_ecephys.nwb.lindi.json"),
        "--json",
        "--stats",
    ]);
    let (requests, _, _) = stats(&out);
    let files = server.stats().files;
    assert_eq!(files.len(), 1, "only the document: {files:?}");
    // The opening probe (head and tail), then the rest in parallel parts.
    assert!(requests <= 18, "{requests} requests");
}

#[test]
fn a_json_that_is_not_lindi_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.json");
    std::fs::write(&path, b"{\"hello\": 1}").unwrap();
    let out = neurosift(&["inspect", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("not a LINDI file"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
