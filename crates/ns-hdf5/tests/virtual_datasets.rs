#![expect(clippy::unwrap_used, reason = "tests")]
//! Virtual datasets (issue 13, item 7), written by h5py's `VirtualLayout`
//! in `vds.h5`: listed with their mappings, read from sources in the same
//! file and in the sibling files `vds_source_a.h5`/`vds_source_b.h5` (found
//! through the opener next to `vds.h5`, as h5py finds them), unmapped
//! elements the fill value; values compared with h5py.

use std::sync::Arc;

use ns_hdf5::{H5File, NodeKind, OpenOptions, Selection};
use serde_json::Value as Json;

use ns_test_support::{fixtures, manifest, same};

fn entry() -> Json {
    manifest()["virtual"][0].clone()
}

fn source(path: &str) -> ns_io::Result<ns_io::DynSource> {
    let bytes = std::fs::read(path).map_err(|e| ns_io::Error::Io {
        location: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(Arc::new(ns_io::MemorySource::new(bytes, path)))
}

/// `vds.h5` opened as the CLI opens it: named by its path, other files
/// opened through an opener (recording what it was asked for).
fn open(opened: Arc<parking_lot::Mutex<Vec<String>>>) -> H5File {
    let path = fixtures().join("vds.h5").to_string_lossy().into_owned();
    H5File::open(source(&path).unwrap(), OpenOptions::default())
        .unwrap()
        .with_opener(move |p| {
            opened.lock().push(p.to_string());
            source(p)
        })
}

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

#[test]
fn virtual_datasets_list_their_mappings_and_read_as_h5py_reads_them() {
    let want = entry();
    let opened = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let file = open(Arc::clone(&opened));
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
    assert_eq!(listed, objects);
    // Listing opens no other file.
    assert!(opened.lock().is_empty(), "{:?}", opened.lock());
    for (path, mappings) in want["mappings"].as_object().unwrap() {
        let node = nodes.iter().find(|n| &n.path == path).unwrap();
        assert_eq!(node.kind, NodeKind::Dataset);
        assert!(node.error.is_none(), "{path}: {:?}", node.error);
        let info = node.dataset.as_ref().unwrap();
        let got: Vec<(String, String)> = info
            .virtual_sources
            .iter()
            .map(|s| (s.file.clone(), s.dataset.clone()))
            .collect();
        let expected: Vec<(String, String)> = mappings
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["file"].as_str().unwrap().to_string(),
                    m["dataset"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{path}: mappings as h5py lists them");
        let values = &want["datasets"][path]["values"];
        let shape: Vec<u64> = {
            let mut s = Vec::new();
            let mut v = values;
            while let Json::Array(items) = v {
                s.push(items.len() as u64);
                v = &items[0];
            }
            s
        };
        assert_eq!(info.shape, shape, "{path}");
    }
    // The selections of the mappings, as text.
    let siblings = nodes.iter().find(|n| n.path == "/siblings").unwrap();
    let sources = &siblings.dataset.as_ref().unwrap().virtual_sources;
    assert_eq!(sources[0].source_selection, "[...]");
    assert_eq!(sources[0].virtual_selection, "[0:1, 0:10]");
    assert_eq!(
        sources[1].virtual_selection,
        "[1:2, 0:1] + [1:2, 2:3] + [1:2, 4:5] + [1:2, 6:7] + [1:2, 8:9]"
    );
    assert_eq!(sources[2].source_selection, "[7:9]");

    for path in ["/same_file", "/siblings", "/tiled", "/plain"] {
        let got = file.read(path, &Selection::all()).unwrap();
        let values = &want["datasets"][path]["values"];
        assert!(
            same(&got.to_json(), &flat(values), 0.0),
            "{path}: {} != {values}",
            got.to_json()
        );
    }
    // Sources were found next to vds.h5, the missing absolute path by its
    // file name there.
    let dir = fixtures().to_string_lossy().into_owned();
    let opened = opened.lock().clone();
    assert!(
        opened.contains(&format!("{dir}/vds_source_a.h5")),
        "{opened:?}"
    );
    assert!(
        opened.contains(&format!("{dir}/vds_source_b.h5")),
        "{opened:?}"
    );
    assert!(
        opened.contains(&"/nonexistent/dir/vds_source_a.h5".to_string()),
        "{opened:?}"
    );
}

#[test]
fn selections_of_virtual_datasets() {
    let want = entry();
    let file = open(Arc::default());
    for (path, sel, rows, cols) in [
        ("/same_file", "1:3,2:7:2", 1usize..3, vec![2usize, 4, 6]),
        ("/siblings", "1,0:10:3", 1..2, vec![0, 3, 6, 9]),
        ("/tiled", "1:3,2:5", 1..3, vec![2, 3, 4]),
    ] {
        let whole = &want["datasets"][path]["values"];
        let expected: Vec<Json> = rows
            .flat_map(|r| cols.iter().map(move |c| whole[r][*c].clone()))
            .collect();
        let got = file.read(path, &sel.parse().unwrap()).unwrap();
        assert!(
            same(&got.to_json(), &Json::Array(expected.clone()), 0.0),
            "{path}[{sel}]: {} != {expected:?}",
            got.to_json()
        );
    }
}

#[test]
fn a_missing_source_file_is_an_error_naming_it() {
    // h5py reads a missing source as the fill value, silently; we say so.
    let file = open(Arc::default());
    file.walk().unwrap();
    let e = file
        .read("/missing_source", &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vds_missing.h5") && e.contains("/missing_source"),
        "{e}"
    );
    // The part from this file reads; a selection avoiding the missing
    // source does not need it.
    let got = file
        .read("/missing_source", &"0:2".parse().unwrap())
        .unwrap();
    let whole = &entry()["datasets"]["/missing_source"]["values"];
    assert!(same(
        &got.to_json(),
        &Json::Array(whole.as_array().unwrap()[0..2].to_vec()),
        0.0
    ));
    // Without an opener, sources in other files cannot be read, and the
    // error says so; those in the same file can.
    let path = fixtures().join("vds.h5").to_string_lossy().into_owned();
    let alone = H5File::open(source(&path).unwrap(), OpenOptions::default()).unwrap();
    let e = alone
        .read("/siblings", &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(e.contains("vds_source_a.h5"), "{e}");
    let got = alone.read("/same_file", &Selection::all()).unwrap();
    assert!(same(
        &got.to_json(),
        &flat(&entry()["datasets"]["/same_file"]["values"]),
        0.0
    ));
}

#[test]
fn a_virtual_dataset_mapping_itself_is_an_error_not_a_stack_overflow() {
    let name = entry()["loop"].as_str().unwrap().to_string();
    let path = fixtures().join(&name).to_string_lossy().into_owned();
    let file = H5File::open(source(&path).unwrap(), OpenOptions::default())
        .unwrap()
        .with_opener(source);
    let nodes = file.walk().unwrap();
    let node = nodes.iter().find(|n| n.path == "/self_loop").unwrap();
    assert_eq!(node.dataset.as_ref().unwrap().virtual_sources.len(), 1);
    let e = file
        .read("/self_loop", &Selection::all())
        .unwrap_err()
        .to_string();
    assert!(e.contains("/self_loop") && e.contains("deep"), "{e}");
    assert_eq!(file.read("/ok", &Selection::all()).unwrap().len(), 2);
}
