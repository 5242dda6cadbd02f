#![expect(clippy::unwrap_used, reason = "tests")]
//! Stores that are not what they claim: each is a clear error (or reads
//! only inside the store), never a panic, a huge allocation or a file
//! outside the store.

use std::sync::Arc;

use ns_io::{Bytes, MemoryKeys};
use ns_model::Selection;
use ns_zarr::{Error, ZarrFile};
use serde_json::json;

fn store(values: &[(&str, serde_json::Value)]) -> ns_zarr::Result<ZarrFile> {
    let keys = MemoryKeys::new(
        values
            .iter()
            .map(|(k, v)| (k.to_string(), Bytes::from(v.to_string()))),
        "mem",
    );
    ZarrFile::open(Arc::new(keys), Default::default())
}

fn consolidated(metadata: serde_json::Value) -> ns_zarr::Result<ZarrFile> {
    store(&[(
        ".zmetadata",
        json!({"metadata": metadata, "zarr_consolidated_format": 1}),
    )])
}

#[test]
fn not_zarr_stores_say_why() {
    let err = |r: ns_zarr::Result<ZarrFile>| match r {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened"),
    };
    assert!(err(store(&[])).contains("no .zgroup, .zarray or .zmetadata"));
    assert!(err(store(&[("zarr.json", json!({}))])).contains("Zarr v3"));
    assert!(err(store(&[(".zmetadata", json!([1]))])).contains("bad .zmetadata"));
    assert!(err(consolidated(json!({".zattrs": {}}))).contains("no .zgroup at its root"));
    let array_root =
        consolidated(json!({".zarray": {"shape": [1], "chunks": [1], "dtype": "<i2"}}));
    assert!(matches!(array_root, Err(Error::NotZarr { .. })));
    let bad_attrs = consolidated(json!({".zgroup": {}, "a/.zgroup": {}, "a/.zattrs": [1]}));
    assert!(err(bad_attrs).contains("/a/.zattrs"));
    let bad_array = consolidated(
        json!({".zgroup": {}, "x/.zarray": {"shape": [2], "chunks": [0], "dtype": "<i2"}}),
    );
    assert!(err(bad_array).contains("zero chunk size"));
}

#[test]
fn hostile_links_and_sizes() {
    // Link names that are not names; links in a cycle.
    for name in ["..", ".", "", "a/b"] {
        let r = consolidated(
            json!({".zgroup": {}, ".zattrs": {"zarr_link": [{"name": name, "source": ".", "path": "/x"}]}}),
        );
        assert!(matches!(r, Err(Error::Format { .. })), "{name:?}");
    }
    let file = consolidated(json!({".zgroup": {}, ".zattrs": {"zarr_link": [
        {"name": "a", "source": ".", "path": "/b"},
        {"name": "b", "source": ".", "path": "/a"},
        {"name": "e", "source": "other.zarr", "path": "/x"}
    ]}}))
    .unwrap();
    assert!(matches!(
        file.read("/a", &Selection::all()),
        Err(Error::Format { .. })
    ));
    let e = file.read("/e", &Selection::all()).unwrap_err();
    assert!(e.to_string().contains("other.zarr"), "{e}");
    // A shape of 2^62 elements describes fine; reading it whole is refused
    // before anything is allocated; a slice reads the fill value.
    let file = consolidated(json!({".zgroup": {}, "x/.zarray": {
        "shape": [1u64 << 62], "chunks": [1000], "dtype": "<f8", "fill_value": 1.5,
        "compressor": null, "filters": null
    }}))
    .unwrap();
    let e = file.read("/x", &Selection::all()).unwrap_err();
    assert!(matches!(e, Error::Selection { .. }), "{e}");
    let a = file.read("/x", &"5:7".parse().unwrap()).unwrap();
    assert_eq!(a.to_json(), json!([1.5, 1.5]));
}

#[test]
fn a_store_cannot_name_files_outside_itself() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s.zarr");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(dir.path().join("0"), [1u8, 0]).unwrap();
    std::fs::write(
        root.join(".zmetadata"),
        json!({"metadata": {".zgroup": {}, "../x/.zarray": {"shape": [1], "chunks": [1], "dtype": "<i2"}}})
            .to_string(),
    )
    .unwrap();
    let keys = ns_io_native::DirKeys::open(&root, Arc::default()).unwrap();
    let opened = ZarrFile::open(Arc::new(keys), Default::default());
    // Refused when the 1-element array is prefetched: its key leaves the store.
    let Err(e) = opened else {
        panic!("opened a store naming ../x");
    };
    assert!(
        e.to_string()
            .contains("not a relative path inside the store"),
        "{e}"
    );
}
