//! `cargo xtask bench [--quick] [--keep-files] [--runs N]`: the benchmark table.
//!
//! 1. Writes the benchmark files with pynwb/h5py (`tests/bench/make_bench_files.py`) into
//!    `target/bench/<full|quick>/`, unless they are there already from the same script.
//! 2. Serves them with `range-server --latency-ms 50`.
//! 3. Runs each task cold (a new process each time) with the `neurosift` CLI and with
//!    h5py + remfile (`tests/bench/peer_remfile.py`), resetting the server counters before
//!    and reading them after each run; `--runs` times each (default 3), median reported.
//! 4. Prints the table and writes it to `target/bench/results.md`.
//!
//! See `tests/bench/README.md` for what is measured and how.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::root;
use crate::server::Server;

const LATENCY_MS: u64 = 50;
const DEFAULT_RUNS: usize = 3;
const ECEPHYS: &str = "ecephys.nwb";
/// The same recipe laid out differently (see make_bench_files.py).
const SPREAD: &str = "ecephys_spread.nwb";
const MANY: &str = "many.nwb";
const RAW_DATA: &str = "/acquisition/ElectricalSeries/data";
const SPIKE_TIMES: &str = "/units/spike_times";
const SLICE: &str = "0:30000";

const USAGE: &str = "usage: cargo xtask bench [--quick] [--keep-files] [--runs N]

  --quick       small files (900,000 samples, 50 TimeSeries) instead of the full ones
                (9,000,000 samples = 853 MB, 500 TimeSeries)
  --keep-files  keep the generated files in target/bench/<variant>/ for the next run
                (default: delete them at the end; results.md is always kept)
  --runs N      cold runs per task and reader (default 3; the median is reported)";

struct Options {
    quick: bool,
    keep_files: bool,
    runs: usize,
}

fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut opts = Options {
        quick: false,
        keep_files: false,
        runs: DEFAULT_RUNS,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--keep-files" => opts.keep_files = true,
            "--runs" => {
                let n = it.next().context("--runs needs a number")?;
                opts.runs = n.parse().with_context(|| format!("--runs {n:?}"))?;
                if opts.runs == 0 {
                    bail!("--runs must be at least 1");
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("bench: unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    Ok(Some(opts))
}

/// One benchmark task, run by both readers.
struct Task {
    name: &'static str,
    file: &'static str,
    /// Arguments after `neurosift`, with `{url}` replaced.
    ours: &'static [&'static str],
    /// `peer_remfile.py` task and dataset.
    peer: (&'static str, Option<&'static str>),
    /// Project target: seconds and MB.
    target_secs: f64,
    target_mb: Option<f64>,
    /// h5wasm lazy (today's Neurosift engine) from shared/REFERENCE.md: requests, MB, seconds
    /// (none for the layout variants).
    h5wasm: Option<(u64, f64, f64)>,
}

const TASKS: &[Task] = &[
    Task {
        name: "open + list every object (ecephys)",
        file: ECEPHYS,
        ours: &["inspect", "{url}", "--json"],
        peer: ("list", None),
        target_secs: 0.30,
        target_mb: Some(1.2),
        h5wasm: Some((9, 7.70, 0.68)),
    },
    Task {
        name: "read 1 s x 64 channels, cold",
        file: ECEPHYS,
        ours: &["cat", "{url}", RAW_DATA, "--slice", SLICE, "--json"],
        peer: ("slice", Some(RAW_DATA)),
        target_secs: 0.25,
        target_mb: Some(6.0),
        h5wasm: Some((12, 10.85, 1.02)),
    },
    Task {
        name: "all spike times of Units",
        file: ECEPHYS,
        ours: &["cat", "{url}", SPIKE_TIMES, "--json"],
        peer: ("spikes", Some(SPIKE_TIMES)),
        target_secs: 0.25,
        target_mb: None,
        h5wasm: Some((4, 2.46, 0.41)),
    },
    Task {
        name: "open + list every object (many.nwb)",
        file: MANY,
        ours: &["inspect", "{url}", "--json"],
        peer: ("list", None),
        target_secs: 0.45,
        target_mb: None,
        h5wasm: Some((7, 5.80, 0.92)),
    },
    Task {
        name: "open + list every object (ecephys_spread)",
        file: SPREAD,
        ours: &["inspect", "{url}", "--json"],
        peer: ("list", None),
        target_secs: 0.30,
        target_mb: Some(1.2),
        h5wasm: None,
    },
    Task {
        name: "read 1 s x 64 channels, cold (ecephys_spread)",
        file: SPREAD,
        ours: &["cat", "{url}", RAW_DATA, "--slice", SLICE, "--json"],
        peer: ("slice", Some(RAW_DATA)),
        target_secs: 0.25,
        target_mb: Some(6.0),
        h5wasm: None,
    },
    Task {
        name: "all spike times of Units (ecephys_spread)",
        file: SPREAD,
        ours: &["cat", "{url}", SPIKE_TIMES, "--json"],
        peer: ("spikes", Some(SPIKE_TIMES)),
        target_secs: 0.25,
        target_mb: None,
        h5wasm: None,
    },
];

/// One cold run of one reader on one task.
#[derive(Clone, Debug, Default)]
struct Run {
    /// Counted by the server.
    requests: u64,
    bytes: u64,
    /// Ours: the CLI's `seconds=` (process start to exit). Peer: measured inside the script
    /// (remfile.File(url) to file closed).
    secs: f64,
    /// Whole process, including interpreter or binary start (for information).
    process_secs: f64,
    /// Ours only: the CLI's own `requests=` / `bytes=`.
    self_requests: Option<u64>,
    self_bytes: Option<u64>,
    /// What was read (object count or shape), to check both readers did the same work.
    what: String,
}

struct Measured {
    ours: Vec<Run>,
    peer: Vec<Run>,
    /// Ours on the local file (no HTTP): the CLI's `seconds=`, i.e. CPU and output cost.
    local_secs: Vec<f64>,
}

pub fn run(args: &[String]) -> Result<()> {
    let Some(opts) = parse_args(args)? else {
        return Ok(());
    };
    let root = root();
    let variant = if opts.quick { "quick" } else { "full" };
    let bench_dir = root.join("target/bench");
    let dir = bench_dir.join(variant);

    let python = crate::python::ensure()?;
    build_binaries(&root)?;
    let neurosift = root.join("target/release/neurosift");
    let range_server = root.join("target/release/range-server");

    ensure_files(&python, &root, &dir, opts.quick)?;
    let info: Value = read_json(&dir.join("info.json")).unwrap_or(Value::Null);

    let server = Server::start(
        &range_server,
        &[
            "--dir".into(),
            dir.clone().into_os_string(),
            "--latency-ms".into(),
            LATENCY_MS.to_string().into(),
        ],
    )?;
    server.reset()?;
    eprintln!(
        "bench: serving {} at {} with {LATENCY_MS} ms latency",
        dir.display(),
        server.base
    );

    let peer_script = root.join("tests/bench/peer_remfile.py");
    let mut results = Vec::new();
    for task in TASKS {
        let url = format!("{}/files/{}", server.base, task.file);
        let mut measured = Measured {
            ours: Vec::new(),
            peer: Vec::new(),
            local_secs: Vec::new(),
        };
        for i in 0..opts.runs {
            let ours = run_ours(&server, &neurosift, task, &url)
                .with_context(|| format!("neurosift, task {:?}", task.name))?;
            eprintln!("bench: {} run {}: ours {}", task.name, i + 1, brief(&ours));
            measured.ours.push(ours);
            let peer = run_peer(&server, &python, &peer_script, task, &url)
                .with_context(|| format!("h5py+remfile, task {:?}", task.name))?;
            eprintln!(
                "bench: {} run {}: h5py+remfile {}",
                task.name,
                i + 1,
                brief(&peer)
            );
            measured.peer.push(peer);
            let local = run_ours_local(&neurosift, task, &dir.join(task.file))
                .with_context(|| format!("neurosift on the local file, task {:?}", task.name))?;
            eprintln!(
                "bench: {} run {}: ours on the local file {local:.3} s",
                task.name,
                i + 1
            );
            measured.local_secs.push(local);
        }
        results.push(measured);
    }
    drop(server);

    let report = render(variant, &info, opts.runs, &results);
    println!("{report}");
    std::fs::create_dir_all(&bench_dir)?;
    let results_path = bench_dir.join("results.md");
    std::fs::write(&results_path, &report)
        .with_context(|| format!("writing {}", results_path.display()))?;
    let variant_path = bench_dir.join(format!("results-{variant}.md"));
    std::fs::write(&variant_path, &report)
        .with_context(|| format!("writing {}", variant_path.display()))?;
    eprintln!(
        "bench: wrote {} and {}",
        results_path.display(),
        variant_path.display()
    );

    if opts.keep_files {
        eprintln!("bench: kept the files in {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        eprintln!(
            "bench: removed {} (pass --keep-files to reuse it next time)",
            dir.display()
        );
    }
    Ok(())
}

fn brief(run: &Run) -> String {
    format!(
        "{} requests, {:.2} MB, {:.3} s ({})",
        run.requests,
        mb(run.bytes),
        run.secs,
        run.what
    )
}

#[expect(clippy::cast_precision_loss, reason = "display: MB to two decimals")]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn build_binaries(root: &Path) -> Result<()> {
    eprintln!("bench: cargo build --release (neurosift, range-server)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--package",
            "neurosift-cli",
            "--bin",
            "neurosift",
            "--package",
            "range-server",
            "--bin",
            "range-server",
        ])
        // Only inspect/cat are measured: no need to build the app for the binary to embed.
        .env("NEUROSIFT_APP_PLACEHOLDER", "1")
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release failed");
    }
    Ok(())
}

