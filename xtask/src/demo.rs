//! `cargo xtask demo`: the app built and embedded in `neurosift`, a sample NWB file written by
//! pynwb, inspected locally and over HTTP, then opened in the app by `neurosift view-nwb`.

use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::server::Server;
use crate::{python, root};

pub fn run() -> Result<()> {
    let root = root();
    let python = python::ensure()?;
    let dir = root.join("target/demo");
    if !dir.join("nwb_ecephys.nwb").exists() {
        eprintln!(
            "demo: writing sample files with pynwb into {}",
            dir.display()
        );
        let status = Command::new(&python)
            .arg(root.join("tests/fixtures/generate.py"))
            .arg(&dir)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("fixture generator failed");
        }
    }
    // The app first: the release build of `neurosift` embeds it.
    crate::web::build()?;
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--quiet",
            "--bin",
            "neurosift",
            "--bin",
            "range-server",
        ])
        .status()?;
    if !status.success() {
        bail!("build failed");
    }
    let neurosift = root.join("target/release/neurosift");
    let file = dir.join("nwb_ecephys.nwb");
    println!("\n$ neurosift inspect {}\n", file.display());
    Command::new(&neurosift)
        .arg("inspect")
        .arg(&file)
        .status()?;

    let range_server = root.join("target/release/range-server");
    let server = Server::start(
        &range_server,
        &[
            "--dir".into(),
            dir.clone().into_os_string(),
            "--latency-ms".into(),
            "50".into(),
        ],
    )?;
    let base = server.base.clone();
    let url = format!("{base}/files/nwb_ecephys.nwb");
    println!(
        "\nThe same file over HTTP, 50 ms per request:\n\n$ neurosift inspect {url} --stats | tail -3\n"
    );
    let out = Command::new(&neurosift)
        .args(["inspect", &url, "--stats"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines[lines.len().saturating_sub(3)..] {
        println!("{l}");
    }
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    println!("\n$ neurosift cat {url} /units/spike_times --slice 0:10 --stats\n");
    Command::new(&neurosift)
        .args([
            "cat",
            &url,
            "/units/spike_times",
            "--slice",
            "0:10",
            "--stats",
        ])
        .status()?;
    drop(server);

    // The app, opening the same sample file.
    println!("\n$ neurosift view-nwb {}\n", file.display());
    let status = Command::new(&neurosift)
        .arg("view-nwb")
        .arg(&file)
        .status()?;
    if !status.success() {
        bail!("neurosift view-nwb failed");
    }
    Ok(())
}
