//! The one check of an answer to an HTTP Range request, shared by every
//! HTTP source (native `ureq`, the worker's XHR, the app's size probe).
//!
//! A Range answer is trusted only when its status, its `Content-Range`
//! (start, end, total) and its body length all agree with what was asked.
//! A server that ignores `Range` (200 with the whole file) is refused before
//! its body is read, so a multi-gigabyte file is never pulled whole.

use std::ops::Range;

use crate::{Error, Result};

/// A parsed `Content-Range` header value (RFC 9110 §14.4), for bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes a-b/total` or `bytes a-b/*`: the body holds bytes
    /// `range` (end exclusive) of a file of `total_bytes` (unknown for `*`).
    Span {
        range: Range<u64>,
        total_bytes: Option<u64>,
    },
    /// `bytes */total`: sent with 416; the file has `total_bytes` bytes.
    Unsatisfied { total_bytes: u64 },
}

/// Parses a `Content-Range` value strictly: `bytes a-b/total`, `bytes a-b/*`
/// or `bytes */total`, with decimal digits only (no sign, no inner spaces),
/// `a <= b`, `b < total`, and no number above `u64::MAX`. Surrounding
/// whitespace is ignored; the unit is matched without regard to case.
pub fn parse_content_range(value: &str) -> Option<ContentRange> {
    let value = value.trim_matches([' ', '\t']);
    let unit = value.get(..6)?;
    if !unit.eq_ignore_ascii_case("bytes ") {
        return None;
    }
    let rest = value.get(6..)?;
    let (span, total) = rest.split_once('/')?;
    let total_bytes = if total == "*" {
        None
    } else {
        Some(parse_digits(total)?)
    };
    if span == "*" {
        return Some(ContentRange::Unsatisfied {
            total_bytes: total_bytes?,
        });
    }
    let (first, last) = span.split_once('-')?;
    let first = parse_digits(first)?;
    let last = parse_digits(last)?;
    if first > last || total_bytes.is_some_and(|total| last >= total) {
        return None;
    }
    Some(ContentRange::Span {
        range: first..last.checked_add(1)?,
        total_bytes,
    })
}

