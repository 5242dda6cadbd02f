#![expect(clippy::unwrap_used, reason = "tests")]
//! Where credentials go: `--header` only to the host of the URL given on
//! the command line (never to another host a redirect or a LINDI reference
//! leads to), and a remote LINDI file never makes the CLI read a local file.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use range_server::{Config, RangeServer};

const KEY: &str = "Authorization: token secret-key";

fn server(dir: &Path) -> RangeServer {
    RangeServer::start(Config {
        dir: dir.to_path_buf(),
        ..Config::default()
    })
    .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "neurosift failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_header_does_not_follow_a_redirect_to_another_host() {
    let first = server(fixtures());
    let second = server(fixtures());
    let url = first.redirect_url_to(&second.base_url(), "nwb_ecephys.nwb");
    let out = neurosift(&["cat", &url, "/units/spike_times", "--header", KEY]);
    assert!(ok(&out).contains("429"));
    assert!(
        first.stats().authorized >= 1,
        "the host on the command line gets the header"
    );
    let other = second.stats();
    assert!(other.requests > 0, "the data came from the second host");
    assert_eq!(other.authorized, 0, "the second host never saw the header");
}

#[test]
fn the_header_follows_a_redirect_on_the_same_host() {
    let server = server(fixtures());
    let url = server.redirect_url("nwb_ecephys.nwb");
    ok(&neurosift(&[
        "cat",
        &url,
        "/units/spike_times",
        "--header",
        KEY,
    ]));
    let stats = server.stats();
    assert_eq!(stats.authorized, stats.requests, "{stats:?}");
}

#[test]
fn lindi_references_on_another_host_get_no_header() {
    let data = server(fixtures());
    let dir = tempfile::tempdir().unwrap();
    let mut doc = read_json(&fixtures().join("nwb_ecephys.nwb.lindi.json"));
    doc["templates"]["u1"] = data.url("nwb_ecephys.nwb").into();
    std::fs::write(dir.path().join("x.nwb.lindi.json"), doc.to_string()).unwrap();
    let index = server(dir.path());
    let out = neurosift(&[
        "cat",
        &index.url("x.nwb.lindi.json"),
        "/acquisition/ElectricalSeries/data",
        "--slice",
        "0:3,0:2",
        "--json",
        "--header",
        KEY,
    ]);
    ok(&out);
    assert!(index.stats().authorized >= 1);
    assert!(data.stats().requests > 0, "chunks came from the data host");
    assert_eq!(
        data.stats().authorized,
        0,
        "the data host never saw the header"
    );
}

#[test]
fn a_remote_lindi_file_naming_local_paths_is_refused() {
    let local = fixtures().join("nwb_ecephys.nwb");
    let local = local.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, reference) in [
        ("abs.lindi.json", local.to_string()),
        ("file.lindi.json", format!("file://{local}")),
        // Relative to the working directory, where that file is.
        ("rel.lindi.json", "nwb_ecephys.nwb".to_string()),
    ] {
        let mut doc = read_json(&fixtures().join("nwb_ecephys.nwb.lindi.json"));
        doc["templates"]["u1"] = reference.clone().into();
        std::fs::write(dir.path().join(name), doc.to_string()).unwrap();
    }
    let server = server(dir.path());
    for (name, reference) in [
        ("abs.lindi.json", local.to_string()),
        ("file.lindi.json", format!("file://{local}")),
        ("rel.lindi.json", "nwb_ecephys.nwb".to_string()),
    ] {
        let url = server.url(name);
        // The tree needs no data: it still lists.
        ok(&neurosift(&["inspect", &url]));
        server.reset_stats();
        let out = Command::new(env!("CARGO_BIN_EXE_neurosift"))
            .args(["cat", &url, "/acquisition/ElectricalSeries/data"])
            .args(["--slice", "0:2,0:2", "--stats"])
            .current_dir(fixtures())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}: a local file was read");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains(&format!("{reference:?}")) && first.contains("refused"),
            "{name}: {stderr}"
        );
        assert!(
            first.contains(&url),
            "{name}: names the LINDI file: {first}"
        );
        // Every byte read came from the server (local reads count too).
        let (_, bytes, _) = stats(&out);
        assert_eq!(bytes, server.stats().bytes, "{name}: read locally");
    }
}
