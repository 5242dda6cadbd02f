//! One chunk through one of ns-codecs' HDF5 plugin decoders, with a 1 MiB
//! bound on its output. Input: a selector byte (0 Blosc, 1 Zstd, 2 LZ4,
//! 3 Bitshuffle, 4 LZF, 5 BZip2), five u32 LE filter parameters (client
//! data; Bitshuffle reads them), then the stored chunk.
#![no_main]

use libfuzzer_sys::fuzz_target;

const BOUND: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if data.len() < 21 {
        return;
    }
    let params: Vec<u32> = data[1..21]
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let chunk = &data[21..];
    let out = match data[0] % 6 {
        0 => ns_codecs::blosc::decompress(chunk, BOUND),
        1 => ns_codecs::zstd(chunk, BOUND),
        2 => ns_codecs::lz4::hdf5_filter(chunk, BOUND),
        3 => ns_codecs::bitshuffle::hdf5_filter(chunk, &params, usize::from(data[1] % 17), BOUND),
        4 => ns_codecs::lzf::decompress(chunk, BOUND),
        _ => ns_codecs::bzip2(chunk, BOUND),
    };
    if let Ok(out) = out {
        assert!(out.len() <= BOUND, "a decoder gave more than the bound");
    }
});
