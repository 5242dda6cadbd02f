//! Helpers shared by the service's tests: open a fixture as a `Service`,
//! send a typed request, run numpy/h5py on a fixture.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::process::Command;

use ns_protocol::{Answer, Reply, Request, WorkerError};
use ns_service::{Limits, ReadOptions, Service, open_store};
use ns_test_support::{fixtures, python};
use serde_json::Value as Json;

/// The fixture `name` (LINDI references resolved next to it).
pub fn service(name: &str, limits: Limits) -> Service {
    let path = fixtures().join(name);
    let source =
        ns_io_native::open(path.to_str().expect("utf-8 path"), &Default::default()).expect("opens");
    let refs_dir = fixtures().to_path_buf();
    let opener = move |url: &str| {
        let p = refs_dir.join(url);
        ns_io_native::open(p.to_str().unwrap_or(url), &Default::default())
    };
    let store = open_store(source, opener, ReadOptions::default()).expect("a store");
    Service::new(store, limits).expect("a service")
}

/// Sends one typed request through `handle` and takes its typed reply.
pub fn ask<R: Request>(s: &Service, request: R) -> Result<R::Reply, WorkerError> {
    let answer: Answer = s.handle(request.into())?;
    Ok(R::Reply::from_answer(answer).expect("the reply of the request's type"))
}

/// Runs Python on fixture `name` (opened as `f` with h5py; numpy as `np`)
/// after `prelude`, and parses the JSON it prints.
pub fn python_json(name: &str, prelude: &str, script: &str) -> Json {
    let path = fixtures().join(name);
    let out = Command::new(python())
        .arg("-c")
        .arg(format!(
            "import json, h5py, numpy as np\nf = h5py.File({:?}, 'r')\n{prelude}\n{script}",
            path.to_str().expect("utf-8 path")
        ))
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// h5py/numpy on fixture `name`.
pub fn h5py(name: &str, script: &str) -> Json {
    python_json(name, "", script)
}

/// A JSON array of numbers (`null` and strings as NaN).
pub fn floats(j: &Json) -> Vec<f64> {
    j.as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// Equal within `rel` (relative) of the larger magnitude.
pub fn close(a: &[f64], b: &[f64], rel: f64) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x - y).abs() <= rel * x.abs().max(y.abs()).max(1e-30))
}