/// A non-empty run of ASCII digits as a `u64` (`str::parse` alone would
/// accept a leading `+`).
fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What a Range request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b`: the bytes `range` (end exclusive, never empty). A server
    /// may answer with fewer when the file ends first.
    Span(Range<u64>),
    /// `bytes=a-`: from `a` to the end of the file.
    From(u64),
    /// `bytes=-n`: the last `n` bytes (fewer when the file is shorter; 0
    /// counts as 1: `bytes=-0` is not a valid request).
    Suffix(u64),
}

impl RangeRequest {
    /// A request for `range`, or `None` when it is empty (nothing to ask).
    pub fn span(range: Range<u64>) -> Option<Self> {
        (range.start < range.end).then_some(Self::Span(range))
    }

    /// The value of the `Range` header.
    pub fn header_value(&self) -> String {
        match self {
            Self::Span(range) => format!(
                "bytes={}-{}",
                range.start,
                range.end.saturating_sub(1).max(range.start)
            ),
            Self::From(start) => format!("bytes={start}-"),
            Self::Suffix(n) => format!("bytes=-{}", (*n).max(1)),
        }
    }

    fn starts_at_zero(&self) -> bool {
        match self {
            Self::Span(range) => range.start == 0,
            Self::From(start) => *start == 0,
            Self::Suffix(_) => true,
        }
    }
}

/// The head of an answer to a Range request: what is known before its body
/// is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseHead<'a> {
    pub status: u16,
    /// The `Content-Range` header, when present (and visible).
    pub content_range: Option<&'a str>,
    /// The `Content-Length` header, or the length of a body already read.
    pub content_length: Option<u64>,
    /// The answer was read by a browser script, which sees `Content-Range`
    /// only when the server exposes it (CORS; S3 does not): a 206 without it
    /// is then checked by its length alone.
    pub content_range_may_be_hidden: bool,
}

/// What a valid answer holds: the bytes `range` of the file (the body has
/// exactly that many bytes) and the file's length when the answer tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub range: Range<u64>,
    pub total_bytes: Option<u64>,
}

impl Expected {
    /// Length the body must have.
    pub fn body_bytes(&self) -> u64 {
        self.range.end - self.range.start
    }

    /// Checks the length of the body actually read (`Truncated` or
    /// `Overlong` otherwise).
    pub fn check_body(&self, url: &str, got_bytes: u64) -> Result<()> {
        let expected = self.body_bytes();
        if got_bytes < expected {
            return Err(Error::Truncated {
                url: url.to_string(),
                expected,
                got: got_bytes,
            });
        }
        if got_bytes > expected {
            return Err(Error::Overlong {
                url: url.to_string(),
                expected,
                got: got_bytes,
            });
        }
        Ok(())
    }
}

/// Decides whether the answer `head` to `request` for `url` can be used,
/// before its body is read. `known_len` is the file's length when already
/// known (a different total means the file changed).
///
/// - 206: `Content-Range` must be readable and start where asked, end where
///   asked (or at the end of the file), and give the same total as before;
///   `Content-Length`, when given, must agree with it.
/// - 200: the server ignored `Range`; accepted only when the whole file is
///   no longer than what was asked from byte 0, else [`Error::NotPartial`].
/// - 416: an empty file for a request from byte 0, else
///   [`Error::Unsatisfiable`].
/// - anything else: [`Error::HttpStatus`].
pub fn check_range_response(
    url: &str,
    request: &RangeRequest,
    head: &ResponseHead<'_>,
    known_len: Option<u64>,
) -> Result<Expected> {
    let expected = match head.status {
        206 => check_partial(url, request, head, known_len)?,
        200 => check_whole(url, request, head, known_len)?,
        416 => check_unsatisfiable(url, request, head, known_len)?,
        status => {
            return Err(Error::HttpStatus {
                url: url.to_string(),
                status,
            });
        }
    };
    // (A 416's body is an error page, not bytes of the file.)
    if let Some(length) = head.content_length
        && head.status != 416
        && length != expected.body_bytes()
    {
        return Err(Error::ContentRangeMismatch {
            url: url.to_string(),
            requested: request.header_value(),
            content_range: format!(
                "{} (with Content-Length {length})",
                head.content_range.unwrap_or("no Content-Range")
            ),
        });
    }
    Ok(expected)
}

fn check_partial(
    url: &str,
    request: &RangeRequest,
    head: &ResponseHead<'_>,
    known_len: Option<u64>,
) -> Result<Expected> {
    let mismatch = |content_range: &str| Error::ContentRangeMismatch {
        url: url.to_string(),
        requested: request.header_value(),
        content_range: content_range.to_string(),
    };
    let Some(value) = head.content_range else {
        if !head.content_range_may_be_hidden {
            return Err(Error::BadContentRange {
                url: url.to_string(),
                value: None,
            });
        }
        return expected_without_content_range(url, request, head, known_len);
    };
    let Some(ContentRange::Span { range, total_bytes }) = parse_content_range(value) else {
        return Err(Error::BadContentRange {
            url: url.to_string(),
            value: Some(value.to_string()),
        });
    };
    if let (Some(total), Some(known)) = (total_bytes, known_len)
        && total != known
    {
        return Err(Error::SizeChanged {
            url: url.to_string(),
            expected: known,
            got: total,
        });
    }
    let total = total_bytes.or(known_len);
    let ok = match request {
        RangeRequest::Span(want) => {
            range.start == want.start
                && total.is_none_or(|t| range.end <= t)
                && (range.end == want.end
                    || (range.end < want.end && total.is_some_and(|t| range.end == t)))
        }
        RangeRequest::From(start) => range.start == *start && total.is_none_or(|t| range.end == t),
        RangeRequest::Suffix(n) => match total {
            Some(t) => range.end == t && range.start == t.saturating_sub((*n).max(1)),
            None => false,
        },
    };
    if !ok {
        return Err(mismatch(value));
    }
    Ok(Expected {
        range,
        total_bytes: total,
    })
}

/// A 206 whose `Content-Range` a browser hid: what the request and the
/// known length imply (a From(0) answer's length is the file's).
fn expected_without_content_range(
    url: &str,
    request: &RangeRequest,
    head: &ResponseHead<'_>,
    known_len: Option<u64>,
) -> Result<Expected> {
    let unknown = || Error::BadContentRange {
        url: url.to_string(),
        value: None,
    };
    match request {
        RangeRequest::Span(want) => {
            let end = known_len.map_or(want.end, |len| want.end.min(len));
            if end <= want.start {
                return Err(Error::Unsatisfiable {
                    url: url.to_string(),
                    requested: request.header_value(),
                    total_bytes: known_len,
                });
            }
            Ok(Expected {
                range: want.start..end,
                total_bytes: known_len,
            })
        }
        RangeRequest::From(start) => {
            let length = head.content_length.ok_or_else(unknown)?;
            let end = start.checked_add(length).ok_or_else(unknown)?;
            if let Some(known) = known_len
                && known != end
            {
                return Err(Error::SizeChanged {
                    url: url.to_string(),
                    expected: known,
                    got: end,
                });
            }
            Ok(Expected {
                range: *start..end,
                total_bytes: Some(end),
            })
        }
        RangeRequest::Suffix(n) => {
            let len = known_len.ok_or_else(unknown)?;
            Ok(Expected {
                range: len.saturating_sub((*n).max(1))..len,
                total_bytes: Some(len),
            })
        }
    }
}

fn check_whole(
    url: &str,
    request: &RangeRequest,
    head: &ResponseHead<'_>,
    known_len: Option<u64>,
) -> Result<Expected> {
    let not_partial = || Error::NotPartial {
        url: url.to_string(),
    };
    // Only a file no longer than a span asked from byte 0 may come whole.
    let RangeRequest::Span(want) = request else {
        return Err(not_partial());
    };
    let Some(length) = head.content_length else {
        return Err(not_partial());
    };
    if want.start != 0 || length > want.end || known_len.is_some_and(|k| k != length) {
        return Err(not_partial());
    }
    Ok(Expected {
        range: 0..length,
        total_bytes: Some(length),
    })
}

fn check_unsatisfiable(
    url: &str,
    request: &RangeRequest,
    head: &ResponseHead<'_>,
    known_len: Option<u64>,
) -> Result<Expected> {
    let total_bytes = match head.content_range {
        Some(value) => match parse_content_range(value) {
            Some(ContentRange::Unsatisfied { total_bytes }) => Some(total_bytes),
            _ => {
                return Err(Error::BadContentRange {
                    url: url.to_string(),
                    value: Some(value.to_string()),
                });
            }
        },
        None => None,
    };
    // Any range from byte 0 fails only on an empty file.
    let empty = request.starts_at_zero()
        && total_bytes.is_none_or(|t| t == 0)
        && known_len.is_none_or(|k| k == 0);
    if empty {
        return Ok(Expected {
            range: 0..0,
            total_bytes: Some(0),
        });
    }
    Err(Error::Unsatisfiable {
        url: url.to_string(),
        requested: request.header_value(),
        total_bytes: total_bytes.or(known_len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(range: Range<u64>, total_bytes: Option<u64>) -> Option<ContentRange> {
        Some(ContentRange::Span { range, total_bytes })
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range("bytes 0-99/1000"),
            span(0..100, Some(1000))
        );
        assert_eq!(parse_content_range("bytes 5-5/*"), span(5..6, None));
        assert_eq!(
            parse_content_range("bytes */1000"),
            Some(ContentRange::Unsatisfied { total_bytes: 1000 })
        );
        assert_eq!(
            parse_content_range("  BYTES 0-0/1 "),
            span(0..1, Some(1)),
            "unit without case, outer whitespace"
        );
        assert_eq!(
            parse_content_range(&format!("bytes 0-{}/*", u64::MAX - 1)),
            span(0..u64::MAX, None)
        );
    }

    #[test]
    fn content_range_refuses_hostile_values() {
        let max = u64::MAX;
        for bad in [
            "",
            "bytes",
            "bytes ",
            "bytes 5-4/1000",
            "bytes 0-1000/1000",
            "bytes 0-0/0",
            "bytes */*",
            "bytes *-5/10",
            "bytes -5/10",
            "bytes 5-/10",
            "bytes 0-1/2/3",
            "bytes +0-1/2",
            "bytes 0-+1/2",
            "bytes 0-1/+2",
            "bytes -0-1/2",
            "bytes 0 -1/2",
            "bytes 0- 1/2",
            "bytes 0-1 /2",
            "bytes 0-1/ 2",
            "bytes  0-1/2",
            "bytes\t0-1/2",
            "bytes=0-1/2",
            "bytes0-1/2",
            "items 0-1/2",
            "bytes 0x0-1/2",
            "bytes 0-1/2e3",
            "bytes 0-1/18446744073709551616",
            "bytes 18446744073709551616-1/2",
            "bytes 0-99999999999999999999999999/*",
            "bytes ０-1/2",
            "bytes 0-1/2,3-4/5",
            "bÿtes 0-1/2",
            "é",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad:?}");
        }
        // `last + 1` would overflow.
        assert_eq!(parse_content_range(&format!("bytes 0-{max}/*")), None);
        assert_eq!(parse_content_range(&format!("bytes {max}-{max}/*")), None);
        assert_eq!(parse_content_range(&format!("bytes 0-{max}/{max}")), None);
    }

    #[test]
    fn range_header_values() {
        assert_eq!(
            RangeRequest::span(10..20).map(|r| r.header_value()),
            Some("bytes=10-19".into())
        );
        assert_eq!(RangeRequest::span(5..5), None);
        assert_eq!(RangeRequest::From(7).header_value(), "bytes=7-");
        assert_eq!(RangeRequest::Suffix(9).header_value(), "bytes=-9");
    }

    const URL: &str = "http://h/f.nwb";

    fn head(status: u16, content_range: Option<&str>, length: Option<u64>) -> ResponseHead<'_> {
        ResponseHead {
            status,
            content_range,
            content_length: length,
            content_range_may_be_hidden: false,
        }
    }

    fn check(
        request: RangeRequest,
        head: ResponseHead<'_>,
        known_len: Option<u64>,
    ) -> Result<Expected> {
        check_range_response(URL, &request, &head, known_len)
    }

    fn expected(range: Range<u64>, total: Option<u64>) -> Expected {
        Expected {
            range,
            total_bytes: total,
        }
    }

    #[test]
    fn partial_answers_that_match() {
        let r = RangeRequest::Span(100..200);
        let cr = Some("bytes 100-199/1000");
        assert_eq!(
            check(r.clone(), head(206, cr, Some(100)), Some(1000)).ok(),
            Some(expected(100..200, Some(1000)))
        );
        // Clipped at the end of the file (a probe longer than the file).
        assert_eq!(
            check(
                RangeRequest::Span(0..4096),
                head(206, Some("bytes 0-999/1000"), None),
                None
            )
            .ok(),
            Some(expected(0..1000, Some(1000)))
        );
        assert_eq!(
            check(
                RangeRequest::Suffix(300),
                head(206, Some("bytes 700-999/1000"), None),
                None
            )
            .ok(),
            Some(expected(700..1000, Some(1000)))
        );
        assert_eq!(
            check(
                RangeRequest::Suffix(5000),
                head(206, Some("bytes 0-999/1000"), None),
                None
            )
            .ok(),
            Some(expected(0..1000, Some(1000)))
        );
        assert_eq!(
            check(
                RangeRequest::From(0),
                head(206, Some("bytes 0-999/1000"), None),
                None
            )
            .ok(),
            Some(expected(0..1000, Some(1000)))
        );
        assert_eq!(
            check(
                r.clone(),
                head(206, Some("bytes 100-199/*"), None),
                Some(1000)
            )
            .ok(),
            Some(expected(100..200, Some(1000)))
        );
        let ok = check(r, head(206, cr, None), None).expect("ok");
        assert!(ok.check_body(URL, 100).is_ok());
        assert!(matches!(
            ok.check_body(URL, 99),
            Err(Error::Truncated {
                expected: 100,
                got: 99,
                ..
            })
        ));
        assert!(matches!(
            ok.check_body(URL, 101),
            Err(Error::Overlong { .. })
        ));
    }

    #[test]
    fn partial_answers_that_do_not_match() {
        let r = RangeRequest::Span(100..200);
        let cases: [(Option<&str>, Option<u64>, Option<u64>); 9] = [
            (Some("bytes 101-199/1000"), None, None),
            (Some("bytes 100-198/1000"), None, None),
            (Some("bytes 100-200/1000"), None, None),
            // Shorter, but not because the file ends there.
            (Some("bytes 100-149/1000"), None, None),
            (Some("bytes 100-149/*"), None, None),
            // Content-Length disagrees with Content-Range.
            (Some("bytes 100-199/1000"), Some(99), None),
            (Some("bytes 100-199/1000"), Some(1000), None),
            (Some("bytes 0-999/1000"), None, None),
            // Past the end of the file as known.
            (Some("bytes 100-199/*"), None, Some(150)),
        ];
        for (cr, length, known) in cases {
            let got = check(r.clone(), head(206, cr, length), known);
            assert!(
                matches!(got, Err(Error::ContentRangeMismatch { .. })),
                "{cr:?} {length:?} {known:?}: {got:?}"
            );
        }
        let got = check(
            r.clone(),
            head(206, Some("bytes 100-199/2000"), None),
            Some(1000),
        );
        assert!(matches!(
            got,
            Err(Error::SizeChanged {
                expected: 1000,
                got: 2000,
                ..
            })
        ));
        for cr in [None, Some("bytes 100-199"), Some("nonsense")] {
            let got = check(r.clone(), head(206, cr, None), None);
            assert!(
                matches!(got, Err(Error::BadContentRange { .. })),
                "{cr:?}: {got:?}"
            );
        }
        let got = check(
            RangeRequest::Suffix(10),
            head(206, Some("bytes 0-9/1000"), None),
            None,
        );
        assert!(matches!(got, Err(Error::ContentRangeMismatch { .. })));
        let got = check(
            RangeRequest::Suffix(10),
            head(206, Some("bytes 990-999/*"), None),
            None,
        );
        assert!(matches!(got, Err(Error::ContentRangeMismatch { .. })));
    }

    #[test]
    fn whole_file_answers() {
        // The server ignores Range: refused, unless the whole file was asked for.
        let got = check(
            RangeRequest::Span(0..100),
            head(200, None, Some(10_000)),
            None,
        );
        assert!(matches!(got, Err(Error::NotPartial { .. })));
        let message = got.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(URL) && message.contains("ignored the Range header"));
        for (request, length) in [
            (RangeRequest::Span(100..200), Some(50)),
            (RangeRequest::Span(0..100), None),
            (RangeRequest::From(0), Some(50)),
            (RangeRequest::Suffix(100), Some(50)),
        ] {
            let got = check(request, head(200, None, length), None);
            assert!(matches!(got, Err(Error::NotPartial { .. })), "{got:?}");
        }
        assert_eq!(
            check(RangeRequest::Span(0..100), head(200, None, Some(60)), None).ok(),
            Some(expected(0..60, Some(60)))
        );
        let got = check(
            RangeRequest::Span(0..100),
            head(200, None, Some(60)),
            Some(70),
        );
        assert!(matches!(got, Err(Error::NotPartial { .. })));
    }

    #[test]
    fn unsatisfiable_answers() {
        assert_eq!(
            check(
                RangeRequest::Span(0..100),
                head(416, Some("bytes */0"), None),
                None
            )
            .ok(),
            Some(expected(0..0, Some(0)))
        );
        assert_eq!(
            check(RangeRequest::Suffix(100), head(416, None, None), None).ok(),
            Some(expected(0..0, Some(0)))
        );
        for (request, cr) in [
            (RangeRequest::Span(2000..2100), Some("bytes */1000")),
            (RangeRequest::Span(0..100), Some("bytes */1000")),
            (RangeRequest::From(5), None),
        ] {
            let got = check(request, head(416, cr, None), None);
            assert!(
                matches!(got, Err(Error::Unsatisfiable { .. })),
                "{cr:?}: {got:?}"
            );
        }
        let got = check(
            RangeRequest::Span(0..100),
            head(416, Some("bytes 0-1/2"), None),
            None,
        );
        assert!(matches!(got, Err(Error::BadContentRange { .. })));
    }

    #[test]
    fn other_statuses_name_the_url() {
        for status in [301, 404, 403, 500, 0] {
            let got = check(RangeRequest::Span(0..1), head(status, None, None), None);
            assert!(matches!(got, Err(Error::HttpStatus { status: s, .. }) if s == status));
            let message = got.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.starts_with(URL), "{message}");
        }
    }

    #[test]
    fn hidden_content_range_in_browsers() {
        let hidden = |status, length| ResponseHead {
            status,
            content_range: None,
            content_length: length,
            content_range_may_be_hidden: true,
        };
        assert_eq!(
            check(
                RangeRequest::Span(100..200),
                hidden(206, Some(100)),
                Some(1000)
            )
            .ok(),
            Some(expected(100..200, Some(1000)))
        );
        assert_eq!(
            check(RangeRequest::Span(900..1100), hidden(206, None), Some(1000)).ok(),
            Some(expected(900..1000, Some(1000)))
        );
        assert_eq!(
            check(RangeRequest::Span(0..1), hidden(206, Some(1)), None).ok(),
            Some(expected(0..1, None)),
            "the size stays unknown"
        );
        assert_eq!(
            check(RangeRequest::From(0), hidden(206, Some(5000)), None).ok(),
            Some(expected(0..5000, Some(5000))),
            "the probe's `bytes=0-` learns the size from Content-Length"
        );
        let got = check(
            RangeRequest::Span(100..200),
            hidden(206, Some(50)),
            Some(1000),
        );
        assert!(matches!(got, Err(Error::ContentRangeMismatch { .. })));
        let got = check(RangeRequest::From(0), hidden(206, None), None);
        assert!(matches!(got, Err(Error::BadContentRange { .. })));
        let got = check(RangeRequest::From(0), hidden(206, Some(5000)), Some(4000));
        assert!(matches!(got, Err(Error::SizeChanged { .. })));
        let got = check(RangeRequest::From(u64::MAX), hidden(206, Some(2)), None);
        assert!(got.is_err());
    }
}