/// 64-bit FNV-1a: a stable fingerprint of the generator script for the stamp.
fn fnv1a64(data: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Generates the files into `dir` unless its stamp says the same script already did.
fn ensure_files(python: &Path, root: &Path, dir: &Path, quick: bool) -> Result<()> {
    let script = root.join("tests/bench/make_bench_files.py");
    let source = std::fs::read(&script).with_context(|| format!("reading {}", script.display()))?;
    let wanted = format!(
        "make_bench_files.py fnv1a64={:016x} quick={quick}\n",
        fnv1a64(&source)
    );
    let stamp = dir.join("stamp");
    let present = [ECEPHYS, SPREAD, MANY, "info.json"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if present && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        eprintln!("bench: reusing {} (generator unchanged)", dir.display());
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    eprintln!(
        "bench: generating the {} files in {} (the full ones take about a minute)",
        if quick { "quick" } else { "full" },
        dir.display()
    );
    let started = Instant::now();
    let mut cmd = Command::new(python);
    cmd.arg(&script).arg(dir);
    if quick {
        cmd.arg("--quick");
    }
    let status = cmd.status().with_context(|| format!("running {cmd:?}"))?;
    if !status.success() {
        bail!("{} failed with {status}", script.display());
    }
    std::fs::write(&stamp, wanted)?;
    eprintln!(
        "bench: generated in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

// ---------------------------------------------------------------------------------------
// The range server and its control endpoints
// ---------------------------------------------------------------------------------------

/// A minimal HTTP/1.1 exchange (Connection: close); returns the body of a 2xx answer.
pub fn http(addr: &str, method: &str, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed HTTP answer")?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        bail!("{method} {path}: HTTP {status}");
    }
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase().starts_with("transfer-encoding:")
            && l.to_ascii_lowercase().contains("chunked")
    });
    Ok(if chunked {
        dechunk(body)?
    } else {
        body.to_string()
    })
}

fn dechunk(mut body: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").context("bad chunked body")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).context("short chunk")?);
        body = rest.get(size + 2..).unwrap_or("");
    }
}

// ---------------------------------------------------------------------------------------
// Running the readers
// ---------------------------------------------------------------------------------------

fn run_ours(server: &Server, neurosift: &Path, task: &Task, url: &str) -> Result<Run> {
    let args: Vec<&str> = task
        .ours
        .iter()
        .map(|a| if *a == "{url}" { url } else { a })
        .collect();
    server.reset()?;
    let started = Instant::now();
    let out = Command::new(neurosift)
        .args(&args)
        .arg("--stats")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", neurosift.display()))?;
    let process_secs = started.elapsed().as_secs_f64();
    let (requests, bytes) = server.stats()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "neurosift {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        );
    }
    let field = |name: &str| stats_field(&stderr, name);
    let secs: f64 = field("seconds")
        .and_then(|v| v.parse().ok())
        .with_context(|| {
            format!("no `stats: ... seconds=` line at the end of stderr: {stderr:?}")
        })?;
    let what = describe_ours(&out.stdout)?;
    Ok(Run {
        requests,
        bytes,
        secs,
        process_secs,
        self_requests: field("requests").and_then(|v| v.parse().ok()),
        self_bytes: field("bytes").and_then(|v| v.parse().ok()),
        what,
    })
}

