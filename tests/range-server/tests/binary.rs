//! The `range-server` binary: the ready line, serving, and a clean exit on SIGTERM.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic is the failure report"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_serves_and_exits_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.bin"), b"abcdefghij").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_range-server"))
        .args([
            "--dir",
            tmp.path().to_str().unwrap(),
            "--port",
            "0",
            "--latency-ms",
            "5",
        ])
        .args(["--fault", "status500", "--fault-every", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = || {
        agent
            .get(&format!("{base}/files/a.bin"))
            .header("Range", "bytes=2-4")
            .call()
    };
    let resp = get().unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.into_body().read_to_vec().unwrap(), b"cde");
    assert_eq!(get().unwrap().status(), 500, "every 2nd request fails");
    let stats = agent
        .get(&format!("{base}/__control/stats"))
        .call()
        .unwrap();
    let stats: range_server::Stats =
        serde_json::from_slice(&stats.into_body().read_to_vec().unwrap()).unwrap();
    assert_eq!((stats.requests, stats.bytes), (2, 3));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_range-server"))
        .args(["--dir", "/nonexistent/dir"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let out = Command::new(env!("CARGO_BIN_EXE_range-server"))
        .args(["--dir", ".", "--fault", "bogus"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
