// The sources the web app (target/dist) is built from, and their hash: `cargo xtask web`
// writes it into `target/dist/.neurosift-sources` after trunk succeeds; the `neurosift`
// build script embeds the app only when the hash still matches (so a stale or half-built
// `dist` is never shipped). Shared by `build.rs` (through `include!`) and xtask (`#[path]`):
// std only.

/// The stamp file in the built app's directory.
pub const APP_STAMP: &str = ".neurosift-sources";

/// Crates under `crates/` that the browser build never compiles.
const NATIVE_ONLY: [&str; 3] = ["neurosift-cli", "ns-serve", "ns-io-native"];

/// What the app is built from: `www/`, `vendor/`, the trunk and cargo manifests, lock and config,
/// and each browser-side crate's (those of `crates/` and `figures/`) `Cargo.toml`, `build.rs` and `src/` (files or directories;
/// some may be missing).
pub fn app_source_roots(root: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut roots = vec![
        root.join("www"),
        root.join("vendor"),
        root.join("Trunk.toml"),
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        // The browser build's rustflags.
        root.join(".cargo/config.toml"),
    ];
    let mut crates: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !NATIVE_ONLY.contains(&n))
        })
        .collect();
    crates.sort();
    // Browser-side crates outside `crates/`: the figure types.
    crates.push(root.join("figures"));
    for dir in crates {
        roots.push(dir.join("Cargo.toml"));
        roots.push(dir.join("build.rs"));
        roots.push(dir.join("src"));
    }
    Ok(roots)
}

/// FNV-1a (64 bits) over each source file's path (relative to `root`, `/`-separated), length
/// and bytes, in sorted order; hex. Symbolic links are not followed.
pub fn app_sources_hash(root: &std::path::Path) -> std::io::Result<String> {
    let mut files = Vec::new();
    for start in app_source_roots(root)? {
        collect_files(&start, &mut files)?;
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for file in &files {
        let rel = file.strip_prefix(root).unwrap_or(file);
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let bytes = std::fs::read(file)?;
        feed(rel.join("/").as_bytes());
        feed(&[0]);
        feed(&(bytes.len() as u64).to_le_bytes());
        feed(&bytes);
    }
    Ok(format!("{hash:016x}-{}", files.len()))
}

fn collect_files(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.is_file() {
        out.push(path.to_path_buf());
    } else if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            collect_files(&entry?.path(), out)?;
        }
    }
    Ok(())
}
