//! Fixtures for the integration tests: the files `tests/fixtures/generate.py`
//! writes with pynwb/h5py. They go to `target/test-fixtures`, shared with the
//! CLI tests (same directory, same stamp), and are regenerated only when the
//! generator changes.
#![allow(dead_code, clippy::unwrap_used, reason = "test helpers")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ns_hdf5::H5File;
use ns_nwb::{NwbFile, NwbOptions};
use serde_json::Value as Json;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("NEUROSIFT_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join("target/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// The generated fixture directory (generated once per generator version).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = workspace_root();
        let script = root.join("tests/fixtures/generate.py");
        let source = std::fs::read(&script).expect("tests/fixtures/generate.py");
        let stamp_value = format!("{:x}-{}", fnv(&source), source.len());
        let dir = root.join("target/test-fixtures");
        let stamp = dir.join(".stamp");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(stamp_value.as_str()) {
            return dir;
        }
        // Another test binary may be generating: use a private dir, then rename.
        let tmp = root.join(format!("target/test-fixtures.tmp{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let out = Command::new(python())
            .arg(&script)
            .arg(&tmp)
            .output()
            .expect("run the fixture generator (cargo xtask test sets up Python)");
        assert!(
            out.status.success(),
            "fixture generator failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(tmp.join(".stamp"), &stamp_value).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&tmp, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        dir
    })
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The HDF5 file `name` of the fixture directory.
pub fn h5(name: &str) -> H5File {
    let path = fixtures().join(name);
    let source = ns_io_native::open(path.to_str().unwrap(), &Default::default()).unwrap();
    H5File::open(source, Default::default()).unwrap()
}

/// The NWB fixture `name`, specs read.
pub fn open(name: &str) -> NwbFile {
    NwbFile::new(h5(name)).unwrap()
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
    NwbFile::from_store(Box::new(lindi)).unwrap()
}

/// The NWB fixture `name` with only the built-in type hierarchy.
pub fn open_without_specs(name: &str) -> NwbFile {
    NwbFile::with_options(h5(name), &NwbOptions { read_specs: false }).unwrap()
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
