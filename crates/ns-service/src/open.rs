//! Opening a file of any supported format from its bytes.

use ns_io::DynSource;
use ns_model::ObjectStore;
use ns_protocol::WorkerError;

use crate::error::{io_error, model_error};

/// Limits of one open file.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Largest selection (in bytes) one read may allocate.
    pub max_read_bytes: usize,
    /// Objects described (or chunks decoded) at once.
    pub threads: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        let h5 = ns_hdf5::OpenOptions::default();
        Self {
            max_read_bytes: h5.max_read_bytes,
            threads: h5.threads,
        }
    }
}

/// Opens `source` as a LINDI reference file (`.lindi.json`, `.lindi.tar`:
/// told apart by their first bytes), whose chunk references are read
/// through `open_reference`, or else as an HDF5 file.
///
/// # Errors
/// When the bytes cannot be read or are neither format.
pub fn open_store(
    source: DynSource,
    open_reference: impl Fn(&str) -> ns_io::Result<DynSource> + Send + Sync + 'static,
    options: ReadOptions,
) -> Result<Box<dyn ObjectStore>, WorkerError> {
    let head = source
        .read_range(0..source.len().min(512))
        .map_err(|e| io_error(&e))?;
    let options = ns_hdf5::OpenOptions {
        max_read_bytes: options.max_read_bytes,
        threads: options.threads,
    };
    if ns_lindi::detect(&head).is_some() {
        let lindi = ns_lindi::LindiFile::open_source(source, open_reference, options)
            .map_err(|e| model_error(&e.into()))?;
        return Ok(Box::new(lindi));
    }
    let h5 = ns_hdf5::H5File::open(source, options).map_err(|e| model_error(&e.into()))?;
    Ok(Box::new(h5))
}

/// Opens a Zarr store (NWB as hdmf-zarr writes it) through its key-value
/// source: a directory, or `<url>/<key>` over HTTP.
///
/// # Errors
/// When its metadata cannot be read or it is not a Zarr v2 hierarchy.
pub fn open_zarr(
    keys: ns_io::DynKeys,
    options: ReadOptions,
) -> Result<Box<dyn ObjectStore>, WorkerError> {
    let options = ns_zarr::OpenOptions {
        max_read_bytes: options.max_read_bytes,
        threads: options.threads,
        ..Default::default()
    };
    let zarr = ns_zarr::ZarrFile::open(keys, options).map_err(|e| model_error(&e.into()))?;
    Ok(Box::new(zarr))
}

/// Whether a location names a Zarr store rather than a file: a URL or path
/// ending in `.zarr` (or `.zarr/`), or a URL of a folder inside a `zarr/`
/// folder (DANDI's Zarr assets are `…/zarr/<id>/`). A query or fragment is
/// not part of it. Local directories are told apart by the file system instead.
pub fn looks_like_zarr(location: &str) -> bool {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let path = &location[..end];
    if path
        .trim_end_matches('/')
        .to_ascii_lowercase()
        .ends_with(".zarr")
    {
        return true;
    }
    // A folder of a `zarr/` folder on a server (DANDI's bucket keeps its
    // Zarr assets as `…/zarr/<id>/`). Not any folder URL: DANDI's download
    // URLs of files end in `/download/`.
    path.split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .is_some_and(|(_, path)| {
            path.ends_with('/') && (path.starts_with("zarr/") || path.contains("/zarr/"))
        })
}

#[cfg(test)]
mod tests {
    use super::looks_like_zarr;

    #[test]
    fn zarr_locations() {
        for yes in [
            "x.nwb.zarr",
            "/data/x.nwb.zarr/",
            "https://h/a/x.nwb.zarr",
            "https://h/a/x.ZARR/?sig=1",
            "https://dandiarchive.s3.amazonaws.com/zarr/0a1b/",
        ] {
            assert!(looks_like_zarr(yes), "{yes}");
        }
        for no in [
            "x.nwb",
            "https://h/a/x.nwb",
            "https://h/",
            "https://h",
            "https://h/x.nwb?u=a.zarr",
            "https://api.dandiarchive.org/api/assets/1/download/",
            "https://h/zarr/x.nwb",
            "dir/",
        ] {
            assert!(!looks_like_zarr(no), "{no}");
        }
    }
}
