#![expect(clippy::unwrap_used, reason = "tests")]
//! LINDI files served over HTTP (the range server): relative references
//! resolve against the document's URL, absolute ones go where they say, a
//! `.lindi.tar` is read by offset, and reads cost one request per chunk.

mod common;

use std::sync::Arc;

use common::*;
use ns_io::Counters;
use ns_lindi::LindiFile;
use ns_model::Selection;
use range_server::{Config, RangeServer};

fn server(dir: &std::path::Path) -> RangeServer {
    RangeServer::start(Config {
        dir: dir.to_path_buf(),
        ..Config::default()
    })
    .unwrap()
}

fn open_url(url: &str, counters: &Arc<Counters>) -> LindiFile {
    let source = ns_io_native::open(
        url,
        &ns_io_native::OpenOptions {
            counters: Arc::clone(counters),
            ..Default::default()
        },
    )
    .unwrap();
    LindiFile::open_source(source, opener(counters), Default::default()).unwrap()
}

#[test]
fn json_and_tar_over_http_match_the_hdf5_originals() {
    let server = server(fixtures());
    let mut failures = Vec::new();
    for fixture in lindi_fixtures() {
        let url = server.url(&fixture.name);
        let file = open_url(&url, &Arc::default());
        assert_eq!(file.location(), url);
        for d in diff_tree(&fixture, &file.walk().unwrap()) {
            failures.push(format!("{}: {d}", fixture.name));
        }
        for d in diff_samples(&file, &fixture.expected) {
            failures.push(format!("{}: {d}", fixture.name));
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
fn a_read_costs_one_round_of_requests_for_its_chunks() {
    let server = server(fixtures());
    let counters: Arc<Counters> = Arc::default();
    let file = open_url(&server.url("nwb_ecephys.nwb.lindi.json"), &counters);
    file.walk().unwrap();
    let opened = server.stats().requests;
    // Inline data: nothing more.
    file.read("/units/spike_times", &Selection::all()).unwrap();
    file.read("/intervals/trials/start_time", &Selection::all())
        .unwrap();
    assert_eq!(server.stats().requests, opened);
    // Chunk references: the data file is probed once (head and tail
    // together), then the chunks of the selection are fetched.
    server.reset_stats();
    let data = file
        .read(
            "/acquisition/ElectricalSeries/data",
            &"0:30000:3000,0".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(data.shape, vec![10]);
    let stats = server.stats();
    let on_data = stats.files.get("nwb_ecephys.nwb").map_or(0, |f| f.requests);
    assert_eq!(stats.requests, on_data, "only the data file");
    // The opener's page cache merges adjacent chunks into one request.
    assert!(
        (3..=12).contains(&on_data),
        "2 probes + at most one request per chunk: {on_data}"
    );
    assert_eq!(counters.stats().requests, opened + stats.requests);
}

#[test]
fn absolute_references_and_templates() {
    // The same document with its template pointing at the server: opened
    // from a local path, its chunks come over HTTP.
    let server = server(fixtures());
    let mut doc: serde_json::Value = read_json(&fixtures().join("nwb_ecephys.nwb.lindi.json"));
    assert_eq!(doc["templates"]["u1"], "./nwb_ecephys.nwb");
    doc["templates"]["u1"] = server.url("nwb_ecephys.nwb").into();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved.nwb.lindi.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let local = open(path.to_str().unwrap());
    let remote = open("nwb_ecephys.nwb.lindi.json");
    let sel: Selection = "2995:3005,0:16:5".parse().unwrap();
    let a = local
        .read("/acquisition/ElectricalSeries/data", &sel)
        .unwrap();
    let b = remote
        .read("/acquisition/ElectricalSeries/data", &sel)
        .unwrap();
    assert_eq!(a, b);
    assert!(server.stats().requests > 0, "chunks came from the server");
}

#[test]
fn http_errors_name_the_chunk_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value = read_json(&fixtures().join("nwb_ecephys.nwb.lindi.json"));
    doc["templates"]["u1"] = "./gone.nwb".into();
    std::fs::write(dir.path().join("x.lindi.json"), doc.to_string()).unwrap();
    let server = server(dir.path());
    let file = open_url(&server.url("x.lindi.json"), &Arc::default());
    // The tree needs no data file.
    assert!(file.walk().unwrap().len() > 50);
    let err = file
        .read("/acquisition/ElectricalSeries/data", &Selection::rows(0, 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gone.nwb") && err.contains("404"), "{err}");
}
