//! `cargo xtask test` runs every test (setting up the Python fixture
//! environment first); `cargo xtask bench` prints the benchmark table.

mod bench;
mod demo;
mod fuzz;
mod layers;
mod python;
mod server;
mod web;

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("demo") => demo::run(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("web") => web::build().map(drop),
        Some("install") => install(&args[1..]),
        Some("store-load") => store_load(&args[1..]),
        Some("wasm-test") => web::wasm_tests(),
        Some("python") => {
            let python = python::ensure()?;
            println!("{}", python.display());
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  demo          build the app, write a sample NWB file, inspect it, open it with neurosift view-nwb\n  web           build the app into target/dist (trunk)\n  install [ARGS]  build the app, then cargo install --path crates/neurosift-cli --locked [ARGS]\n  test [ARGS]   set up the fixture Python env, then cargo test --workspace [ARGS]\n  bench [--quick]  generate benchmark files, serve them with 50 ms latency, print the table\n  fuzz [--secs N] [TARGET...]  run the cargo-fuzz targets of fuzz/ N s each (default 20)\n  wasm-test     the wasm-bindgen tests in headless Chromium (with a store server)\n  store-load [--uploads N] [--reads N] [--size B] [--concurrency C] [--secs S]  load run of the store server (loopback), prints a table\n  python        set up the fixture Python env and print its interpreter path"
            );
            bail!("no command given")
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// `cargo xtask install`: the app (trunk), then `neurosift` with it embedded, installed by
/// `cargo install` (extra arguments go to it, e.g. `--root DIR`).
fn install(extra: &[String]) -> Result<()> {
    web::build()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["install", "--path", "crates/neurosift-cli", "--locked"])
        .args(extra)
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("cargo install --path crates/neurosift-cli failed");
    }
    Ok(())
}

/// The crates the browser runs, linted for its target too.
const WASM_CRATES: [&str; 8] = [
    "ns-web",
    "ns-app",
    "ns-worker",
    "ns-protocol",
    "ns-links",
    "ns-io",
    "ns-store-uri",
    "ns-store-client",
];

/// A bounded load run of the store server on 127.0.0.1 (release build): uploads/s, reads/s,
/// p50/p99 latency. A measurement that prints a table, not a test.
fn store_load(extra: &[String]) -> Result<()> {
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "kachery",
            "--example",
            "store_load",
            "--",
        ])
        .args(extra)
        .status()
        .context("running the store load example")?;
    if !status.success() {
        bail!("store load run failed");
    }
    Ok(())
}

/// `cargo fmt --check` and clippy with warnings as errors, natively and
/// for `wasm32-unknown-unknown`.
fn lint() -> Result<()> {
    let cargo = |args: &[&str]| -> Result<()> {
        let status = Command::new(env!("CARGO"))
            .current_dir(root())
            .args(args)
            .status()
            .with_context(|| format!("running cargo {}", args.join(" ")))?;
        if !status.success() {
            bail!("cargo {} failed", args.join(" "));
        }
        Ok(())
    };
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    let mut wasm = vec![
        "clippy",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
    ];
    for krate in WASM_CRATES {
        wasm.extend(["-p", krate]);
    }
    wasm.extend(["--", "-D", "warnings"]);
    cargo(&wasm)
}

/// Every test: lints (fmt, clippy natively and for wasm32), the Rust
/// workspace (fixtures written by pynwb/h5py during the run), then the app
/// built by trunk and driven in Chromium, then every fuzz target briefly.
/// `--no-browser` skips the browser part.
fn test(extra: &[String]) -> Result<()> {
    let browser = !extra.iter().any(|a| a == "--no-browser");
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--no-browser").collect();
    lint()?;
    let python = python::ensure()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["test", "--workspace"])
        .args(extra)
        .env("NEUROSIFT_PYTHON", &python)
        .status()
        .context("running cargo test")?;
    if !status.success() {
        bail!("cargo test failed");
    }
    if browser {
        web::wasm_tests()?;
        let dist = web::build()?;
        // The Rust tests above generated the fixtures here.
        web::test(&dist, &root().join("target/test-fixtures"))?;
    }
    // Every fuzz target briefly, where cargo-fuzz and nightly are installed.
    if fuzz::available() {
        fuzz::run(&["--secs".into(), "20".into()])?;
    } else {
        println!("xtask: fuzzing skipped (needs cargo-fuzz and a nightly toolchain)");
    }
    Ok(())
}
