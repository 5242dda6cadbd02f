//! An HDF5 file from memory: open, walk, read a small selection of each
//! dataset; then the same behind a page cache holding only the file's
//! start (what the path read-ahead meets on a remote file).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = neurosift_fuzz::source(data, "fuzz.h5");
    if let Ok(file) = ns_hdf5::H5File::open(source, neurosift_fuzz::options()) {
        neurosift_fuzz::exercise(&file);
    }
    let source = neurosift_fuzz::cached_source(data, "fuzz.h5");
    if let Ok(file) = ns_hdf5::H5File::open(source, neurosift_fuzz::options()) {
        neurosift_fuzz::exercise(&file);
    }
});
