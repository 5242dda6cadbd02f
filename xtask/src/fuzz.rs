//! `cargo xtask fuzz [--secs N] [TARGET...]`: the cargo-fuzz targets of
//! `fuzz/`, each run for N seconds (default 20) from its seed corpus, one
//! after the other; any crash fails the command and leaves its input in
//! `fuzz/artifacts/<target>/`. See `fuzz/README.md`.
//!
//! Seeds: the small committed ones in `fuzz/seeds/<target>/`, plus seeds
//! made here from the test fixtures (small HDF5 and LINDI files, and the
//! `.zarray`s, chunks and Blosc buffers inside the LINDI documents) into
//! `fuzz/corpus/<target>/`, which also keeps what the fuzzer finds.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value as Json;

use crate::root;

/// Every target, in the order they run.
pub const TARGETS: [&str; 9] = [
    "hdf5",
    "lindi_json",
    "lindi_tar",
    "blosc",
    "hdf5_filters",
    "zarr_chunk",
    "zarr_store",
    "pages",
    "http_range",
];

/// Fixture files larger than this are not seeds (fuzzing slows with size).
const MAX_SEED_BYTES: u64 = 256 << 10;

/// libFuzzer's memory limit: a larger allocation is reported as a crash.
const RSS_LIMIT_MB: u32 = 2048;

/// Whether `cargo +nightly fuzz` works here.
pub fn available() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `cargo xtask fuzz [--secs N] [TARGET...]`.
pub fn run(args: &[String]) -> Result<()> {
    let mut secs = 20u64;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--secs" => {
                secs = it
                    .next()
                    .context("--secs needs a number of seconds")?
                    .parse()
                    .context("--secs needs a number of seconds")?;
            }
            name if TARGETS.contains(&name) => targets.push(name.to_string()),
            other => bail!("unknown fuzz target or option {other:?}; targets: {TARGETS:?}"),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(ToString::to_string).collect();
    }
    if !available() {
        bail!(
            "cargo-fuzz with a nightly toolchain is needed: `cargo install cargo-fuzz` (nightly through rustup)"
        );
    }
    seed()?;
    let fuzz_dir = root().join("fuzz");
    let status = Command::new("cargo")
        .current_dir(&fuzz_dir)
        .args(["+nightly", "fuzz", "build"])
        .status()
        .context("running cargo +nightly fuzz build")?;
    if !status.success() {
        bail!("cargo fuzz build failed");
    }
    let mut failed = Vec::new();
    for target in &targets {
        println!("xtask: fuzzing {target} for {secs} s");
        let status = Command::new("cargo")
            .current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "run", target])
            .arg(corpus_dir(target))
            .arg(fuzz_dir.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={secs}"))
            .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
            .arg("-timeout=20")
            .status()
            .with_context(|| format!("running cargo fuzz run {target}"))?;
        if !status.success() {
            eprintln!("xtask: fuzz target {target} crashed; input in fuzz/artifacts/{target}/");
            failed.push(target.clone());
        }
    }
    if !failed.is_empty() {
        bail!("fuzz targets crashed: {failed:?}");
    }
    println!(
        "xtask: {} fuzz targets ran {secs} s each without a crash",
        targets.len()
    );
    Ok(())
}

/// The working corpus of `target` (git-ignored).
fn corpus_dir(target: &str) -> PathBuf {
    root().join("fuzz/corpus").join(target)
}

/// Writes seeds made from the test fixtures into each target's corpus. The
/// fixtures are `target/test-fixtures` (written by `cargo test`), or are
/// generated into `target/fuzz-fixtures` if that is missing.
pub fn seed() -> Result<()> {
    let fixtures = fixtures()?;
    for target in TARGETS {
        std::fs::create_dir_all(corpus_dir(target))?;
        std::fs::create_dir_all(root().join("fuzz/seeds").join(target))?;
    }
    let mut count = 0usize;
    // The fixtures, and the damaged files the error tests use.
    let mut entries: Vec<PathBuf> = Vec::new();
    for dir in [fixtures.clone(), fixtures.join("bad")] {
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        entries.extend(listing.filter_map(|e| e.ok().map(|e| e.path())));
    }
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let size = std::fs::metadata(&path).map_or(u64::MAX, |m| m.len());
        if size > MAX_SEED_BYTES {
            continue;
        }
        let target = if name.ends_with(".lindi.json") {
            "lindi_json"
        } else if name.ends_with(".lindi.tar") {
            "lindi_tar"
        } else if name.ends_with(".h5") || name.ends_with(".nwb") || name.ends_with(".hdf5") {
            "hdf5"
        } else {
            continue;
        };
        let bytes = std::fs::read(&path)?;
        write_seed(target, name, &bytes)?;
        count += 1;
        if target == "lindi_json" {
            count += seed_from_lindi(name, &bytes)?;
        }
    }
    count += seed_from_filter_chunks(&fixtures)?;
    // The consolidated metadata of the NWB-Zarr stores.
    for store in ["nwb_zarr.nwb.zarr", "nwb_zarr_pickle.nwb.zarr"] {
        if let Ok(bytes) = std::fs::read(fixtures.join(store).join(".zmetadata")) {
            write_seed("zarr_store", store, &bytes)?;
            count += 1;
        }
    }
    println!(
        "xtask: {count} fuzz seeds from {} in fuzz/corpus/",
        fixtures.display()
    );
    Ok(())
}

