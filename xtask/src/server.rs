//! A `range-server` child process (tests/range-server) and its control
//! endpoints, for the benchmark and the demo.

use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bench::http;

pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `127.0.0.1:PORT`
    addr: String,
}

impl Server {
    /// Starts `range-server` with `args` and waits for its address.
    pub fn start(binary: &Path, args: &[OsString]) -> Result<Self> {
        let mut child = Command::new(binary)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let line = child.stdout.take().map(|out| {
            let mut line = String::new();
            let read = BufReader::new(out).read_line(&mut line);
            read.map(|_| line)
        });
        let base = match line {
            Some(Ok(line)) => line
                .trim()
                .strip_prefix("listening on ")
                .map(str::to_string),
            _ => None,
        };
        let Some(base) = base else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("range-server did not print `listening on http://...`");
        };
        let addr = base.trim_start_matches("http://").to_string();
        Ok(Self { child, base, addr })
    }

    pub fn reset(&self) -> Result<()> {
        http(&self.addr, "POST", "/__control/reset").map(|_| ())
    }

    /// (requests, bytes) since the last reset.
    pub fn stats(&self) -> Result<(u64, u64)> {
        let body = http(&self.addr, "GET", "/__control/stats")?;
        let v: Value =
            serde_json::from_str(&body).with_context(|| format!("stats body {body:?}"))?;
        let requests = v["requests"].as_u64().context("stats: no `requests`")?;
        let bytes = v["bytes"].as_u64().context("stats: no `bytes`")?;
        Ok((requests, bytes))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
