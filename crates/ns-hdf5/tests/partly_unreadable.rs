#![expect(clippy::unwrap_used, reason = "tests")]
//! One bad object never sinks the file (issue 13, item 7): in
//! `partly_unreadable.h5` (written by h5py) every object is listed. The
//! objects this reader once could not decode (attributes with a committed
//! datatype, a dataset of a committed datatype, a virtual dataset) now list
//! without an error and read as h5py reads them; if one could not, it
//! would carry its error and reading it would give it.

use std::sync::Arc;

use ns_hdf5::{H5File, NodeKind, OpenOptions, Selection};
use ns_test_support::{fixtures, manifest, same};

#[test]
fn every_object_is_listed_and_the_readable_ones_read() {
    for entry in manifest()["partly_unreadable"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let bytes = std::fs::read(fixtures().join(name)).unwrap();
        let source = Arc::new(ns_io::MemorySource::new(bytes, name));
        let file = H5File::open(source, OpenOptions::default()).unwrap();
        let nodes = file.walk().unwrap();
        let mut listed: Vec<&str> = nodes.iter().map(|n| n.path.as_str()).collect();
        listed.retain(|p| *p != "/");
        // Every object is listed, except the members of a group whose own
        // header cannot be decoded (its links are in that header): such a
        // group is listed with its error.
        let unreadable_groups: Vec<String> = nodes
            .iter()
            .filter(|n| n.error.is_some())
            .map(|n| format!("{}/", n.path))
            .collect();
        let want: Vec<&str> = entry["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .filter(|p| !unreadable_groups.iter().any(|g| p.starts_with(g.as_str())))
            .collect();
        assert_eq!(listed, want, "every object is listed");
        let unreadable: Vec<(&str, &str)> = nodes
            .iter()
            .filter_map(|n| Some((n.path.as_str(), n.error.as_deref()?)))
            .collect();
        assert!(unreadable.is_empty(), "{unreadable:?}");
        for (path, values) in entry["readable"].as_object().unwrap() {
            let Some(node) = nodes.iter().find(|n| &n.path == path) else {
                assert!(
                    unreadable_groups
                        .iter()
                        .any(|g| path.starts_with(g.as_str()))
                );
                continue;
            };
            match file.read(path, &Selection::all()) {
                Ok(array) => {
                    assert!(node.error.is_none() || node.kind == NodeKind::Dataset);
                    assert!(same(&array.to_json(), &flat(values), 0.0), "{path}");
                }
                Err(e) => {
                    // Not decodable yet: listed with the error, and the
                    // read says the same, naming the file and the object.
                    let listed_error = node.error.as_deref().unwrap_or_else(|| {
                        panic!("{path} fails to read ({e}) but is listed without an error")
                    });
                    let message = e.to_string();
                    assert!(message.contains(name) && message.contains(path.as_str()));
                    assert!(message.contains(listed_error), "{message} / {listed_error}");
                }
            }
        }
        // Objects listed with an error say what the problem is.
        for node in nodes.iter().filter(|n| n.error.is_some()) {
            let error = node.error.as_deref().unwrap();
            assert!(!error.is_empty(), "{}", node.path);
        }
        // Attributes with committed datatypes read as h5py reads them.
        for (path, attrs) in entry["attrs"].as_object().unwrap() {
            let node = nodes.iter().find(|n| &n.path == path).unwrap();
            for (attr, value) in attrs.as_object().unwrap() {
                let got = node.attr(attr).unwrap().to_json();
                assert!(same(&got, value, 0.0), "{path} {attr}: {got}");
            }
        }
    }
}

/// h5py's nested lists as the flat row-major list `Array::to_json` gives.
fn flat(values: &serde_json::Value) -> serde_json::Value {
    fn rec(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| rec(i, out)),
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    rec(values, &mut out);
    serde_json::Value::Array(out)
}