/// Ours on the local file, no HTTP: the CLI's `seconds=`.
fn run_ours_local(neurosift: &Path, task: &Task, path: &Path) -> Result<f64> {
    let path = path.to_string_lossy();
    let args: Vec<&str> = task
        .ours
        .iter()
        .map(|a| if *a == "{url}" { &*path } else { a })
        .collect();
    let out = Command::new(neurosift)
        .args(&args)
        .arg("--stats")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .with_context(|| format!("running {}", neurosift.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "neurosift {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        );
    }
    stats_field(&stderr, "seconds")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no `stats: ... seconds=` line at the end of stderr: {stderr:?}"))
}

/// `NAME=value` from the `stats:` line that ends stderr.
fn stats_field<'a>(stderr: &'a str, name: &str) -> Option<&'a str> {
    let line = stderr.lines().rev().find(|l| !l.trim().is_empty())?;
    line.strip_prefix("stats:")?
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
}

/// Counts objects (inspect) or reports the shape read (cat).
fn describe_ours(stdout: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(stdout).context("neurosift output is not UTF-8")?;
    let first = text.lines().next().unwrap_or("");
    let v: Value = serde_json::from_str(first).context("neurosift output is not JSON")?;
    if let Some(objects) = v["objects"].as_array() {
        let kind = |k: &str| {
            objects
                .iter()
                .filter(|o| o["kind"].as_str() == Some(k))
                .count()
        };
        let links = objects
            .iter()
            .filter(|o| o["kind"].as_str().is_some_and(|k| k.contains("link")))
            .count();
        let attrs: usize = objects
            .iter()
            .map(|o| o["attrs"].as_object().map_or(0, serde_json::Map::len))
            .sum();
        return Ok(format!(
            "{} objects: {} groups, {} datasets, {links} links, {attrs} attributes",
            objects.len(),
            kind("group"),
            kind("dataset")
        ));
    }
    Ok(format!(
        "shape {} {}",
        v["shape"],
        v["dtype"].as_str().unwrap_or("?")
    ))
}

