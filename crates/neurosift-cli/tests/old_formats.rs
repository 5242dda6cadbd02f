#![expect(clippy::unwrap_used, reason = "tests")]
//! `neurosift inspect` and `cat` on the older and rarer files of issue 13
//! (items 6 and 7), as a user would run them: layout messages of version 1
//! and 2, old fill values and unknown messages, committed datatypes,
//! region references, virtual datasets with sources next to the file. Every
//! object h5py lists is listed, values are h5py's, and an object that
//! cannot be read carries its error in the JSON (and in the text) while the
//! rest of the file lists.

mod common;

use common::*;
use serde_json::Value as Json;

fn flat(values: &Json) -> Json {
    fn rec(v: &Json, out: &mut Vec<Json>) {
        match v {
            Json::Array(items) => items.iter().for_each(|i| rec(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    rec(values, &mut out);
    Json::Array(out)
}

/// `inspect --json` of a fixture: its objects by path.
fn inspect(name: &str) -> Vec<Json> {
    let path = fixtures().join(name);
    let got = stdout_json(&neurosift(&["inspect", path.to_str().unwrap(), "--json"]));
    got["objects"].as_array().unwrap().clone()
}

fn object<'a>(objects: &'a [Json], path: &str) -> &'a Json {
    objects
        .iter()
        .find(|o| o["path"] == path)
        .unwrap_or_else(|| panic!("{path} listed"))
}

/// Every object h5py lists is in `inspect --json`; datasets h5py reads
/// `cat --json` the same; objects h5py cannot read have an `error`.
fn check(entry: &Json) -> Vec<Json> {
    let name = entry["name"].as_str().unwrap();
    let objects = inspect(name);
    let mut listed: Vec<&str> = objects
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    listed.retain(|p| *p != "/");
    let want: Vec<&str> = entry["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(listed, want, "{name}");
    let file = fixtures().join(name);
    for (path, expected) in entry["datasets"].as_object().unwrap() {
        let out = neurosift(&["cat", file.to_str().unwrap(), path, "--json"]);
        if path == "/missing_source" {
            // h5py reads a missing source file as the fill value, silently;
            // we name it.
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !out.status.success() && stderr.contains("vds_missing.h5"),
                "{stderr}"
            );
            continue;
        }
        match expected.get("values") {
            Some(values) => {
                let got = stdout_json(&out);
                assert!(
                    same(&got["data"], &flat(values), 1e-12),
                    "{name} {path}: {} != {values}",
                    got["data"]
                );
                // Readable values and an error only for attributes h5py
                // cannot read either.
                if let Some(error) = object(&objects, path).get("error") {
                    assert!(
                        entry["attrs"][path].get("error").is_some(),
                        "{name} {path}: {error}"
                    );
                    assert!(error.as_str().unwrap().contains("attributes"), "{error}");
                }
            }
            None if path == "/bad_mtime" => {
                // h5py cannot open it; the values read as written.
                let got = stdout_json(&out);
                let before = &entry["before_edit"][path]["values"];
                assert!(same(&got["data"], &flat(before), 0.0), "{name} {path}");
            }
            None => {
                assert!(!out.status.success(), "{name} {path} reads, h5py does not");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    stderr.starts_with("error: ") && stderr.contains(path.as_str()),
                    "{stderr}"
                );
                let listed = object(&objects, path)["error"].as_str().unwrap();
                assert!(stderr.contains(listed), "{stderr} / {listed}");
            }
        }
    }
    objects
}

#[test]
fn old_layouts_fill_values_unknown_messages_and_committed_types() {
    for entry in manifest()["old_formats"].as_array().unwrap() {
        let objects = check(entry);
        let name = entry["name"].as_str().unwrap();
        let errors: Vec<(&str, &str)> = objects
            .iter()
            .filter_map(|o| Some((o["path"].as_str()?, o["error"].as_str()?)))
            .collect();
        if name == "old_messages.h5" {
            // Only what h5py cannot read either carries an error.
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(
                errors
                    .iter()
                    .any(|(p, e)| *p == "/bad_fill" && e.contains("fill value")),
                "{errors:?}"
            );
            assert!(
                errors
                    .iter()
                    .any(|(p, e)| *p == "/bad_attribute" && e.contains("attribute")),
                "{errors:?}"
            );
            // The text listing marks them and goes on.
            let path = fixtures().join(name);
            let out = neurosift(&["inspect", path.to_str().unwrap()]);
            assert!(out.status.success());
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text.lines().find(|l| l.contains("bad_fill")).unwrap();
            assert!(line.contains("[unreadable:"), "{text}");
            assert!(text.lines().any(|l| l.contains("z_after")), "{text}");
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
        for (path, attrs) in entry["attrs"].as_object().unwrap() {
            if attrs.get("error").is_some() {
                continue;
            }
            let mut diffs = Vec::new();
            diff_attrs(
                path,
                &serde_json::json!({ "attrs": attrs }),
                object(&objects, path),
                &mut diffs,
            );
            assert!(diffs.is_empty(), "{name}: {diffs:?}");
        }
    }
}

#[test]
fn region_references_print_the_object_and_region() {
    for entry in manifest()["region_refs"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let objects = inspect(name);
        for (path, attrs) in entry["expected"]["attrs"].as_object().unwrap() {
            for (attr, value) in attrs.as_object().unwrap() {
                assert_eq!(
                    &object(&objects, path)["attrs"][attr],
                    value,
                    "{name} {path} {attr}"
                );
            }
        }
        let file = fixtures().join(name);
        let got = stdout_json(&neurosift(&[
            "cat",
            file.to_str().unwrap(),
            "/refs",
            "--json",
        ]));
        assert_eq!(
            got["data"], entry["expected"]["datasets"]["/refs"],
            "{name}"
        );
        // As text: the path and the region, not bytes.
        let out = neurosift(&["cat", file.to_str().unwrap(), "/refs"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("/g/matrix") && text.contains("[0:2, 0:2] + [3:4, 4:6]"),
            "{text}"
        );
    }
}

#[test]
fn virtual_datasets_list_their_sources_and_read_them_next_to_the_file() {
    let entry = &manifest()["virtual"][0];
    let objects = check(entry);
    let siblings = object(&objects, "/siblings");
    let sources = siblings["virtual_sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3);
    assert_eq!(sources[1]["file"], "vds_source_b.h5");
    assert_eq!(sources[1]["dataset"], "/data/y");
    assert_eq!(sources[0]["virtual_selection"], "[0:1, 0:10]");
    let path = fixtures().join("vds.h5");
    let out = neurosift(&["inspect", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("siblings") && l.contains("virtual: 3 mappings")),
        "{text}"
    );
    let out = neurosift(&[
        "cat",
        path.to_str().unwrap(),
        "/tiled",
        "--slice",
        "2:4,3:6",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
