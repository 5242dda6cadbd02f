//! The web build (trunk) and the browser tests (playwright-core driving
//! Debian's Chromium).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::root;

/// `tests/browser/node_modules`, installed from its lock file when missing.
pub fn ensure_node_modules() -> Result<PathBuf> {
    let dir = root().join("tests/browser");
    let modules = dir.join("node_modules");
    let lock = std::fs::read(dir.join("package-lock.json")).unwrap_or_default();
    let stamp = modules.join(".installed-lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        eprintln!("xtask: npm ci in tests/browser (playwright-core, binaryen)");
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))?;
        std::fs::write(&stamp, &lock)?;
    }
    Ok(modules)
}

/// Builds the app into `target/dist` with trunk (release).
pub fn build() -> Result<PathBuf> {
    let modules = ensure_node_modules()?;
    let path = format!(
        "{}:{}",
        modules.join(".bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run(Command::new("trunk")
        .args(["build", "--release"])
        .current_dir(root())
        .env("PATH", path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true"))
    .context("trunk build (is trunk 0.21.14 installed? see .ci/run)")?;
    Ok(root().join("target/dist"))
}

/// The wasm-bindgen tests (protocol in a dedicated worker, links in a page),
/// in headless Chromium through chromedriver.
pub fn wasm_tests() -> Result<()> {
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    run(Command::new(env!("CARGO"))
        .args([
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "ns-protocol",
            "-p",
            "ns-links",
        ])
        .current_dir(root())
        .env("CHROMEDRIVER", chromedriver))
    .context("wasm-bindgen tests (needs chromium-driver and wasm-bindgen-cli; see .ci/run)")
}

/// Runs the browser tests against the built app.
pub fn test(dist: &Path, fixtures: &Path) -> Result<()> {
    run(Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", "range-server"])
        .current_dir(root()))?;
    let dir = root().join("tests/browser");
    run(Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "app.test.mjs",
            "views.test.mjs",
            "units.test.mjs",
        ])
        .current_dir(&dir)
        .env("NEUROSIFT_DIST", dist)
        .env("NEUROSIFT_FIXTURES", fixtures)
        .env("NEUROSIFT_PYTHON", crate::python::ensure()?)
        .env(
            "NEUROSIFT_RANGE_SERVER",
            root().join("target/debug/range-server"),
        )
        .env("NEUROSIFT_SCREENSHOTS", root().join("target/screenshots")))
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}