fn run_peer(server: &Server, python: &Path, script: &Path, task: &Task, url: &str) -> Result<Run> {
    let mut cmd = Command::new(python);
    cmd.arg(script).arg(url).arg(task.peer.0);
    if let Some(dataset) = task.peer.1 {
        cmd.arg(dataset);
    }
    server.reset()?;
    let started = Instant::now();
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    let process_secs = started.elapsed().as_secs_f64();
    let (requests, bytes) = server.stats()?;
    if !out.status.success() {
        bail!(
            "{} failed ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let v: Value = serde_json::from_str(line).with_context(|| format!("peer output {line:?}"))?;
    let secs = v["seconds"]
        .as_f64()
        .context("peer output has no seconds")?;
    let what = if let Some(n) = v["objects"].as_u64() {
        format!(
            "{n} objects: {} datasets, {} links, {} attributes",
            v["datasets"], v["links"], v["attributes"]
        )
    } else {
        format!(
            "shape {} {}",
            v["shape"],
            v["dtype"].as_str().unwrap_or("?")
        )
    };
    Ok(Run {
        requests,
        bytes,
        secs,
        process_secs,
        self_requests: None,
        self_bytes: None,
        what,
    })
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        f64::midpoint(values[n / 2 - 1], values[n / 2])
    }
}

/// Median of each metric separately.
struct Median {
    requests: f64,
    mb: f64,
    secs: f64,
    process_secs: f64,
}

fn median(runs: &[Run]) -> Median {
    Median {
        requests: median_f64(
            runs.iter()
                .map(|r| f64::from(u32::try_from(r.requests).unwrap_or(u32::MAX)))
                .collect(),
        ),
        mb: median_f64(runs.iter().map(|r| mb(r.bytes)).collect()),
        secs: median_f64(runs.iter().map(|r| r.secs).collect()),
        process_secs: median_f64(runs.iter().map(|r| r.process_secs).collect()),
    }
}

fn fmt_requests(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

fn cell(m: &Median) -> String {
    format!("{} / {:.2} / {:.3}", fmt_requests(m.requests), m.mb, m.secs)
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "-".into()
    }
}

fn render(variant: &str, info: &Value, runs: usize, results: &[Measured]) -> String {
    let mut s = String::new();
    let e = &info["ecephys"];
    let sp = &info["ecephys_spread"];
    let m = &info["many"];
    let _ = writeln!(s, "# neurosift benchmark ({variant} files)\n");
    let _ = writeln!(
        s,
        "Variant **{variant}**: ecephys.nwb {:.1} MB ({} samples x {} channels int16, chunks {}, gzip; {} spike times), \
         ecephys_spread.nwb {:.1} MB (the same recipe laid out differently: chunks {}, {} TimeSeries appended after \
         writing, so metadata lies in two places), many.nwb {:.2} MB ({} TimeSeries in {} modules); superblock v{}.",
        e["bytes"].as_u64().map_or(f64::NAN, mb),
        e["samples"],
        e["channels"],
        e["data_chunks"],
        e["spikes"],
        sp["bytes"].as_u64().map_or(f64::NAN, mb),
        sp["data_chunks"],
        sp["extra_series"],
        m["bytes"].as_u64().map_or(f64::NAN, mb),
        m["timeseries"],
        m["modules"],
        e["superblock"],
    );
    let _ = writeln!(
        s,
        "Served by range-server on 127.0.0.1 with {LATENCY_MS} ms per request. Each cell: requests / MB / seconds, \
         median of {runs} cold runs (new process each). Requests and MB (10^6 bytes of response bodies) are counted \
         by the server. Seconds: ours = the CLI's own `seconds=` (process start to exit); h5py+remfile = timed inside \
         the script from `remfile.File(url)` to the file being closed (interpreter start and imports excluded).\n"
    );
    if variant != "full" {
        let _ = writeln!(
            s,
            "**Note:** the project targets are set for the full-size files; `met?` is shown for this {variant} run only as an indication.\n"
        );
    }
    let _ = writeln!(
        s,
        "| task | ours: req / MB / s | h5py+remfile: req / MB / s | ours/peer s | ours/peer MB | project target | met? | h5wasm (reference, not re-measured) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    for (task, r) in TASKS.iter().zip(results) {
        let ours = median(&r.ours);
        let peer = median(&r.peer);
        let mut target = format!("<= {:.2} s", task.target_secs);
        let mut met = ours.secs <= task.target_secs;
        let mut why = Vec::new();
        if !met {
            why.push(format!("s x{:.2}", ours.secs / task.target_secs));
        }
        if let Some(t) = task.target_mb {
            let _ = write!(target, ", <= {t:.1} MB");
            if ours.mb > t {
                met = false;
                why.push(format!("MB x{:.2}", ours.mb / t));
            }
        }
        let met = if met {
            "yes".to_string()
        } else {
            format!("no ({})", why.join(", "))
        };
        let h5wasm = task.h5wasm.map_or_else(
            || "-".to_string(),
            |(hr, hmb, hs)| format!("{hr} / {hmb:.2} / {hs:.2}"),
        );
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {target} | {met} | {h5wasm} |",
            task.name,
            cell(&ours),
            cell(&peer),
            ratio(ours.secs, peer.secs),
            ratio(ours.mb, peer.mb),
        );
    }

    let _ = writeln!(s, "\n## Every run\n");
    let _ = writeln!(
        s,
        "Server-counted requests / MB; seconds as above; `process s` = whole process wall time including start-up; \
         `self` = the CLI's own request / byte count from `--stats`.\n"
    );
    let _ = writeln!(
        s,
        "| task | reader | run | requests | MB | s | process s | self | read |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for (task, r) in TASKS.iter().zip(results) {
        for (reader, runs) in [("ours", &r.ours), ("h5py+remfile", &r.peer)] {
            for (i, run) in runs.iter().enumerate() {
                let own = match (run.self_requests, run.self_bytes) {
                    (Some(q), Some(b)) => format!("{q} / {:.2}", mb(b)),
                    _ => "-".into(),
                };
                let _ = writeln!(
                    s,
                    "| {} | {reader} | {} | {} | {:.2} | {:.3} | {:.3} | {own} | {} |",
                    task.name,
                    i + 1,
                    run.requests,
                    mb(run.bytes),
                    run.secs,
                    run.process_secs,
                    run.what
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\n## Medians for context\n\n`ours, local file` = the same CLI command on the file on disk (no HTTP, stdout to \
         /dev/null): what parsing, decoding and printing the output cost without the network. `process` = whole \
         process wall time over HTTP, start-up included.\n"
    );
    let _ = writeln!(
        s,
        "| task | ours, local file s | ours process s | h5py+remfile process s |"
    );
    let _ = writeln!(s, "|---|---|---|---|");
    for (task, r) in TASKS.iter().zip(results) {
        let _ = writeln!(
            s,
            "| {} | {:.3} | {:.3} | {:.3} |",
            task.name,
            median_f64(r.local_secs.clone()),
            median(&r.ours).process_secs,
            median(&r.peer).process_secs
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert!((median_f64(vec![3.0, 1.0, 2.0]) - 2.0).abs() < 1e-12);
        assert!((median_f64(vec![4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < 1e-12);
    }

    #[test]
    fn chunked() -> Result<()> {
        assert_eq!(
            dechunk("4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")?,
            "Wikipedia"
        );
        Ok(())
    }

    #[test]
    fn fnv() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
