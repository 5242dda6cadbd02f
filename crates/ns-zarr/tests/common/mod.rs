//! The NWB-Zarr fixtures that `tests/fixtures/generate.py` writes with
//! hdmf-zarr into `target/test-fixtures` (manifest key `zarr`), and the
//! comparison with what zarr-python read from them.
#![expect(clippy::unwrap_used, reason = "test helpers")]
// Each test binary uses another part of this module.
#![allow(dead_code, unused_imports, reason = "each test binary uses some")]

pub use ns_test_support::{diff_attrs, diff_samples, fixtures, manifest, read_json, same};
use std::sync::Arc;

use ns_io::Counters;
use ns_model::{Node, NodeKind, ObjectStore, Selection};
use ns_zarr::ZarrFile;
use serde_json::{Value as Json, json};

/// One `zarr` entry of the manifest.
#[derive(Debug, Clone)]
pub struct ZarrFixture {
    pub name: String,
    pub expected: Json,
    /// The same NWB content written as HDF5 by pynwb.
    pub hdf5: String,
    /// Arrays whose elements are pickled (reads must be refused).
    pub pickled: Vec<String>,
    /// Whether the store has `.zmetadata`.
    pub consolidated: bool,
}

pub fn zarr_fixtures() -> Vec<ZarrFixture> {
    let manifest = manifest();
    manifest["zarr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| ZarrFixture {
            name: e["name"].as_str().unwrap().to_string(),
            expected: read_json(&fixtures().join(e["expected"].as_str().unwrap())),
            hdf5: e["hdf5"].as_str().unwrap().to_string(),
            pickled: e["pickled"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect(),
            consolidated: e["consolidated"].as_bool().unwrap(),
        })
        .collect()
}

pub fn fixture(name: &str) -> ZarrFixture {
    zarr_fixtures()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap()
}

/// Opens the fixture directory `name`, counting reads in `counters`.
pub fn open_dir(name: &str, counters: &Arc<Counters>) -> ZarrFile {
    open_dir_with(name, counters, Default::default())
}

pub fn open_dir_with(
    name: &str,
    counters: &Arc<Counters>,
    options: ns_zarr::OpenOptions,
) -> ZarrFile {
    let keys = ns_io_native::DirKeys::open(fixtures().join(name), Arc::clone(counters)).unwrap();
    ZarrFile::open(Arc::new(keys), options).unwrap()
}

/// Opens `url` (a store served over HTTP) with default HTTP options.
pub fn open_url(url: &str, counters: &Arc<Counters>) -> ns_zarr::Result<ZarrFile> {
    open_url_with(url, counters, Default::default())
}

pub fn open_url_with(
    url: &str,
    counters: &Arc<Counters>,
    options: ns_zarr::OpenOptions,
) -> ns_zarr::Result<ZarrFile> {
    let keys = ns_io_native::HttpKeys::new(url, Default::default(), Arc::clone(counters));
    ZarrFile::open(Arc::new(keys), options)
}

/// Without the scalar prefetch: opening reads `.zmetadata` alone.
pub fn no_prefetch() -> ns_zarr::OpenOptions {
    ns_zarr::OpenOptions {
        prefetch_scalars: false,
        ..Default::default()
    }
}

/// How many arrays of the fixture have one element (prefetched when
/// opening), from zarr-python's view.
pub fn one_element_arrays(fixture: &ZarrFixture) -> u64 {
    fixture.expected["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["kind"] == "dataset"
                && o["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap())
                    .product::<u64>()
                    == 1
        })
        .count() as u64
}

/// Compares the tree with zarr-python's; returns every difference.
pub fn diff_tree(fixture: &ZarrFixture, nodes: &[Node]) -> Vec<String> {
    let got: Vec<Json> = nodes.iter().map(expected_form).collect();
    let want = fixture.expected["objects"].as_array().unwrap();
    let got_paths: Vec<&str> = got.iter().map(|o| o["path"].as_str().unwrap()).collect();
    let want_paths: Vec<&str> = want.iter().map(|o| o["path"].as_str().unwrap()).collect();
    let mut diffs = Vec::new();
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
    if diffs.is_empty() && got_paths != want_paths {
        diffs.push("not sorted like the expected paths".into());
    }
    for w in want {
        let path = w["path"].as_str().unwrap();
        let Some(h) = got.iter().find(|o| o["path"] == w["path"]) else {
            continue;
        };
        for key in [
            "kind", "shape", "dtype", "target", "file", "chunks", "filters",
        ] {
            if w.get(key) != h.get(key) {
                diffs.push(format!(
                    "{path}: {key}: want {:?} got {:?}",
                    w.get(key),
                    h.get(key)
                ));
            }
        }
        diff_attrs(path, w, h, &mut diffs);
    }
    diffs
}

/// A node in the generator's form.
fn expected_form(node: &Node) -> Json {
    let (target, file) = match &node.kind {
        NodeKind::SoftLink { target } => (Some(target), None),
        NodeKind::ExternalLink { file, target } => (Some(target), Some(file)),
        _ => (None, None),
    };
    let ds = node.dataset.as_ref();
    let mut form = json!({
        "path": node.path,
        "kind": node.kind.name(),
        "attrs": node.attrs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect::<serde_json::Map<_, _>>(),
        "target": target,
        "file": file,
        "shape": ds.map(|d| &d.shape),
        "dtype": ds.map(|d| d.dtype.name()),
        "chunks": ds.map(|d| &d.chunks),
        "filters": ds.map(|d| &d.filters),
    });
    if let Some(obj) = form.as_object_mut() {
        obj.retain(|k, v| !v.is_null() || (k == "chunks" && ds.is_some()));
    }
    form
}