fn write_seed(target: &str, name: &str, bytes: &[u8]) -> Result<()> {
    let path = corpus_dir(target).join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Seeds for `hdf5_filters`: the first chunk of every dataset of
/// `filters.h5` (one plugin filter each), after its selector byte and
/// filter parameters, as `filters.chunks.json` lists them.
fn seed_from_filter_chunks(fixtures: &Path) -> Result<usize> {
    let (Ok(list), Ok(file)) = (
        std::fs::read(fixtures.join("filters.chunks.json")),
        std::fs::read(fixtures.join("filters.h5")),
    ) else {
        return Ok(0);
    };
    let list: Json = serde_json::from_slice(&list)?;
    let mut count = 0;
    for (path, entry) in list.as_object().into_iter().flatten() {
        let filters = entry["filters"].as_array().cloned().unwrap_or_default();
        // The plugin is the last filter applied, so the first one undone.
        let Some(plugin) = filters.last() else {
            continue;
        };
        let selector: u8 = match plugin[0].as_u64() {
            Some(32001) => 0,
            Some(32015) => 1,
            Some(32004) => 2,
            Some(32008) => 3,
            Some(32000) => 4,
            Some(307) => 5,
            _ => continue,
        };
        let Some(chunk) = entry["chunks"].as_array().and_then(|c| c.first()) else {
            continue;
        };
        let (Some(at), Some(size)) = (chunk[0].as_u64(), chunk[1].as_u64()) else {
            continue;
        };
        let (Ok(at), Ok(size)) = (usize::try_from(at), usize::try_from(size)) else {
            continue;
        };
        let Some(stored) = file.get(at..at.saturating_add(size)) else {
            continue;
        };
        let mut seed = vec![selector];
        let params = plugin[1].as_array().cloned().unwrap_or_default();
        for i in 0..5 {
            let value = params
                .get(i)
                .and_then(Json::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0);
            seed.extend_from_slice(&value.to_le_bytes());
        }
        seed.extend_from_slice(stored);
        write_seed("hdf5_filters", &path.replace('/', "_"), &seed)?;
        count += 1;
    }
    Ok(count)
}

/// Seeds for `zarr_chunk` (`.zarray` + an inline chunk) and `blosc` (the
/// inline chunks compressed with Blosc) from one LINDI document.
fn seed_from_lindi(name: &str, bytes: &[u8]) -> Result<usize> {
    let Ok(doc) = serde_json::from_slice::<Json>(bytes) else {
        return Ok(0);
    };
    let Some(refs) = doc.get("refs").and_then(Json::as_object) else {
        return Ok(0);
    };
    let mut count = 0;
    for (key, value) in refs {
        let Some(array) = key.strip_suffix("/.zarray") else {
            continue;
        };
        let zarray = match value {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        };
        let Ok(meta) = serde_json::from_str::<Json>(&zarray) else {
            continue;
        };
        let rank = meta
            .get("shape")
            .and_then(Json::as_array)
            .map_or(0, Vec::len);
        let sep = match meta.get("dimension_separator").and_then(Json::as_str) {
            Some("/") => "/",
            _ => ".",
        };
        let chunk_key = if rank == 0 {
            format!("{array}/0")
        } else {
            format!("{array}/{}", vec!["0"; rank].join(sep))
        };
        let Some(Json::String(inline)) = refs.get(&chunk_key) else {
            continue;
        };
        let chunk = match inline.strip_prefix("base64:") {
            Some(data) => match base64_decode(data.trim()) {
                Some(b) => b,
                None => continue,
            },
            None => inline.clone().into_bytes(),
        };
        let Ok(len) = u16::try_from(zarray.len()) else {
            continue;
        };
        let seed_name = format!("{name}-{}", array.replace('/', "_"));
        let mut seed = len.to_le_bytes().to_vec();
        seed.extend_from_slice(zarray.as_bytes());
        seed.extend_from_slice(&chunk);
        write_seed("zarr_chunk", &seed_name, &seed)?;
        count += 1;
        let blosc = meta
            .get("compressor")
            .and_then(|c| c.get("id"))
            .and_then(Json::as_str)
            == Some("blosc");
        if blosc {
            write_seed("blosc", &seed_name, &chunk)?;
            count += 1;
        }
    }
    Ok(count)
}

/// Standard base64 (with padding), `None` if malformed.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let text = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for group in text.chunks(4) {
        let mut n = 0u32;
        for (i, c) in group.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        match group.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

/// The fixture directory to seed from.
fn fixtures() -> Result<PathBuf> {
    let tests = root().join("target/test-fixtures");
    if tests.join(".stamp").exists() {
        return Ok(tests);
    }
    let dir = root().join("target/fuzz-fixtures");
    if dir.join(".done").exists() {
        return Ok(dir);
    }
    let python = crate::python::ensure()?;
    let _ = std::fs::remove_dir_all(&dir);
    let status = Command::new(&python)
        .arg(root().join("tests/fixtures/generate.py"))
        .arg(&dir)
        .status()
        .context("running tests/fixtures/generate.py")?;
    if !status.success() {
        bail!("the fixture generator failed");
    }
    std::fs::write(dir.join(".done"), "")?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round() {
        assert_eq!(
            base64_decode("AQACAA==").as_deref(),
            Some(&[1u8, 0, 2, 0][..])
        );
        assert_eq!(base64_decode("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
        assert!(base64_decode("!!").is_none());
    }
}
