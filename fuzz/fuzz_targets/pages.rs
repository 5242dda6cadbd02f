//! The page format that travels between the app and the worker: decoding
//! never panics, and what decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(pages) = ns_protocol::decode_pages(data) {
        let again = ns_protocol::encode_pages(pages.iter().map(|(o, b)| (*o, *b)));
        assert_eq!(again, data, "pages do not round-trip");
    }
});
