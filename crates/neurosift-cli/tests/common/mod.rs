//! Shared by the integration tests: fixtures written by pynwb/h5py during
//! the test run (`tests/fixtures/generate.py`), the CLI, JSON comparison.
#![expect(clippy::unwrap_used, reason = "test helpers")]
// Each test binary uses another part of this module: what is dead or unused
// differs from one to the next, so `expect` would fail in some.
#![allow(dead_code, unused_imports, reason = "each test binary uses some")]

pub use ns_test_support::{diff_attrs, fixtures, manifest, read_json, same, workspace_root};
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value as Json;

/// Runs the `neurosift` binary.
pub fn neurosift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neurosift"))
        .args(args)
        .output()
        .expect("run neurosift")
}

pub fn stdout_json(out: &Output) -> Json {
    assert!(
        out.status.success(),
        "neurosift failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Parses the `stats:` line that `--stats` prints last on stderr.
pub fn stats(out: &Output) -> (u64, u64, f64) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().last().unwrap_or_default();
    assert!(line.starts_with("stats: "), "no stats line in {stderr:?}");
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_string()
    };
    (
        field("requests").parse().unwrap(),
        field("bytes").parse().unwrap(),
        field("seconds").parse().unwrap(),
    )
}

/// Compares `inspect --json` output with the generator's expected objects;
/// returns every difference, one per line.
pub fn diff_objects(got: &Json, expected: &Json) -> Vec<String> {
    let index = |doc: &Json| -> Vec<(String, Json)> {
        doc["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["path"].as_str().unwrap().to_string(), o.clone()))
            .collect()
    };
    let got = index(got);
    let expected = index(expected);
    let mut diffs = Vec::new();
    let got_paths: Vec<&String> = got.iter().map(|(p, _)| p).collect();
    let want_paths: Vec<&String> = expected.iter().map(|(p, _)| p).collect();
    if got_paths != want_paths {
        for p in &want_paths {
            if !got_paths.contains(p) {
                diffs.push(format!("missing {p}"));
            }
        }
        for p in &got_paths {
            if !want_paths.contains(p) {
                diffs.push(format!("unexpected {p}"));
            }
        }
        if diffs.is_empty() {
            diffs.push("objects not sorted like h5py's sorted paths".into());
        }
    }
    for (path, want) in &expected {
        let Some((_, have)) = got.iter().find(|(p, _)| p == path) else {
            continue;
        };
        for key in [
            "kind", "shape", "dtype", "chunks", "filters", "target", "file",
        ] {
            if want.get(key) != have.get(key) {
                diffs.push(format!(
                    "{path}: {key}: want {:?} got {:?}",
                    want.get(key),
                    have.get(key)
                ));
            }
        }
        diff_attrs(path, want, have, &mut diffs);
    }
    diffs
}

/// Runs every `samples` entry of an expected file through `neurosift cat`
/// against `location`; returns the differences.
pub fn diff_samples(location: &str, expected: &Json) -> Vec<String> {
    let mut diffs = Vec::new();
    for sample in expected["samples"].as_array().unwrap() {
        let path = sample["path"].as_str().unwrap();
        let mut args = vec!["cat", location, path, "--json"];
        let slice = sample["slice"].as_str();
        if let Some(s) = slice {
            args.push("--slice");
            args.push(s);
        }
        let out = neurosift(&args);
        if !out.status.success() {
            diffs.push(format!(
                "{path} [{slice:?}]: failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        }
        let got: Json = serde_json::from_slice(&out.stdout).unwrap();
        let rel = if matches!(sample["dtype"].as_str(), Some("float32" | "float16")) {
            1e-6
        } else {
            1e-9
        };
        for key in ["shape", "dtype"] {
            if got[key] != sample[key] {
                diffs.push(format!(
                    "{path} [{slice:?}]: {key}: want {} got {}",
                    sample[key], got[key]
                ));
            }
        }
        if !same(&got["data"], &sample["data"], rel) {
            let show = |v: &Json| v.to_string().chars().take(300).collect::<String>();
            diffs.push(format!(
                "{path} [{slice:?}]: data differs\n  want {}\n  got  {}",
                show(&sample["data"]),
                show(&got["data"])
            ));
        }
    }
    diffs
}

/// Fixture names listed in the manifest.
pub fn fixture_files() -> Vec<(String, PathBuf)> {
    manifest()["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                fixtures().join(f["expected"].as_str().unwrap()),
            )
        })
        .collect()
}
