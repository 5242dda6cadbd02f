//! Fixtures for the integration tests: the files `tests/fixtures/generate.py`
//! writes with pynwb/h5py. They go to `target/test-fixtures`, shared with the
//! CLI tests (same directory, same stamp), and are regenerated only when the
//! generator changes.
#![expect(dead_code, clippy::unwrap_used, reason = "test helpers")]

#[expect(unused_imports, reason = "each test binary uses some")]
pub use ns_test_support::{diff_attrs, fixtures, manifest, read_json, same, workspace_root};

use ns_hdf5::H5File;
use ns_nwb::{NwbFile, NwbOptions};
use serde_json::Value as Json;

/// The HDF5 file `name` of the fixture directory.
pub fn h5(name: &str) -> H5File {
    let path = fixtures().join(name);
    let source = ns_io_native::open(path.to_str().unwrap(), &Default::default()).unwrap();
    H5File::open(source, Default::default()).unwrap()
}

/// The NWB fixture `name`, specs read.
pub fn open(name: &str) -> NwbFile {
    NwbFile::new(Box::new(h5(name))).unwrap()
}

/// The LINDI file `<name>.lindi.json` (written by the generator from the
/// NWB fixture `name`), read as NWB; its chunk references open the HDF5
/// file next to it.
pub fn open_lindi(name: &str) -> NwbFile {
    let path = fixtures().join(format!("{name}.lindi.json"));
    let json = std::fs::read(&path).unwrap();
    let opener = |url: &str| {
        ns_io_native::open(
            url,
            &ns_io_native::OpenOptions {
                prefetch_bytes: 64 * 1024,
                whole_file_bytes: 0,
                ..Default::default()
            },
        )
    };
    let lindi =
        ns_lindi::LindiFile::open(&json, path.to_str().unwrap(), opener, Default::default())
            .unwrap();
    NwbFile::new(Box::new(lindi)).unwrap()
}

/// The NWB fixture `name` with only the built-in type hierarchy.
pub fn open_without_specs(name: &str) -> NwbFile {
    NwbFile::with_options(
        Box::new(h5(name)),
        &NwbOptions {
            read_specs: false,
            ..NwbOptions::default()
        },
    )
    .unwrap()
}

/// The `nwb` block of `<stem>.expected.json`.
pub fn expected(name: &str) -> Json {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let doc: Json = serde_json::from_slice(
        &std::fs::read(fixtures().join(format!("{stem}.expected.json"))).unwrap(),
    )
    .unwrap();
    doc
}

pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}
