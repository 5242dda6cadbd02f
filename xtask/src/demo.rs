//! `cargo xtask demo`: a sample NWB file, inspected locally and over HTTP.

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

    // The app, serving the same sample file.
    let dist = crate::web::build()?;
    let mut server = Server::start(
        &range_server,
        &[
            "--dir".into(),
            dir.clone().into_os_string(),
            "--app-dir".into(),
            dist.into_os_string(),
        ],
    )?;
    let base = server.base.clone();
    let link = format!(
        "{base}/nwb?url={}",
        ns_links_encode(&format!("{base}/files/nwb_ecephys.nwb"))
    );
    println!("\nThe app, opening the sample file:\n\n    {link}\n\n(Ctrl-C to stop)");
    let _ = Command::new("xdg-open")
        .arg(&link)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    server.child.wait()?;
    Ok(())
}

/// Percent-encodes a query value.
fn ns_links_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
