//! HTTP range parsing, both sides: the client's strict `Content-Range`
//! parser (`ns_io::parse_content_range`, used by every HTTP source) and the
//! server's `Range` header parser (`ns_serve::RangeRequest`, used by the
//! launcher and the test server). The first 8 bytes are the file size the
//! server answers for; the rest is the header text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ns_io::ContentRange;
use ns_serve::RangeRequest;

fuzz_target!(|data: &[u8]| {
    let Some((total, text)) = data.split_first_chunk::<8>() else {
        return;
    };
    let total = u64::from_le_bytes(*total);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    match ns_io::parse_content_range(text) {
        Some(ContentRange::Span { range, total_bytes }) => {
            assert!(range.start < range.end, "{text:?} gave {range:?}");
            if let Some(t) = total_bytes {
                assert!(range.end <= t, "{text:?} gave {range:?} of {t}");
            }
        }
        Some(ContentRange::Unsatisfied { .. }) | None => {}
    }
    if let RangeRequest::Partial {
        first_byte,
        last_byte,
    } = RangeRequest::parse(text, total)
    {
        assert!(
            first_byte <= last_byte && last_byte < total,
            "{text:?} of {total} gave {first_byte}-{last_byte}"
        );
    }
});
