//! HTTP range parsing, both sides: the client's `Content-Range` check
//! (ns-io-native) and the range server's `Range` header. The first 8 bytes
//! are the file size the server answers for; the rest is the header text.
//!
//! TODO(after the merge of the strict Content-Range parser into ns-io):
//! point the Content-Range half at that parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((total, text)) = data.split_first_chunk::<8>() else {
        return;
    };
    let total = u64::from_le_bytes(*total);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if let Some((start, end, len)) = ns_io_native::fuzzing::parse_content_range(text) {
        assert!(
            start <= end && end < len,
            "{text:?} gave {start}-{end}/{len}"
        );
    }
    if let Some((first, last)) = range_server::fuzzing::parse_range(Some(text), total) {
        assert!(
            first <= last && last < total,
            "{text:?} of {total} gave {first}-{last}"
        );
    }
});
