#![expect(clippy::unwrap_used, reason = "tests")]
//! Older and rarer encodings (issue 13, items 6 and 7), in files written by
//! h5py and then edited message by message by `tests/fixtures/old_formats.py`:
//! data layout messages of version 1 and 2 (contiguous, chunked with gzip,
//! compact), only the old fill value message, a version 1 fill value message,
//! unknown header messages, messages of unknown versions, and attributes and
//! datasets whose datatype is a committed one. Every object h5py lists is
//! listed; what h5py reads reads the same; an object that cannot be decoded
//! carries its error and the rest of the file is not affected.

use std::sync::Arc;

use ns_hdf5::{H5File, Node, NodeKind, OpenOptions, Selection};
use serde_json::Value as Json;

use ns_test_support::{fixtures, manifest, same};

fn entry(name: &str) -> Json {
    manifest()["old_formats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} in the manifest"))
        .clone()
}

/// h5py's nested lists as the flat row-major list `Array::to_json` gives.
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

/// The shape of h5py's nested lists.
fn nested_shape(values: &Json) -> Vec<u64> {
    let mut shape = Vec::new();
    let mut v = values;
    while let Json::Array(items) = v {
        shape.push(items.len() as u64);
        let Some(first) = items.first() else { break };
        v = first;
    }
    shape
}

fn open(name: &str) -> H5File {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let source = Arc::new(ns_io::MemorySource::new(bytes, name));
    H5File::open(source, OpenOptions::default()).unwrap()
}

