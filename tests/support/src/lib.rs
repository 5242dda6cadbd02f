//! Shared by the integration tests of every crate: the fixture files that
//! `tests/fixtures/generate.py` writes with pynwb/h5py/lindi into
//! `target/test-fixtures` (once per generator version, whichever test binary
//! asks first), and reading the expected values h5py reported; an
//! S3-compatible server (moto) for the store tests.
#![expect(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    reason = "test support: failing loudly is the point"
)]

mod s3;

pub use s3::{S3Server, s3_server};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ns_model::{ObjectStore, Selection};
use serde_json::{Value as Json, json};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The Python that writes fixtures: `$NEUROSIFT_PYTHON`, else `target/venv`
/// (made by `cargo xtask test`), else `python3`.
pub fn python() -> PathBuf {
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
        let mut source = std::fs::read(&script).expect("tests/fixtures/generate.py");
        // The modules generate.py imports count too.
        source.extend(std::fs::read(root.join("tests/fixtures/old_formats.py")).unwrap());
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

pub fn read_json(path: &Path) -> Json {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `manifest.json` of the generated fixtures.
pub fn manifest() -> Json {
    read_json(&fixtures().join("manifest.json"))
}

/// Deep equality where numbers compare by value (ints as exact integers,
/// floats within a relative 1e-9, or 1e-6 for float32/float16 sources).
pub fn same(a: &Json, b: &Json, rel: f64) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= rel * x.abs().max(y.abs())
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q, rel))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same(v, w, rel)))
        }
        _ => a == b,
    }
}

/// Compares the `attrs` objects of one expected and one actual entry (values
/// by [`same`]), appending a line per difference to `diffs`.
pub fn diff_attrs(path: &str, want: &Json, have: &Json, diffs: &mut Vec<String>) {
    let (Some(wa), Some(ha)) = (want["attrs"].as_object(), have["attrs"].as_object()) else {
        diffs.push(format!("{path}: attrs missing"));
        return;
    };
    for (name, value) in wa {
        match ha.get(name) {
            None => diffs.push(format!("{path}: attr {name} missing")),
            Some(h) if !same(value, h, 1e-9) => {
                diffs.push(format!("{path}: attr {name}: want {value} got {h}"));
            }
            _ => {}
        }
    }
    for name in ha.keys() {
        if !wa.contains_key(name) {
            diffs.push(format!("{path}: unexpected attr {name}"));
        }
    }
}

/// Reads every `samples` entry of an expected-values file (as h5py or
/// zarr-python reported them) from `file`; returns the differences.
pub fn diff_samples(file: &dyn ObjectStore, expected: &Json) -> Vec<String> {
    let mut diffs = Vec::new();
    for sample in expected["samples"].as_array().unwrap() {
        let path = sample["path"].as_str().unwrap();
        let slice = sample["slice"].as_str();
        let selection: Selection = slice.unwrap_or("").parse().unwrap();
        let array = match file.read(path, &selection) {
            Ok(a) => a,
            Err(e) => {
                diffs.push(format!("{path} [{slice:?}]: {e}"));
                continue;
            }
        };
        let rel = if matches!(sample["dtype"].as_str(), Some("float32" | "float16")) {
            1e-6
        } else {
            1e-9
        };
        if json!(array.shape) != sample["shape"] {
            diffs.push(format!(
                "{path} [{slice:?}]: shape: want {} got {:?}",
                sample["shape"], array.shape
            ));
        }
        if json!(array.dtype.name()) != sample["dtype"] {
            diffs.push(format!(
                "{path} [{slice:?}]: dtype: want {} got {}",
                sample["dtype"], array.dtype
            ));
        }
        let got = array.to_json();
        if !same(&got, &sample["data"], rel) {
            let show = |v: &Json| v.to_string().chars().take(300).collect::<String>();
            diffs.push(format!(
                "{path} [{slice:?}]: data differs\n  want {}\n  got  {}",
                show(&sample["data"]),
                show(&got)
            ));
        }
    }
    diffs
}
