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

#[path = "../../crates/neurosift-cli/app_sources.rs"]
mod app_sources;

/// Builds the app into `target/dist` with trunk (release), then writes the hash of its
/// sources into `target/dist/.neurosift-sources`: the `neurosift` build embeds the app only
/// when that stamp matches its sources. (Hashed after the build, since cargo may have updated
/// `Cargo.lock`; a change during the build is reported.)
pub fn build() -> Result<PathBuf> {
    let before = app_sources::app_sources_hash(&root()).context("hashing the app sources")?;
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
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        // The app saves and uses overviews only of its own build (`meta_cache.rs`).
        .env("NEUROSIFT_BUILD", &before))
    .context("trunk build (is trunk 0.21.14 installed? see .ci/run)")?;
    let sources = app_sources::app_sources_hash(&root()).context("hashing the app sources")?;
    if sources != before {
        eprintln!(
            "xtask: the app sources changed during the build (Cargo.lock updated?); if you edited them, run `cargo xtask web` again"
        );
    }
    let dist = root().join("target/dist");
    let stamp = dist.join(app_sources::APP_STAMP);
    compress_dist(&dist)?;
    std::fs::write(&stamp, sources).with_context(|| format!("writing {}", stamp.display()))?;
    println!("{}", bundle_report(&dist)?);
    Ok(dist)
}

/// Writes `<file>.gz` beside each file of the built app, compressed with
/// Zopfli: still gzip (every browser reads it), about 4 % smaller than
/// zlib's best, and slow to make, so made once here. The `neurosift` build
/// embeds these (after checking that each decompresses to its file); a
/// static host can serve them as they are (nginx `gzip_static`).
fn compress_dist(dist: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let files = dist_files(dist)?;
    // One thread per file: the wasm alone takes most of the time.
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let threads: Vec<_> = files
            .iter()
            .map(|(path, _)| s.spawn(move || zopfli_file(path)))
            .collect();
        threads
            .into_iter()
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a compression thread panicked")))
            })
            .collect()
    });
    for result in results {
        result?;
    }
    eprintln!(
        "xtask: {} files gzipped with zopfli in {:.1} s",
        files.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn zopfli_file(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut gz = Vec::new();
    // 5 iterations instead of 15: within 0.1 % of the size, in a third of the time.
    let options = zopfli::Options {
        iteration_count: std::num::NonZeroU64::new(5).unwrap_or(std::num::NonZeroU64::MIN),
        ..zopfli::Options::default()
    };
    zopfli::compress(options, zopfli::Format::Gzip, bytes.as_slice(), &mut gz)
        .with_context(|| format!("compressing {}", path.display()))?;
    let out = gz_path(path);
    std::fs::write(&out, gz).with_context(|| format!("writing {}", out.display()))
}

/// The built app's files (path, name), without the stamp and the `.gz` forms.
fn dist_files(dist: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dist).with_context(|| format!("listing {}", dist.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_file() && !name.starts_with('.') && !name.ends_with(".gz") {
            files.push((path, name));
        }
    }
    Ok(files)
}

/// `<file>.gz` beside `path`.
fn gz_path(path: &Path) -> PathBuf {
    let mut gz = path.as_os_str().to_owned();
    gz.push(".gz");
    PathBuf::from(gz)
}

/// What the browser downloads to run the app and its worker (the `.wasm`
/// and `.js` files of `dist`): one line with the total and each file,
/// gzip-compressed as `neurosift` embeds and serves them.
fn bundle_report(dist: &Path) -> Result<String> {
    use std::io::Write as _;
    let mut files = Vec::new();
    for (path, name) in dist_files(dist)? {
        if !(name.ends_with(".wasm") || name.ends_with(".js")) {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let gz = match std::fs::metadata(gz_path(&path)) {
            Ok(meta) => usize::try_from(meta.len())?,
            Err(_) => {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&bytes)?;
                gz.finish()?.len()
            }
        };
        files.push((name, bytes.len(), gz));
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let total: usize = files.iter().map(|f| f.2).sum();
    let kib = |n: usize| format!("{} KiB", n.div_ceil(1024));
    let parts: Vec<String> = files
        .iter()
        .map(|(name, raw, gz)| format!("{name} {} ({} raw)", kib(*gz), kib(*raw)))
        .collect();
    Ok(format!(
        "xtask: app + worker bundle {} gzipped: {}",
        kib(total),
        parts.join(", ")
    ))
}

/// The wasm-bindgen tests (protocol in a dedicated worker, links and the store
/// client in a page), in headless Chromium through chromedriver. The store
/// client's test talks to a `neurosift store-server` started here on 127.0.0.1
/// (its URL and token are baked in at build time).
pub fn wasm_tests() -> Result<()> {
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let server = StoreServer::start()?;
    run(Command::new(env!("CARGO"))
        .args([
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "ns-protocol",
            "-p",
            "ns-links",
            "-p",
            "ns-store-client",
        ])
        .current_dir(root())
        .env("CHROMEDRIVER", chromedriver)
        .env("NS_STORE_TEST_URL", &server.url)
        .env("NS_STORE_TEST_TOKEN", StoreServer::TOKEN))
    .context("wasm-bindgen tests (needs chromium-driver and wasm-bindgen-cli; see .ci/run)")
}

/// `neurosift store-server` over a fresh directory on a free port; stopped on drop.
struct StoreServer {
    child: std::process::Child,
    url: String,
    dir: PathBuf,
}

impl StoreServer {
    const TOKEN: &str = "wasm-test-token-0123456789";

    fn start() -> Result<StoreServer> {
        use std::io::{BufRead, BufReader};
        run(Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "neurosift-cli",
                "--bin",
                "neurosift",
            ])
            .current_dir(root()))?;
        let dir = root().join(format!("target/wasm-test-store-{}", std::process::id()));
        let mut child = Command::new(root().join("target/debug/neurosift"))
            .arg("store-server")
            .arg("--store")
            .arg(&dir)
            .args(["--bind", "127.0.0.1:0", "--token", Self::TOKEN])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("starting neurosift store-server")?;
        let stderr = child.stderr.take().context("store-server stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                bail!("store-server exited before serving");
            };
            if let Some(at) = line.find("on http://") {
                let url = line[at + 3..].split_whitespace().next().unwrap_or_default();
                break url.to_string();
            }
        };
        // Its request log, passed on.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("store-server: {line}");
            }
        });
        Ok(StoreServer { child, url, dir })
    }
}

impl Drop for StoreServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs the browser tests against the built app (and `neurosift view-nwb`, built now so
/// that it embeds that app).
pub fn test(dist: &Path, fixtures: &Path) -> Result<()> {
    run(Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "range-server",
            "-p",
            "neurosift-cli",
        ])
        .current_dir(root()))?;
    let dir = root().join("tests/browser");
    run(Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "app.test.mjs",
            "views.test.mjs",
            "images.test.mjs",
            "units.test.mjs",
            "open.test.mjs",
            "launch.test.mjs",
            "share.test.mjs",
        ])
        .current_dir(&dir)
        .env("NEUROSIFT_DIST", dist)
        .env("NEUROSIFT_FIXTURES", fixtures)
        .env("NEUROSIFT_PYTHON", crate::python::ensure()?)
        .env("NEUROSIFT_BIN", root().join("target/debug/neurosift"))
        .env(
            "NEUROSIFT_PLUGIN_DIR",
            root().join("figures/example-plugin"),
        )
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
