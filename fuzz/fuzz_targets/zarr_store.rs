//! A Zarr store's consolidated `.zmetadata` (hdmf-zarr's conventions:
//! `zarr_link`, references, `zarr_dtype`): open, walk, read a small
//! selection of each dataset. Every chunk key reads the input itself, so
//! chunk data comes from the fuzzer too.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ns_io::{Bytes, ReadKey};

/// `.zmetadata` is the input; every other key is the input too.
struct Keys(Bytes);

impl ReadKey for Keys {
    fn get(&self, _key: &str, max_bytes: u64) -> ns_io::Result<Option<Bytes>> {
        if self.0.len() as u64 > max_bytes {
            return Err(ns_io::too_large("fuzz", self.0.len() as u64, max_bytes));
        }
        Ok(Some(self.0.clone()))
    }

    fn describe(&self) -> String {
        "fuzz.zarr".into()
    }
}

fuzz_target!(|data: &[u8]| {
    let options = ns_zarr::OpenOptions {
        max_read_bytes: neurosift_fuzz::options().max_read_bytes,
        threads: 1,
        prefetch_scalars: true,
    };
    let keys = Arc::new(Keys(Bytes::copy_from_slice(data)));
    if let Ok(file) = ns_zarr::ZarrFile::open(keys, options) {
        neurosift_fuzz::exercise(&file);
    }
});
