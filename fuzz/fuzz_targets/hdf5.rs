//! An HDF5 file from memory: open, walk, read a small selection of each dataset.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = neurosift_fuzz::source(data, "fuzz.h5");
    if let Ok(file) = ns_hdf5::H5File::open(source, neurosift_fuzz::options()) {
        neurosift_fuzz::exercise(&file);
    }
});