/// Lists the file, checks every object h5py lists is there, and compares
/// every dataset h5py reads and every attribute h5py reads. Returns the
/// nodes for the checks particular to a file.
fn check_against_h5py(name: &str) -> (H5File, Vec<Node>) {
    let want = entry(name);
    let file = open(name);
    let nodes = file.walk().unwrap();
    let listed: Vec<&str> = nodes
        .iter()
        .map(|n| n.path.as_str())
        .filter(|p| *p != "/")
        .collect();
    let objects: Vec<&str> = want["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(listed, objects, "{name}: every object is listed");
    let node = |path: &str| nodes.iter().find(|n| n.path == path).unwrap();
    let mut compared = 0;
    for (path, expected) in want["datasets"].as_object().unwrap() {
        let Some(values) = expected.get("values") else {
            continue;
        };
        let array = file
            .read(path, &Selection::all())
            .unwrap_or_else(|e| panic!("{name} {path}: {e}"));
        assert!(
            same(&array.to_json(), &flat(values), 1e-12),
            "{name} {path}: {} != {values}",
            array.to_json()
        );
        let info = node(path).dataset.as_ref().unwrap();
        assert_eq!(
            info.shape,
            nested_shape(values),
            "{name} {path}: listed shape"
        );
        assert_eq!(array.shape, info.shape, "{name} {path}: read shape");
        compared += 1;
    }
    assert!(compared > 0, "{name}: no dataset compared");
    for (path, attrs) in want["attrs"].as_object().unwrap() {
        let node = node(path);
        if attrs.get("error").is_some() {
            // h5py cannot read these attributes either: the object says why.
            let error = node.error.as_deref().unwrap_or_else(|| {
                panic!("{name} {path}: h5py fails on its attributes, we list no error")
            });
            assert!(error.contains("attribute"), "{name} {path}: {error}");
            continue;
        }
        assert!(node.error.is_none(), "{name} {path}: {:?}", node.error);
        let names: Vec<&str> = node.attrs.iter().map(|(n, _)| n.as_str()).collect();
        let mut want_names: Vec<&str> = attrs
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut names_sorted = names.clone();
        names_sorted.sort_unstable();
        want_names.sort_unstable();
        assert_eq!(names_sorted, want_names, "{name} {path}: attribute names");
        for (attr, value) in attrs.as_object().unwrap() {
            let got = node.attr(attr).unwrap().to_json();
            assert!(
                same(&got, value, 1e-12),
                "{name} {path} {attr}: {got} != {value}"
            );
        }
    }
    (file, nodes)
}

#[test]
fn layout_messages_of_version_1_and_2_read_as_h5py_reads_them() {
    let (_file, nodes) = check_against_h5py("old_layouts.h5");
    // Every kind of old layout is there, and none carries an error.
    for kind in [
        "contiguous_v1",
        "contiguous_v2",
        "chunked_gzip_v1",
        "chunked_gzip_shuffle_v2",
        "chunked_sparse_v2",
        "compact_v1",
        "compact_v2",
    ] {
        let node = nodes
            .iter()
            .find(|n| n.path == format!("/old/{kind}"))
            .unwrap();
        assert_eq!(node.kind, NodeKind::Dataset, "{kind}");
        assert!(node.error.is_none(), "{kind}: {:?}", node.error);
        let info = node.dataset.as_ref().unwrap();
        assert_eq!(info.chunks.is_some(), kind.starts_with("chunked"), "{kind}");
    }
    let gz = nodes
        .iter()
        .find(|n| n.path == "/old/chunked_gzip_v1")
        .unwrap();
    assert_eq!(gz.dataset.as_ref().unwrap().chunks, Some(vec![4, 3]));
}

#[test]
fn hyperslabs_of_old_layouts_match_the_whole_read() {
    let file = open("old_layouts.h5");
    let want = entry("old_layouts.h5");
    for (path, sel, pick) in [
        ("/old/contiguous_v2", "1:3,2:5", (1usize..3, 2usize..5)),
        ("/old/chunked_gzip_v1", "3:9,1:6", (3..9, 1..6)),
        ("/old/chunked_sparse_v2", "1:5,2:4", (1..5, 2..4)),
        ("/old/compact_v2", "1:2,0:3", (1..2, 0..3)),
    ] {
        let whole = &want["datasets"][path]["values"];
        let expected: Vec<Json> = pick
            .0
            .clone()
            .flat_map(|r| whole[r].as_array().unwrap()[pick.1.clone()].to_vec())
            .collect();
        let got = file.read(path, &sel.parse().unwrap()).unwrap().to_json();
        assert!(
            same(&got, &Json::Array(expected.clone()), 1e-12),
            "{path}[{sel}]: {got} != {expected:?}"
        );
    }
}

#[test]
fn old_fill_values_and_unknown_messages_do_not_sink_anything() {
    let name = "old_messages.h5";
    let (file, nodes) = check_against_h5py(name);
    let want = entry(name);
    let node = |path: &str| nodes.iter().find(|n| n.path == path).unwrap();
    // Objects with a message this reader does not know (or a message it
    // does not need, of an unknown version) list and read without an error.
    for path in [
        "/unknown_message",
        "/group_unknown_message",
        "/group_unknown_message/member",
        "/fill_old_only",
        "/fill_v1",
        "/z_after",
    ] {
        assert!(node(path).error.is_none(), "{path}: {:?}", node(path).error);
    }
    // h5py cannot open a dataset whose modification time message has an
    // unknown version; the time is not needed to read the values, which
    // read as written.
    let values = file
        .read("/bad_mtime", &Selection::all())
        .unwrap()
        .to_json();
    assert!(same(
        &values,
        &want["before_edit"]["/bad_mtime"]["values"],
        0.0
    ));
    assert!(node("/bad_mtime").error.is_none());
    // A fill value message of an unknown version: neither h5py nor this
    // reader can say what the unwritten chunks hold. The dataset is listed
    // with the error, reading it gives the error, naming file and object.
    assert!(want["datasets"]["/bad_fill"].get("error").is_some());
    let listed = node("/bad_fill").error.as_deref().unwrap();
    assert!(listed.contains("fill value"), "{listed}");
    let e = file
        .read("/bad_fill", &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(name) && e.contains("/bad_fill") && e.contains("fill value"),
        "{e}"
    );
    // An attribute message of an unknown version: the dataset reads (as in
    // h5py), the object says its attributes cannot be read.
    let values = file
        .read("/bad_attribute", &Selection::all())
        .unwrap()
        .to_json();
    assert!(same(
        &values,
        &want["datasets"]["/bad_attribute"]["values"],
        0.0
    ));
}

#[test]
fn committed_datatypes_of_attributes_and_datasets_read_as_h5py_reads_them() {
    for name in ["committed_types_v0.h5", "committed_types_latest.h5"] {
        let (_file, nodes) = check_against_h5py(name);
        for node in &nodes {
            assert!(
                node.error.is_none(),
                "{name} {}: {:?}",
                node.path,
                node.error
            );
        }
        // The committed datatypes are listed as what they are.
        let t = nodes.iter().find(|n| n.path == "/types/cpd").unwrap();
        assert_eq!(t.kind, NodeKind::Other, "{name}");
        let many = nodes.iter().find(|n| n.path == "/many").unwrap();
        assert_eq!(many.attrs.len(), 12, "{name}");
    }
}

#[test]
fn region_references_show_the_object_and_the_region_as_h5py_decodes_them() {
    for entry in manifest()["region_refs"].as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let file = open(name);
        let nodes = file.walk().unwrap();
        let want = &entry["expected"];
        let mut compared = 0;
        for (path, attrs) in want["attrs"].as_object().unwrap() {
            let node = nodes.iter().find(|n| &n.path == path).unwrap();
            for (attr, value) in attrs.as_object().unwrap() {
                let got = node.attr(attr).unwrap().to_json();
                assert_eq!(&got, value, "{name} {path} {attr}");
                compared += 1;
            }
        }
        let got = file.read("/refs", &Selection::all()).unwrap().to_json();
        assert_eq!(got, want["datasets"]["/refs"], "{name} /refs");
        let one = file
            .read("/refs", &"2:4".parse().unwrap())
            .unwrap()
            .to_json();
        assert_eq!(
            one.as_array().unwrap()[..],
            want["datasets"]["/refs"].as_array().unwrap()[2..4],
            "{name} /refs[2:4]"
        );
        assert_eq!(compared, 4, "{name}");
    }
}
