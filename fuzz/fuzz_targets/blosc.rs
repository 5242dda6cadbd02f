//! One Blosc buffer, decompressed with a 1 MiB bound on its output.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(out) = ns_codecs::blosc::decompress(data, 1 << 20) {
        assert!(out.len() <= 1 << 20, "blosc gave more than the bound");
    }
});
