//! Fixtures for the integration tests: the files `tests/fixtures/generate.py`
//! writes with pynwb/h5py/lindi into `target/test-fixtures` (shared with the
//! other crates' tests, same stamp), and the comparison with the values
//! h5py reported for the HDF5 originals.
#![expect(clippy::unwrap_used, reason = "test helpers")]
// Each test binary uses another part of this module: what is dead or unused
// differs from one to the next, so `expect` would fail in some.
#![allow(dead_code, unused_imports, reason = "each test binary uses some")]

pub use ns_test_support::{
    diff_attrs, diff_samples, fixtures, manifest, read_json, same, workspace_root,
};
use std::sync::Arc;

use ns_io::{Counters, DynSource};
use ns_lindi::LindiFile;
use ns_model::{Node, NodeKind, Selection};
use serde_json::{Value as Json, json};

/// One `lindi` entry of the manifest.
#[derive(Debug, Clone)]
pub struct LindiFixture {
    pub name: String,
    /// The HDF5 file it was made from (`None`: written by lindi itself).
    pub source: Option<String>,
    pub expected: Json,
    /// Datasets whose data lindi re-encoded inline (zarr chunks and codecs
    /// rather than the HDF5 file's).
    pub reencoded: Vec<String>,
    pub external_array_links: Vec<String>,
}

pub fn lindi_fixtures() -> Vec<LindiFixture> {
    let manifest = read_json(&fixtures().join("manifest.json"));
    let strings = |v: &Json| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    manifest["lindi"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| LindiFixture {
            name: e["name"].as_str().unwrap().to_string(),
            source: e["source"].as_str().map(str::to_string),
            expected: read_json(&fixtures().join(e["expected"].as_str().unwrap())),
            reencoded: strings(&e["reencoded"]),
            external_array_links: strings(&e["external_array_links"]),
        })
        .collect()
}

/// Opens referenced files natively, counting their requests in `counters`.
pub fn opener(
    counters: &Arc<Counters>,
) -> impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static {
    let counters = Arc::clone(counters);
    move |url: &str| {
        ns_io_native::open(
            url,
            &ns_io_native::OpenOptions {
                counters: Arc::clone(&counters),
                // At least one page: a smaller tail probe is not page-aligned.
                prefetch_bytes: 64 * 1024,
                whole_file_bytes: 0,
                ..Default::default()
            },
        )
    }
}

/// Opens the fixture `name` (a .lindi.json or .lindi.tar) from the fixture
/// directory.
pub fn open(name: &str) -> LindiFile {
    open_counted(name, &Arc::default())
}

pub fn open_counted(name: &str, counters: &Arc<Counters>) -> LindiFile {
    let path = fixtures().join(name);
    let source = ns_io_native::open(path.to_str().unwrap(), &Default::default()).unwrap();
    LindiFile::open_source(source, opener(counters), Default::default()).unwrap()
}

/// Compares the LINDI tree with the expected objects of the HDF5 original;
/// returns every difference. Where LINDI cannot match HDF5, the rules are:
/// - `chunks`: a contiguous HDF5 dataset (`null`) is one zarr chunk of the
///   whole shape (all ones for an empty dataset), or split along the first
///   dimension; a re-encoded dataset is one chunk of its whole shape;
///   others keep the HDF5 chunks.
/// - `filters`: re-encoded datasets list the zarr codec (`blosc`); others
///   keep the HDF5 filters.
pub fn diff_tree(fixture: &LindiFixture, nodes: &[Node]) -> Vec<String> {
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
        diffs.push("not sorted like h5py's sorted paths".into());
    }
    let native = fixture.source.is_none();
    for w in want {
        let path = w["path"].as_str().unwrap();
        let Some(h) = got.iter().find(|o| o["path"] == w["path"]) else {
            continue;
        };
        for key in ["kind", "shape", "dtype", "target", "file"] {
            if w.get(key) != h.get(key) {
                diffs.push(format!(
                    "{path}: {key}: want {:?} got {:?}",
                    w.get(key),
                    h.get(key)
                ));
            }
        }
        if w["kind"] == "dataset" {
            let reencoded = fixture.reencoded.iter().any(|p| p == path);
            let shape: Vec<u64> = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            let chunks_ok = if native || (!reencoded && !w["chunks"].is_null()) {
                w["chunks"] == h["chunks"]
            } else if shape.is_empty() {
                h["chunks"].is_null()
            } else {
                let got: Vec<u64> = h["chunks"]
                    .as_array()
                    .map(|c| c.iter().filter_map(Json::as_u64).collect())
                    .unwrap_or_default();
                let whole = got == shape;
                let empty = shape.contains(&0) && got.iter().all(|c| *c == 1);
                let split = got.len() == shape.len()
                    && got.first() < shape.first()
                    && got[1..] == shape[1..];
                whole || empty || (!reencoded && split)
            };
            if !chunks_ok {
                diffs.push(format!(
                    "{path}: chunks: want {} (reencoded: {reencoded}) got {}",
                    w["chunks"], h["chunks"]
                ));
            }
            if (native || !reencoded) && w["filters"] != h["filters"] {
                diffs.push(format!(
                    "{path}: filters: want {} got {}",
                    w["filters"], h["filters"]
                ));
            }
        }
        diff_attrs(path, w, h, &mut diffs);
    }
    diffs
}

/// A node in the form of the generator's expectations (h5py's view):
/// the fields `diff_tree` compares.
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
    // Absent keys, as in the expectations (a contiguous dataset keeps `chunks: null`).
    if let Some(obj) = form.as_object_mut() {
        obj.retain(|k, v| !v.is_null() || (k == "chunks" && ds.is_some()));
    }
    form
}
