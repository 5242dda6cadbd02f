//! Embeds the built web app (`target/dist`, or `$NEUROSIFT_DIST`) in the `neurosift` binary,
//! each file gzip-compressed (`OUT_DIR/app_files.rs`, included by `src/app.rs`).
//!
//! The app is embedded only when it is current: `cargo xtask web` writes the hash of the app's
//! sources into `target/dist/.neurosift-sources`, and it must equal the sources' hash now
//! (`app_sources.rs`). A `$NEUROSIFT_DIST` given explicitly is taken as it is.
//!
//! Missing or stale app: a release build (`cargo install`, `cargo build --release`) fails,
//! saying to run `cargo xtask web` (or `cargo xtask install`); a debug build (`cargo test`,
//! clippy: CI runs them before trunk) embeds a placeholder page instead, with a cargo warning.
//! `NEUROSIFT_APP_PLACEHOLDER=1` allows the placeholder in a release build too (benchmarks
//! that use only `inspect`/`cat`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

include!("app_sources.rs");

const PLACEHOLDER: &str = "<!doctype html>
<html><head><meta charset=\"utf-8\"><title>Neurosift: app not built</title></head>
<body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">
<h1>The app is not built into this neurosift binary</h1>
<p>This is a development build made before the web app was built. Build the app and then
this binary again:</p>
<pre>cargo xtask web\ncargo build -p neurosift-cli</pre>
<p>(<code>cargo xtask install</code> does both and installs <code>neurosift</code>.) The
file itself is served as usual.</p>
</body></html>
";

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let root = manifest
        .parent()
        .and_then(Path::parent)
        .ok_or("CARGO_MANIFEST_DIR has no workspace root above it")?
        .to_path_buf();
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    println!("cargo::rerun-if-changed=app_sources.rs");
    println!("cargo::rerun-if-env-changed=NEUROSIFT_DIST");
    println!("cargo::rerun-if-env-changed=NEUROSIFT_APP_PLACEHOLDER");
    let explicit = std::env::var_os("NEUROSIFT_DIST").map(PathBuf::from);
    let dist = explicit.clone().unwrap_or_else(|| root.join("target/dist"));
    // A missing directory makes cargo rerun this script on every build, which is what lets
    // a later `cargo xtask web` be noticed.
    println!("cargo::rerun-if-changed={}", dist.display());
    let problem = if !dist.join("index.html").is_file() {
        Some(format!(
            "the web app is not built ({} has no index.html)",
            dist.display()
        ))
    } else if explicit.is_some() {
        None
    } else {
        let roots = app_source_roots(&root).map_err(|e| format!("listing the app sources: {e}"))?;
        for source in roots {
            println!("cargo::rerun-if-changed={}", source.display());
        }
        let now = app_sources_hash(&root).map_err(|e| format!("hashing the app sources: {e}"))?;
        match std::fs::read_to_string(dist.join(APP_STAMP)) {
            Ok(built) if built.trim() == now => None,
            Ok(_) => Some(format!(
                "the web app in {} is stale (its sources changed since it was built)",
                dist.display()
            )),
            Err(_) => Some(format!(
                "the web app in {} was not built by `cargo xtask web` (no {APP_STAMP} stamp)",
                dist.display()
            )),
        }
    };
    let (files, embedded) = match problem {
        None => (read_dist(&dist)?, true),
        Some(problem) => {
            let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
            let allowed = std::env::var("NEUROSIFT_APP_PLACEHOLDER").is_ok_and(|v| v == "1");
            if release && !allowed {
                return Err(format!(
                    "{problem}: the neurosift binary embeds it. Run `cargo xtask web` first \
                     (trunk; see README.md), or `cargo xtask install` to build both and install."
                ));
            }
            println!(
                "cargo::warning={problem}: this neurosift build serves a placeholder page \
                 instead of the app (run `cargo xtask web`, then build again)"
            );
            let page = DistFile {
                name: "index.html".to_string(),
                bytes: PLACEHOLDER.as_bytes().to_vec(),
                gzip: None,
            };
            (vec![page], false)
        }
    };
    write_embedded(&out_dir, &files, embedded)
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// A file of the app: its `/`-separated path, its bytes, and its gzip form
/// when `cargo xtask web` made one (`<file>.gz`, Zopfli).
struct DistFile {
    name: String,
    bytes: Vec<u8>,
    gzip: Option<Vec<u8>>,
}

/// Every file below `dist` but the stamp and the `.gz` forms, each with its
/// `.gz` form if that decompresses to the file's very bytes (else it is
/// compressed again here, with a warning).
fn read_dist(dist: &Path) -> Result<Vec<DistFile>, String> {
    let mut paths = Vec::new();
    collect_files(dist, &mut paths).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let rel = path.strip_prefix(dist).map_err(|e| e.to_string())?;
        let name: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let name = name.join("/");
        if name == APP_STAMP {
            continue;
        }
        if name.ends_with(".gz") && path.with_extension("").is_file() {
            continue;
        }
        let mut gz_path = path.clone().into_os_string();
        gz_path.push(".gz");
        let bytes = std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let gzip = std::fs::read(&gz_path).ok().filter(|gz| {
            let mut decoded = Vec::with_capacity(bytes.len());
            let same = std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(gz.as_slice()),
                &mut decoded,
            )
            .is_ok()
                && decoded == bytes;
            if !same {
                println!(
                    "cargo::warning={} does not decompress to {name}: compressing it again",
                    Path::new(&gz_path).display()
                );
            }
            same
        });
        files.push(DistFile { name, bytes, gzip });
    }
    Ok(files)
}

/// `OUT_DIR/app/N.gz` for each file, and `OUT_DIR/app_files.rs`: `EMBEDDED` and `FILES`.
fn write_embedded(out_dir: &Path, files: &[DistFile], embedded: bool) -> Result<(), String> {
    let dir = out_dir.join("app");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut code = format!(
        "/// Whether the real app is embedded (else a placeholder page).\npub const EMBEDDED: bool = {embedded};\n\
         /// The app's files.\npub static FILES: &[EmbeddedFile] = &[\n"
    );
    for (i, DistFile { name, bytes, gzip }) in files.iter().enumerate() {
        let gz = dir.join(format!("{i}.gz"));
        let compressed = match gzip {
            Some(gzip) => Ok(gzip.clone()),
            None => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                encoder.write_all(bytes).and_then(|()| encoder.finish())
            }
        };
        compressed
            .and_then(|compressed| std::fs::write(&gz, compressed))
            .map_err(|e| format!("compressing {name} into {}: {e}", gz.display()))?;
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        let _ = writeln!(
            code,
            "    EmbeddedFile {{ path: {name:?}, length: {}, etag: \"{hash:016x}\", gzip: include_bytes!({:?}) }},",
            bytes.len(),
            gz.display().to_string()
        );
    }
    code.push_str("];\n");
    let path = out_dir.join("app_files.rs");
    std::fs::write(&path, code).map_err(|e| format!("writing {}: {e}", path.display()))
}
