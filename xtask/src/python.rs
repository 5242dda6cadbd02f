//! The Python environment that writes test fixtures (pynwb, h5py), runs the
//! peer measurements (remfile) and the S3-compatible server of the store tests
//! (moto): `target/venv`, made once and remade when
//! `tests/fixtures/requirements.txt` changes.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::root;

/// Returns the venv's interpreter, creating or updating the venv if needed.
pub fn ensure() -> Result<PathBuf> {
    let root = root();
    let venv = root.join("target/venv");
    let python = venv.join("bin/python");
    let requirements = root.join("tests/fixtures/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let stamp = venv.join("requirements.installed");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(python);
    }
    eprintln!(
        "xtask: setting up {} (pynwb, h5py, remfile, moto)",
        venv.display()
    );
    let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(&base).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}
