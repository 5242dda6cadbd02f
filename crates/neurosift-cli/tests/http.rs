#![expect(clippy::unwrap_used, reason = "tests")]
//! The same files over HTTP through the range server: same answers, few
//! requests, and clear errors for every kind of server fault.

mod common;

use common::*;
use range_server::{Config, Fault, FaultSpec, RangeServer};

fn server() -> RangeServer {
    RangeServer::start(Config {
        dir: fixtures().to_path_buf(),
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn inspect_and_cat_over_http_match_h5py() {
    let server = server();
    let mut failures = Vec::new();
    for (name, expected) in fixture_files() {
        let url = server.url(&name);
        let out = neurosift(&["inspect", &url, "--json"]);
        if !out.status.success() {
            failures.push(format!("{name}: {}", String::from_utf8_lossy(&out.stderr)));
            continue;
        }
        let expected = read_json(&expected);
        for d in diff_objects(&stdout_json(&out), &expected) {
            failures.push(format!("{name}: {d}"));
        }
        for d in diff_samples(&url, &expected) {
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
fn listing_a_remote_nwb_file_takes_few_requests() {
    let server = server();
    let url = server.url("nwb_ecephys.nwb");
    let out = neurosift(&["inspect", &url, "--json", "--stats"]);
    let (requests, bytes, _) = stats(&out);
    let served = server.stats();
    assert_eq!(
        requests, served.requests,
        "our count agrees with the server's"
    );
    assert_eq!(bytes, served.bytes);
    // The file is ~1 MB: the head and tail probes cover most metadata.
    assert!(requests <= 8, "{requests} requests");
}

#[test]
fn redirects_are_followed_once() {
    let server = server();
    let url = server.redirect_url("nwb_ecephys.nwb");
    let out = neurosift(&["cat", &url, "/units/spike_times", "--json", "--stats"]);
    let doc = stdout_json(&out);
    assert_eq!(doc["shape"][0], 429);
    let files = server.stats().files;
    let direct = files.get("nwb_ecephys.nwb").map_or(0, |f| f.requests);
    let total = server.stats().requests;
    // At most the two opening probes go through the redirect; the rest go straight to the file.
    assert!(total - direct <= 2, "total {total}, direct {direct}");
}

fn expect_error(out: &std::process::Output, needles: &[&str]) {
    assert!(!out.status.success(), "should fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(first.contains(needle), "{needle:?} not in {first:?}");
    }
}

#[test]
fn http_faults_give_clear_errors() {
    let server = server();
    let url = server.url("nwb_ecephys.nwb");
    let cases: &[(Fault, &[&str])] = &[
        (Fault::Status404, &["HTTP 404", "not found"]),
        (Fault::Status500, &["HTTP 500"]),
        (Fault::IgnoreRange, &["ignored the Range header"]),
        (Fault::WrongContentRange, &["Content-Range"]),
        (Fault::Truncate, &["truncated"]),
        (Fault::Reset, &["nwb_ecephys.nwb"]),
    ];
    for (fault, needles) in cases {
        server.set_fault(*fault);
        let out = neurosift(&["inspect", &url, "--stats"]);
        let mut all = vec![url.as_str()];
        all.extend_from_slice(needles);
        expect_error(&out, &all);
        if *fault == Fault::IgnoreRange {
            let (_, bytes, _) = stats(&out);
            assert_eq!(bytes, 0, "a 200 answer must not be read");
        }
    }
    server.set_fault(Fault::None);
    let out = neurosift(&["inspect", &server.url("missing.nwb")]);
    expect_error(&out, &["missing.nwb", "404"]);
}

#[test]
fn fault_after_open_names_the_object() {
    let server = server();
    let url = server.url("nwb_ecephys.nwb");
    // Opening works; reading chunks then fails.
    server.set_fault(FaultSpec {
        mode: Fault::Status404,
        every: 3,
        file: Some("nwb_ecephys.nwb".into()),
    });
    let out = neurosift(&["cat", &url, "/acquisition/ElectricalSeries/data"]);
    expect_error(&out, &[url.as_str(), "404"]);
}

#[test]
fn transient_errors_are_retried() {
    let server = server();
    let url = server.url("nwb_ecephys.nwb");
    server.set_fault(FaultSpec {
        mode: Fault::Status500,
        every: 2,
        file: None,
    });
    let out = neurosift(&["cat", &url, "/units/spike_times", "--json"]);
    assert_eq!(stdout_json(&out)["shape"][0], 429);
}

#[test]
fn latency_shows_in_seconds_but_not_in_request_count() {
    let server = RangeServer::start(Config {
        dir: fixtures().to_path_buf(),
        latency_ms: 50,
        ..Config::default()
    })
    .unwrap();
    let url = server.url("many_small.nwb");
    let out = neurosift(&["inspect", &url, "--json", "--stats"]);
    let (requests, _, seconds) = stats(&out);
    assert!(seconds >= 0.05);
    assert!(!stdout_json(&out)["objects"].as_array().unwrap().is_empty());
    assert!(requests < 40, "{requests}");
}
