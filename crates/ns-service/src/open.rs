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
/// through `open_reference`, or else as an HDF5 file, whose virtual
/// datasets read the source files next to it through `open_reference`.
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
        ..ns_hdf5::OpenOptions::default()
    };
    if ns_lindi::detect(&head).is_some() {
        let lindi = ns_lindi::LindiFile::open_source(source, open_reference, options)
            .map_err(|e| model_error(&e.into()))?;
        return Ok(Box::new(lindi));
    }
    // Virtual datasets read their source files through the same opener.
    let h5 = ns_hdf5::H5File::open(source, options)
        .map_err(|e| model_error(&e.into()))?
        .with_opener(open_reference);
    Ok(Box::new(h5))
}

/// Opens a Zarr store (NWB as hdmf-zarr writes it) through its key-value
/// source: a directory, or `<url>/<key>` over HTTP.
///
/// # Errors
/// When its metadata cannot be read or it is not a Zarr v2 hierarchy.
///
/// `prefetch_scalars`: fetch every 1-element array (the session's fields,
/// the specifications) in one batch when opening; worth it where the
/// source overlaps requests (natively), not with one request at a time.
pub fn open_zarr(
    keys: ns_io::DynKeys,
    options: ReadOptions,
    prefetch_scalars: bool,
) -> Result<Box<dyn ObjectStore>, WorkerError> {
    let options = ns_zarr::OpenOptions {
        max_read_bytes: options.max_read_bytes,
        threads: options.threads,
        prefetch_scalars,
    };
    let zarr = ns_zarr::ZarrFile::open(keys, options).map_err(|e| model_error(&e.into()))?;
    Ok(Box::new(zarr))
}
