//! A `.zarray` and one stored chunk: the input is a little-endian u16 length,
//! that many bytes of `.zarray` JSON, then the chunk. Decoded through the
//! array's codecs into elements (or, for `|O`, through its object codec).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len));
    let Some((zarray, chunk)) = rest.split_at_checked(len) else {
        return;
    };
    let _ = ns_zarr::fuzzing::zarr_chunk(zarray, chunk, 16 << 20);
});
